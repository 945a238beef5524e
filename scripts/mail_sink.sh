#!/usr/bin/env bash
# start|stop a local SMTP server (aiosmtpd) that stores every e-mail it receives in the
# Maildir output/mailbox/ — the demo's stand-in for the city's mail server, so that
# report delivery goes through Airflow's SMTP connection for real.
set -euo pipefail
. "$(dirname "$0")/env.sh"
PIDFILE="$ROOT/output/mail_sink.pid"
case "${1:-start}" in
  start)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then exit 0; fi
    # a Maildir: the handler needs its tmp/new/cur folders when the folder already exists
    mkdir -p "$ROOT/output/logs" "$ROOT/output/mailbox/tmp" "$ROOT/output/mailbox/new" "$ROOT/output/mailbox/cur"
    nohup python -m aiosmtpd -n -l "127.0.0.1:$TCD_SMTP_PORT" -c aiosmtpd.handlers.Mailbox \
      "$ROOT/output/mailbox" >"$ROOT/output/logs/mail_sink.log" 2>&1 &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 40); do
      if python -c "import socket; socket.create_connection(('127.0.0.1', $TCD_SMTP_PORT), 1)" 2>/dev/null; then exit 0; fi
      sleep 0.25
    done
    echo "mail sink did not start; see output/logs/mail_sink.log" >&2; exit 1 ;;
  stop)
    if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi ;;
esac
