"""Configuration read once (core/settings.py, from the declarations of
core/environment.py and core/config_schema.py; files read by core/yaml_files.py,
secrets by core/connections.py): every environment variable declared and documented,
the YAML validated key by key, the environment over the YAML, the cache, secrets kept
out of sight, constants written once."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from core import config_schema, connections, dates, environment, settings, settings_doc, yaml_files

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("core", "warehouse", "connectors", "transforms", "reports", "delivery", "pipeline", "dags")
DOC = ROOT / "docs" / "configuration.md"
# A TCD_ name standing alone: not the tail of AIRFLOW_CONN_TCD_CITY_API, not 01-TCD_01.
ENV_NAME = re.compile(r"(?<![A-Za-z0-9_])TCD_[A-Z][A-Z0-9_]*")


def _files() -> list[Path]:
    files = [p for pkg in SHIPPED for p in sorted((ROOT / pkg).rglob("*.py"))]
    files += sorted((ROOT / "scripts").glob("*.sh")) + sorted((ROOT / "config").glob("*.yaml"))
    files += [ROOT / "Makefile", ROOT / "docker-compose.yaml", ROOT / "expectations" / "gx" / "great_expectations.yml"]
    return files


def _names_used() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for path in _files():
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return used


def _copy_config(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------ (a) every name declared and documented
def test_every_tcd_variable_is_declared_and_documented():
    declared = set(environment.ENV_NAMES)
    used = _names_used()
    assert len(used) >= 15, f"the scan found too few names to be looking in the right places: {sorted(used)}"
    prefixes = {n for n in used if n.endswith("_")}          # TCD_PATH_<KEY> in a comment
    undeclared = {n: sorted(where) for n, where in used.items()
                  if n not in prefixes and n not in declared}
    assert not undeclared, f"TCD_* variables used but not declared in core.environment.Environment: {undeclared}"
    for p in prefixes:
        assert any(n.startswith(p) for n in declared), f"no declared variable starts with {p}"
    doc = DOC.read_text(encoding="utf-8")
    undocumented = sorted(n for n in declared if f"`{n}`" not in doc)
    assert not undocumented, f"declared but not in docs/configuration.md: {undocumented}"


def test_the_generated_reference_is_current():
    doc = DOC.read_text(encoding="utf-8")
    assert settings_doc.doc_tables() in doc, \
        "docs/configuration.md is out of date: run `python -m core.settings_doc --write`"


def test_every_setting_says_what_it_does():
    missing = [f"Environment.{n}" for n, f in environment.Environment.model_fields.items() if not f.description]

    def walk(model, prefix):
        for name, f in model.model_fields.items():
            ann = f.annotation
            item = (getattr(ann, "__args__", None) or (None,))[-1]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                walk(ann, f"{prefix}{name}.")
            else:
                if not f.description:
                    missing.append(f"{prefix}{name}")
                if isinstance(item, type) and issubclass(item, BaseModel):
                    walk(item, f"{prefix}{name}[].")

    walk(config_schema.PipelineConfig, "")
    assert not missing, f"settings without a description (docs/configuration.md would be blank): {missing}"


def test_no_shipped_module_reads_a_tcd_variable_itself():
    direct = re.compile(r"(os\.environ|getenv)[^\n]*TCD_")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for pkg in SHIPPED for p in (ROOT / pkg).rglob("*.py")
                 if p != ROOT / "core" / "environment.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if direct.search(line)]
    assert not offenders, f"read TCD_* through core.settings (core.environment), not os.environ: {offenders}"


def test_the_scripts_defaults_are_the_declared_ones():
    fields = environment.Environment.model_fields
    by_name = {f.validation_alias: f for f in fields.values()}
    found = 0
    for path in [*(ROOT / "scripts").glob("*.sh"), ROOT / "docker-compose.yaml"]:
        for name, default in re.findall(r"\$\{(TCD_[A-Z0-9_]+):-([^}$]*)\}", path.read_text(encoding="utf-8")):
            found += 1
            assert str(by_name[name].default) == default, f"{path.name}: {name} defaults to {default}, " \
                                                         f"core.environment to {by_name[name].default}"
    assert found >= 3


# ------------------------------------------------------------------ (b) a wrong YAML names its key
def test_a_misspelt_key_is_named(tmp_path, monkeypatch):
    def typo(d):
        d["sources"]["city_service"]["page_sise"] = d["sources"]["city_service"].pop("page_size")

    monkeypatch.setenv("TCD_CONFIG", str(_copy_config(tmp_path, typo)))
    with pytest.raises(yaml_files.ConfigError) as err:
        settings.get()
    text = str(err.value)
    assert "sources.city_service.page_sise: unknown key" in text
    assert "sources.city_service.page_size: missing" in text
    assert str(tmp_path / "pipeline.yaml") in text


def test_a_wrong_type_is_named(tmp_path, monkeypatch):
    def wrong(d):
        d["outliers"]["min_history"] = "four"
        d["regimes"][2]["in_force_from"] = "30/09/2025"
        d["sources"]["qlkntc_workbooks"]["levels"] = ["tinh", "phuong"]

    monkeypatch.setenv("TCD_CONFIG", str(_copy_config(tmp_path, wrong)))
    with pytest.raises(yaml_files.ConfigError) as err:
        settings.get()
    text = str(err.value)
    assert "outliers.min_history: Input should be a valid integer" in text and "'four'" in text
    assert "regimes[2] (TT06_2025).in_force_from:" in text
    assert "sources.qlkntc_workbooks.levels[1]:" in text and "'phuong'" in text


@pytest.mark.parametrize("change, message", [
    (lambda d: d["regimes"][1].update(id=d["regimes"][0]["id"]), "(top level): regimes: ids repeat: ['TT02_2021', "),
    (lambda d: d["series"].update(start="2019-12-31"), "series: start is before data_from"),
    (lambda d: d["periods"]["kinds"]["Q2"].update(end=[0, 6, 15]), "periods: kinds ['Q2'] do not end on cutoff_day 14"),
    (lambda d: d["regimes"][2]["deadlines"]["units"].update(days_after_cutoff=3),
     "regimes[2] (TT06_2025).deadlines.units: give exactly one of day, days_after_cutoff"),
    (lambda d: d["sources"]["commune_registers"].update(file_name_pattern="^(?P<unit_code>"),
     "sources.commune_registers.file_name_pattern: not a regular expression"),
], ids=["regime-ids", "series-order", "cutoff", "deadline", "pattern"])
def test_rules_across_keys_are_checked(tmp_path, monkeypatch, change, message):
    monkeypatch.setenv("TCD_CONFIG", str(_copy_config(tmp_path, change)))
    with pytest.raises(yaml_files.ConfigError) as err:
        settings.get()
    assert message in str(err.value)


def test_a_bad_variable_is_named(monkeypatch):
    monkeypatch.setenv("TCD_TASK_RETRIES", "twice")
    with pytest.raises(yaml_files.ConfigError, match="TCD_TASK_RETRIES"):
        settings.get()


def test_a_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("TCD_CONFIG", str(tmp_path / "none.yaml"))
    with pytest.raises(yaml_files.ConfigError, match="none.yaml: file not found"):
        settings.get()


# ------------------------------------------------------------------ (c) the environment wins
def test_an_environment_override_wins_over_the_yaml(tmp_path, monkeypatch):
    shipped = settings.get()
    assert shipped.paths.reports == "output/reports"
    assert settings.path_setting("reports") == settings.home() / "output" / "reports"
    monkeypatch.setenv("TCD_PATH_REPORTS", str(tmp_path / "published"))
    monkeypatch.setenv("TCD_COMMUNE_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("TCD_CITY_API_URL", "https://tcd.example.gov.vn")
    monkeypatch.setenv("TCD_TASK_RETRIES", "0")
    s = settings.get()
    assert settings.path_setting("reports") == tmp_path / "published"
    assert s.sources.commune_registers.default_path == str(tmp_path / "inbox")
    assert s.sources.city_service.default_url == "https://tcd.example.gov.vn"
    assert s.env.task_retries == 0
    assert settings.config()["paths"]["reports"] == str(tmp_path / "published")
    monkeypatch.setenv("TCD_PATH_REPORTS", "")                 # empty counts as unset
    assert settings.get().paths.reports == "output/reports"


def test_home_resolves_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("TCD_HOME", str(tmp_path))
    monkeypatch.delenv("TCD_PATH_DATA_QUALITY", raising=False)
    assert settings.path_setting("data_quality") == tmp_path / "output" / "data_quality"
    assert settings.resolve("/abs/x") == Path("/abs/x")


# ------------------------------------------------------------------ loaded once
def test_loaded_once_per_state_of_environment_and_file(tmp_path, monkeypatch):
    first = settings.get()
    assert settings.get() is first
    monkeypatch.setenv("TCD_DISTRICT_CODES", "001, 002,")
    second = settings.get()
    assert second is not first and second.env.district_code_list == ["001", "002"]
    assert settings.get() is second
    path = _copy_config(tmp_path, lambda d: None)
    monkeypatch.setenv("TCD_CONFIG", str(path))
    third = settings.get()
    assert third.config_file == path and third.outliers.min_history == first.outliers.min_history
    path.write_text(path.read_text(encoding="utf-8").replace("min_history: 4", "min_history: 6"), encoding="utf-8")
    assert settings.reload().outliers.min_history == 6


# ------------------------------------------------------------------ secrets
def test_secrets_come_from_the_connection_or_the_environment_and_are_never_shown(monkeypatch):
    key = "k" * 20 + "-not-shown-anywhere"
    monkeypatch.setenv("TCD_PSEUDONYM_KEY", key)
    monkeypatch.delenv("AIRFLOW_CONN_TCD_PSEUDONYM_KEY", raising=False)
    s = settings.get()
    assert connections.secret("tcd_pseudonym_key", "TCD_PSEUDONYM_KEY", settings.get().env) == key
    assert connections.secret("tcd_pseudonym_key", "pseudonym_key", settings.get().env) == key
    assert key not in repr(s) and key not in str(s.env) and key not in str(settings.config())
    monkeypatch.setenv("AIRFLOW_CONN_TCD_PSEUDONYM_KEY", '{"conn_type": "generic", "password": "from-airflow-0123456"}')
    assert connections.secret("tcd_pseudonym_key", "pseudonym_key", settings.get().env) == "from-airflow-0123456"
    assert "from-airflow" not in repr(connections.connection("tcd_pseudonym_key", settings.get().env))
    with pytest.raises(KeyError, match="not a secret declared"):
        connections.secret("tcd_pseudonym_key", "TCD_SOMETHING_ELSE", settings.get().env)
    monkeypatch.delenv("AIRFLOW_CONN_TCD_PSEUDONYM_KEY")
    monkeypatch.delenv("TCD_PSEUDONYM_KEY")
    with pytest.raises(RuntimeError, match="connection 'tcd_pseudonym_key'.*TCD_PSEUDONYM_KEY"):
        connections.secret("tcd_pseudonym_key", "pseudonym_key", settings.get().env)


def test_warehouse_url_from_connection_env_or_sqlite(tmp_path, monkeypatch):
    monkeypatch.delenv("TCD_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("TCD_PATH_WAREHOUSE_SQLITE", str(tmp_path / "wh" / "w.sqlite"))
    assert connections.warehouse_url(settings.get()) == f"sqlite:///{tmp_path / 'wh' / 'w.sqlite'}"
    monkeypatch.setenv("TCD_WAREHOUSE_URL", "postgresql+psycopg2://u:pw@db/tcd")
    assert connections.warehouse_url(settings.get()) == "postgresql+psycopg2://u:pw@db/tcd"
    monkeypatch.setenv("AIRFLOW_CONN_TCD_WAREHOUSE", '{"conn_type": "generic", "extra": {"url": "sqlite:///x.db"}}')
    assert connections.warehouse_url(settings.get()) == "sqlite:///x.db"


# ------------------------------------------------------------------ constants written once
def _shipped_sources():
    for pkg in SHIPPED:
        for p in (ROOT / pkg).rglob("*.py"):
            yield p, p.read_text(encoding="utf-8")


def test_the_level_list_is_written_once():
    listed = re.compile(r"""["']tinh["']\s*(?::\s*\d+\s*)?,\s*["']huyen["']""")     # a list, or an order
    where = [str(p.relative_to(ROOT)) for p, text in _shipped_sources()
             if p != ROOT / "core" / "levels.py" and listed.search(text)]
    assert not where, f"import the levels from core.levels: {where}"


def test_the_timezone_is_written_once():
    literal = re.compile(r"""["']Asia/Ho_Chi_Minh["']""")
    where = [str(p.relative_to(ROOT)) for p, text in _shipped_sources()
             if p != ROOT / "core" / "dates.py" and literal.search(text)]
    assert not where, f"import TIMEZONE from core.dates: {where}"
    for path in [ROOT / "scripts" / "env.sh", ROOT / "scripts" / "demo.sh", ROOT / "docker-compose.yaml"]:
        zones = set(re.findall(r"\b(?:Asia|Europe|America|UTC)[A-Za-z_/]*", path.read_text(encoding="utf-8")))
        assert zones == {dates.TIMEZONE}, f"{path.name} names {zones}, core.dates {dates.TIMEZONE}"


def test_the_series_dates_come_from_the_configuration():
    dated = re.compile(r"dt\.date\((?:2020, 1, 1|2021, 7, 1)\)|datetime\((?:2020, 1, 1|2021, 7, 1)\b")
    where = [str(p.relative_to(ROOT)) for p, text in _shipped_sources() if dated.search(text)]
    assert not where, f"read series.data_from / series.start from the settings: {where}"
    s = settings.get().series
    assert (s.data_from.isoformat(), s.start.isoformat()) == ("2020-01-01", "2021-07-01")


def test_one_yaml_reader():
    where = [str(p.relative_to(ROOT)) for p, text in _shipped_sources()
             if p != ROOT / "core" / "yaml_files.py" and re.search(r"yaml\.(safe_)?load\(", text)]
    assert not where, f"read YAML files with core.yaml_files.load_yaml: {where}"


# ------------------------------------------------------------------ code lists and field maps are data
def test_code_lists_are_data_and_validated():
    from pydantic import ValidationError

    from core import normalise

    assert normalise.KIND[normalise.fold("Khiếu nại")] == "KN" and normalise.YES_NO[""] == "no"
    good = yaml_files.load_yaml(normalise.CODES_FILE)
    # unquoted yes/no are booleans in YAML: refused, not silently turned into True/False
    with pytest.raises(ValidationError, match="yes_no"):
        normalise.CodeLists.model_validate({**good, "yes_no": yaml.safe_load("{yes: [x], no: ['']}")})
    with pytest.raises(ValidationError, match="'Thụ lý' is a spelling of both thu_ly and huong_dan"):
        normalise.CodeLists.model_validate({**good, "handling": {"thu_ly": ["Thụ lý"], "huong_dan": ["Thụ lý"]}})


def test_source_field_maps_are_data_and_validated(tmp_path):
    from connectors import district_db
    from transforms import canonical

    assert district_db.TABLES["don_thu"][0] == "petition" and "ngay_thi_hanh_xong" in district_db.OPTIONAL["don_thu"]
    progress = canonical.Rules.of(settings.get()).register_progress
    assert progress["outcome"] == "ket_qua"
    assert progress["outcome:label"] == "Kết quả giải quyết"   # the register's first header
    data = yaml_files.load_yaml(canonical.PROGRESS_FILE)
    del data["city_service"]["executed_date"]
    path = tmp_path / "progress_fields.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(yaml_files.ConfigError, match=r"city_service: missing fields \['executed_date'\]"):
        yaml_files.validate_yaml(canonical.ProgressFields, path)
    contract = yaml_files.load_yaml(district_db.CONTRACT_FILE)
    contract["tables"]["tiep_cong_dan"]["columns"].remove("ngay_cap_nhat")
    contract["tables"]["vu_viec"]["colums"] = []
    path = tmp_path / "district_db_columns.yaml"
    path.write_text(yaml.safe_dump(contract), encoding="utf-8")
    with pytest.raises(yaml_files.ConfigError) as err:
        yaml_files.validate_yaml(district_db.DistrictContract, path)
    assert "tables.vu_viec.colums: unknown key" in str(err.value)
    assert "tables.tiep_cong_dan: columns must include ['ngay_cap_nhat']" in str(err.value)
