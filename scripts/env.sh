# Sourced by the Makefile's recipes: the project-local Airflow and pipeline environment.
# Secrets for the demo are generated once into .airflow/secrets.env (git-ignored);
# for real sources, define Airflow connections instead (README).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TCD_HOME="$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
export AIRFLOW_HOME="$ROOT/.airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Ho_Chi_Minh
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=30
export AIRFLOW__LOGGING__LOGGING_LEVEL=${AIRFLOW__LOGGING__LOGGING_LEVEL:-INFO}
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export TCD_CITY_API_PORT="${TCD_CITY_API_PORT:-8765}"

mkdir -p "$AIRFLOW_HOME"
SECRETS="$AIRFLOW_HOME/secrets.env"
if [ ! -f "$SECRETS" ]; then
  umask 077
  {
    echo "TCD_PSEUDONYM_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    echo "TCD_CITY_API_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    echo "AIRFLOW__API_AUTH__JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
  } > "$SECRETS"
fi
set -a; . "$SECRETS"; set +a
# The simulated city service, as an Airflow connection given by environment variable.
export AIRFLOW_CONN_TCD_CITY_API="{\"conn_type\": \"http\", \"host\": \"127.0.0.1\", \"port\": $TCD_CITY_API_PORT, \"schema\": \"http\", \"password\": \"$TCD_CITY_API_TOKEN\"}"
# Outgoing e-mail (report delivery): Airflow's SMTP connection. The demo points it at a
# local SMTP sink (scripts/mail_sink.sh); a deployment defines smtp_default in Airflow.
export TCD_SMTP_PORT="${TCD_SMTP_PORT:-8025}"
if [ -z "${AIRFLOW_CONN_SMTP_DEFAULT:-}" ]; then
  export AIRFLOW_CONN_SMTP_DEFAULT="{\"conn_type\": \"smtp\", \"host\": \"127.0.0.1\", \"port\": $TCD_SMTP_PORT, \"extra\": {\"disable_tls\": true, \"disable_ssl\": true, \"from_email\": \"bao-cao-tcd@example.gov.vn\", \"retry_limit\": 1}}"
fi
