"""Deliver issued reports to officers by e-mail, through Airflow's SMTP provider.

Who gets what is configuration (config/recipients.yaml, or env TCD_RECIPIENTS_FILE),
validated by :func:`load_recipients`. :func:`deliver` reads a period's manifest
(reports/publish.py), picks for every recipient the latest issue of each report that
passes the recipient's filters, and sends one e-mail per recipient — Vietnamese
subject and body (period, files with their SHA-256, data cut-off, what changed in an
updated issue), the workbooks attached — with
:class:`airflow.providers.smtp.hooks.smtp.SmtpHook` on connection ``smtp_default``
(or env ``TCD_SMTP_CONN_ID``). The connection may come from anywhere Airflow looks,
including an ``AIRFLOW_CONN_<ID>`` environment variable in JSON form, which needs no
metadata database.

Every attempt is recorded in ``<period folder>/deliveries.json`` (recipient address,
files with version and checksum, time, status, reason). A report version already sent
to an address is not sent to it again, so deliver() can be re-run (a retried task, a
new recipient added, a report re-issued): only what someone has not yet received
goes out. A recipient whose delivery fails does not stop the others; the result says
why, in terms a person can act on.

Nothing of Airflow is imported until a mail is actually sent.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator, model_validator

from core import connections, environment, settings, yaml_files
from core.dates import utc_now_iso
from core.files import atomic_write_bytes, sha256_file
from core.levels import LEVEL_NAMES, Level
from core.settings import Settings
from reports import publish

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = environment.Environment.model_fields["smtp_conn_id"].default
CONN_ID_ENV = environment.env_name("smtp_conn_id")
RECIPIENTS_ENV = environment.env_name("recipients_file")
DEFAULT_RECIPIENTS = environment.DEFAULT_RECIPIENTS
DELIVERIES_NAME = "deliveries.json"
_LOCK_NAME = ".deliveries.lock"

QUARTERS = ("Q1", "Q2", "Q3", "Q4")

LEVEL_LABELS = {**{lv: name.capitalize() for lv, name in LEVEL_NAMES.items()}, publish.SUMMARY_LEVEL: "Tổng hợp"}
VIEW_LABELS = {
    "as_recorded": "Theo đơn vị tại thời điểm ghi nhận",
    "remapped": "Quy đổi theo đơn vị hành chính hiện hành",
    "consolidated": "Tổng hợp cả đơn vị trực thuộc",
    "own": "Số liệu của riêng đơn vị",
}


class RecipientsConfigError(ValueError):
    """config/recipients.yaml is missing or invalid; the message lists every problem."""


class DeliveryError(RuntimeError):
    """Raised by deliver(raise_on_failure=True) after all recipients were tried."""


# ------------------------------------------------------------------ configuration
def _code_list(values: list[str], what: str) -> list[str]:
    values = [str(v).strip() for v in values]
    if not values:
        raise ValueError(f"{what} is empty; list values or [\"*\"] for all")
    if "*" in values and len(values) > 1:
        raise ValueError(f"{what}: \"*\" means all and must stand alone")
    if len(set(values)) != len(values):
        raise ValueError(f"{what} lists a value twice")
    return values


def _norm_form(code: str) -> str:
    return str(code).strip().upper().replace("-", "/")


class Recipient(BaseModel):
    """An officer (by role and office) and the reports they receive."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=3, description="role and office, e.g. Chuyên viên thống kê, Thanh tra …")
    email: EmailStr
    units: list[str]
    levels: list[Literal[Level, "tong-hop", "*"]]
    forms: list[str] = ["*"]
    periods: list[Literal["Q", "Q1", "Q2", "Q3", "Q4", "H1", "M9", "Y", "custom", "summary", "*"]] = ["*"]
    views: list[str] = ["*"]
    # Preliminary issues (bản sơ bộ, before the units' deadline) go only to those who
    # check them; the province's recipients get the official issue.
    preliminary: bool = False

    @field_validator("units", mode="before")
    @classmethod
    def _units_are_text(cls, v: Any) -> Any:
        # YAML reads 001 as the number 1: the code's leading zeros are lost.
        if isinstance(v, list) and (numbers := [u for u in v if isinstance(u, (int, float))]):
            raise ValueError(f"units {numbers} are numbers: unit codes must be quoted in YAML "
                             "(\"001\", not 001, which reads as 1)")
        return v

    @field_validator("units")
    @classmethod
    def _units(cls, v: list[str]) -> list[str]:
        v = _code_list(v, "units")
        bad = [u for u in v if u != "*" and not (u.isdigit() and 2 <= len(u) <= 5)]
        if bad:
            raise ValueError(f"units {bad}: unit codes are 2 (tỉnh), 3 (huyện) or 5 (xã) digits, "
                             "quoted in YAML (\"001\", not 001)")
        return v

    @field_validator("levels", "periods")
    @classmethod
    def _lists(cls, v: list[str], info) -> list[str]:
        return _code_list(v, info.field_name)

    @field_validator("forms")
    @classmethod
    def _forms(cls, v: list[str]) -> list[str]:
        v = _code_list(v, "forms")
        for f in v:
            if f != "*":
                publish.form_slug(f)  # raises ValueError with the rule
        return v

    @field_validator("views")
    @classmethod
    def _views(cls, v: list[str]) -> list[str]:
        v = _code_list(v, "views")
        bad = [x for x in v if x != "*" and not publish.VIEW_PATTERN.match(x)]
        if bad:
            raise ValueError(f"views {bad}: lower-case names such as as_recorded, remapped, consolidated")
        return v

    @property
    def address(self) -> str:
        return str(self.email).lower()

    def wants(self, entry: publish.ManifestEntry, period_kind: str | None) -> bool:
        """Whether the report of `entry` (of a period of kind `period_kind`) is for this
        recipient: it must pass every filter."""
        def ok(values: Sequence[str], value: str) -> bool:
            return "*" in values or value in values

        if not (ok(self.units, entry.unit_code) and ok(self.levels, entry.level) and ok(self.views, entry.view)):
            return False
        if entry.issue_kind == "preliminary" and not self.preliminary:
            return False
        if "*" not in self.forms and _norm_form(entry.form) not in {_norm_form(f) for f in self.forms}:
            return False
        kind = period_kind or ("custom" if ".." in entry.period else entry.period.rsplit("-", 1)[-1])
        return ("*" in self.periods or kind in self.periods or ("Q" in self.periods and kind in QUARTERS)
                or ("summary" in self.periods and entry.is_summary))


class Sender(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    from_email: EmailStr | None = None
    reply_to: EmailStr | None = None
    subject_prefix: str = "[Báo cáo TCD-XLĐ]"


class RecipientsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender: Sender = Sender()
    recipients: list[Recipient]

    @model_validator(mode="after")
    def _unique_addresses(self) -> RecipientsConfig:
        seen: dict[str, int] = {}
        for i, r in enumerate(self.recipients):
            if r.address in seen:
                raise ValueError(f"recipients[{seen[r.address]}] and recipients[{i}] share the address "
                                 f"{r.address}: merge them into one entry (deliveries are recorded per address)")
            seen[r.address] = i
        return self


def _describe(err: ValidationError, data: Any) -> str:
    lines = []
    for e in err.errors():
        loc = e.get("loc", ())
        where = ""
        for part in loc:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        if len(loc) >= 2 and loc[0] == "recipients" and isinstance(loc[1], int):
            try:
                where += f" ({data['recipients'][loc[1]]['name']})"
            except (KeyError, IndexError, TypeError):
                pass
        msg = e.get("msg", "")
        if e.get("type") == "literal_error":
            msg += f", got {e.get('input')!r}"
        lines.append(f"  - {where or 'file'}: {msg}")
    return "\n".join(lines)


def parse_recipients(data: Any, *, source: str = "recipients") -> RecipientsConfig:
    """Validate recipients given as data (the YAML's structure)."""
    try:
        return RecipientsConfig.model_validate(data)
    except ValidationError as err:
        raise RecipientsConfigError(f"{source}: invalid recipients configuration:\n{_describe(err, data)}") from None


def load_recipients(path: str | os.PathLike) -> RecipientsConfig:
    """Read and validate the recipients file `path` (config/recipients.yaml, or env
    TCD_RECIPIENTS_FILE: ``settings.env.recipients_file``)."""
    path = Path(path)
    if not path.is_file():
        raise RecipientsConfigError(f"recipients file {path} does not exist "
                                    f"(set {RECIPIENTS_ENV} or create config/recipients.yaml)")
    try:
        data = yaml_files.load_yaml(path)
    except yaml_files.ConfigError as err:
        raise RecipientsConfigError(str(err)) from None
    return parse_recipients(data, source=str(path))


def _as_config(recipients: Any, default_path: Path) -> RecipientsConfig:
    if recipients is None:
        return load_recipients(default_path)
    if isinstance(recipients, RecipientsConfig):
        return recipients
    if isinstance(recipients, (str, os.PathLike)):
        return load_recipients(recipients)
    if isinstance(recipients, Mapping):
        return parse_recipients(recipients)
    items = [r.model_dump() if isinstance(r, Recipient) else r for r in recipients]
    return parse_recipients({"recipients": items})


# ------------------------------------------------------------------ delivery log
def _load_log(folder: Path, period_key: str) -> dict[str, Any]:
    path = folder / DELIVERIES_NAME
    if not path.exists():
        return {"period": period_key, "deliveries": []}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_deliveries(period_key: str, root: str | os.PathLike) -> list[dict[str, Any]]:
    """Every delivery attempt recorded for a period, oldest first."""
    return _load_log(publish.period_dir(period_key, root), period_key)["deliveries"]


def _append_log(folder: Path, period_key: str, record: dict[str, Any]) -> None:
    # Each attempt is written as soon as it is known: a crash after a send must not
    # make the next run send the same files again.
    book = _load_log(folder, period_key)
    book["deliveries"].append(record)
    data = json.dumps(book, ensure_ascii=False, indent=2, default=str) + "\n"
    atomic_write_bytes(folder / DELIVERIES_NAME, data.encode("utf-8"))


def _sent_already(book: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["email"].lower(), f["path"], f["sha256"])
            for d in book.get("deliveries", []) if d.get("status") == "sent" for f in d.get("files", [])}


# ------------------------------------------------------------------ the message
def _fmt_day(iso: str | None) -> str:
    if not iso:
        return "—"
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _fmt_cutoff(iso: str | None) -> str:
    if not iso:
        return "không ghi nhận"
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if len(iso) == 10:
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y %H:%M") + (f" ({value.tzname()})" if value.tzinfo else "")


def _file_info(entry: publish.ManifestEntry) -> dict[str, Any]:
    return {"path": entry.path, "sha256": entry.sha256, "size": entry.size, "version": entry.version,
            "form": entry.form, "form_version": entry.form_version, "level": entry.level,
            "unit_code": entry.unit_code, "view": entry.view, "data_cutoff": entry.data_cutoff}


def subject_for(manifest: publish.Manifest, entries: Sequence[publish.ManifestEntry], prefix: str) -> str:
    label = manifest.period_label or manifest.period
    updated = " (có bản cập nhật)" if any(e.version > 1 for e in entries) else ""
    # Form codes repeat across circulars (02/XLD of TT 01/2024 and of TT 06/2025): the
    # subject names the circular the files follow.
    circulars = sorted({e.circular for e in entries if e.circular})
    basis = f" theo {', '.join(circulars)}" if circulars else ""
    return (f"{prefix} Báo cáo thống kê tiếp công dân, xử lý đơn – {label}{basis}: "
            f"{len(entries)} tệp{updated}").strip()


def body_for(recipient: Recipient, manifest: publish.Manifest, entries: Sequence[publish.ManifestEntry]) -> str:
    """The HTML body (Vietnamese): the period, one line per file with its checksum and
    cut-off, and for an updated issue the cells that changed."""
    esc = html.escape
    label = manifest.period_label or manifest.period
    cutoffs = sorted({e.data_cutoff for e in entries if e.data_cutoff})
    rows = []
    for e in entries:
        name = Path(e.path).name
        issue_text = f"Lần {e.version}" + (" (bản cập nhật)" if e.version > 1 else "")
        rows.append(
            "<tr>" + "".join(f"<td>{esc(str(x))}</td>" for x in (
                e.form, e.unit_code, LEVEL_LABELS.get(e.level, e.level), VIEW_LABELS.get(e.view, e.view),
                issue_text, _fmt_cutoff(e.data_cutoff), name)) + f"<td><code>{esc(e.sha256)}</code></td></tr>")
    updates = []
    for e in entries:
        if e.version > 1 and e.supersedes:
            shown = "".join(f"<li>{esc(publish.change_text(ch))}</li>" for ch in e.changes[:10])
            more = (f"<li>… và {e.changes_total - min(10, len(e.changes))} ô khác (xem manifest.csv)</li>"
                    if e.changes_total > min(10, len(e.changes)) else "")
            updates.append(f"<p>Tệp <b>{esc(Path(e.path).name)}</b> thay thế tệp "
                           f"<b>{esc(Path(e.supersedes).name)}</b> đã ban hành trước đó; "
                           f"{e.changes_total} ô số liệu thay đổi:</p><ul>{shown}{more}</ul>")
    head = ("<tr>" + "".join(f"<th>{h}</th>" for h in (
        "Biểu", "Mã đơn vị", "Cấp", "Cách tổng hợp", "Lần ban hành", "Chốt số liệu", "Tệp", "Mã SHA-256")) + "</tr>")
    return (
        "<html><body style=\"font-family: 'Times New Roman', serif\">"
        f"<p>Kính gửi: {esc(recipient.name)},</p>"
        f"<p>Hệ thống báo cáo thống kê công tác tiếp công dân, xử lý đơn gửi kèm thư này "
        f"{len(entries)} tệp báo cáo kỳ <b>{esc(label)}</b> "
        f"(số liệu từ ngày {_fmt_day(manifest.date_from)} đến ngày {_fmt_day(manifest.date_to)}).</p>"
        f"<p>Thời điểm chốt số liệu: {esc(', '.join(_fmt_cutoff(c) for c in cutoffs) or 'không ghi nhận')}.</p>"
        f"<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\">{head}{''.join(rows)}</table>"
        + "".join(updates) +
        "<p>Để kiểm tra tệp nhận được đúng là tệp đã ban hành, so sánh mã SHA-256 của tệp "
        "(Windows: <code>certutil -hashfile &lt;tệp&gt; SHA256</code>) với mã trong bảng trên "
        "và trong tệp manifest.csv của kỳ báo cáo.</p>"
        "<p>Đây là thư gửi tự động; khi cần trao đổi, vui lòng liên hệ bộ phận thống kê.</p>"
        "</body></html>")


# ------------------------------------------------------------------ sending
def _explain(exc: BaseException, conn_id: str, recipient: Recipient, env: environment.Environment) -> str:
    """A reason a person can act on, for an exception raised while sending."""
    info = connections.connection(conn_id, env)
    server = f"{info.host}:{info.port}" if info and info.host else f"of connection '{conn_id}'"
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, msg = next(iter(exc.recipients.values()), (None, b""))
        msg = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        return (f"the mail server refused the address {recipient.address} ({code} {msg}); "
                f"correct the address of \"{recipient.name}\" in {env.recipients_file.name}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"the mail server {server} refused the login ({exc.smtp_code}); check the login and "
                f"password of Airflow connection '{conn_id}'")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"the mail server refused the sender address {exc.sender} ({exc.smtp_code}); set an address "
                f"the server accepts in sender.from_email or the connection's extra from_email")
    if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code == 552:
        return (f"the message is larger than the mail server accepts ({exc.smtp_code}); ask the mail "
                "administrator to raise the limit or narrow this recipient's filters")
    if isinstance(exc, (ssl.SSLError, smtplib.SMTPNotSupportedError)):
        return (f"TLS with the mail server {server} failed ({text}); set the connection's extras "
                "disable_ssl / disable_tls to what the server supports (SSL on port 465, STARTTLS on 587)")
    # smtplib's exceptions are OSErrors too: only the non-response ones mean "unreachable".
    unreachable = isinstance(exc, smtplib.SMTPConnectError) or (
        isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPResponseException))
    if unreachable or "Unable to connect" in str(exc):
        return (f"cannot reach the mail server {server} ({text}); check the host and port of Airflow "
                f"connection '{conn_id}' and that the server is running and reachable from this machine")
    if "connection is not found" in str(exc):
        return (f"Airflow connection '{conn_id}' is not defined; add it (Airflow UI, `airflow connections add`, "
                f"or env AIRFLOW_CONN_{conn_id.upper()}) or name another one with {CONN_ID_ENV}")
    if "from_email" in str(exc):
        return (f"no sender address: set sender.from_email in {env.recipients_file.name} or the extra "
                f"from_email of connection '{conn_id}'")
    return text[:500]


def _send(conn_id: str, sender: Sender, recipient: Recipient, subject: str, body: str,
          files: list[Path], period_key: str) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook  # noqa: PLC0415 - heavy, only when sending

    headers = {"X-TCD-Period": period_key}
    if sender.reply_to:
        headers["Reply-To"] = str(sender.reply_to)
    # One connection per recipient: a server that drops the session after an error
    # cannot take the following recipients down with it.
    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=[str(recipient.email)], subject=subject, html_content=body,
                             from_email=str(sender.from_email) if sender.from_email else None,
                             files=[str(f) for f in files], custom_headers=headers)


def deliver(period_key: str, cfg: Settings, *, conn_id: str | None = None, recipients: Any = None,
            root: str | os.PathLike | None = None, dry_run: bool = False,
            raise_on_failure: bool = False) -> list[dict[str, Any]]:
    """E-mail every recipient the latest issue of each report of the period meant for
    them that they have not received yet; one message per recipient.

    The defaults come from `cfg`: `recipients`: None (``cfg.env.recipients_file``:
    config/recipients.yaml or TCD_RECIPIENTS_FILE), a path, a RecipientsConfig, its dict
    form, or a list of recipients. `conn_id`: the Airflow SMTP connection (default
    ``cfg.env.smtp_conn_id``: env TCD_SMTP_CONN_ID, else ``smtp_default``). `root`: the
    report tree (default ``cfg.paths.reports``). `dry_run`:
    decide and build the messages but neither connect nor record anything.

    Returns one dict per recipient: ``recipient`` (name), ``email``, ``status``
    (``sent`` | ``up_to_date`` — all meant for them already received | ``no_reports``
    — nothing in the period passes their filters | ``failed`` | ``dry_run``),
    ``files`` (path, sha256, version, form, unit, level, view of what was or would be
    sent), ``reason`` (why it failed, else None) and ``at``. With `raise_on_failure`,
    a DeliveryError listing the failures is raised after every recipient was tried.
    """
    config = _as_config(recipients, cfg.env.recipients_file)
    conn_id = conn_id or cfg.env.smtp_conn_id
    root = root if root is not None else cfg.path("reports")
    manifest = publish.load_manifest(period_key, root)
    folder = publish.period_dir(manifest.period, root)
    latest = manifest.latest()
    results: list[dict[str, Any]] = []

    with publish.locked(folder / _LOCK_NAME):
        sent = _sent_already(_load_log(folder, manifest.period))
        for r in config.recipients:
            result: dict[str, Any] = {"recipient": r.name, "email": r.address, "status": None, "files": [],
                                      "reason": None, "at": utc_now_iso()}
            results.append(result)
            meant = [e for e in latest if r.wants(e, manifest.period_kind)]
            pending = [e for e in meant if (r.address, e.path, e.sha256) not in sent]
            result["files"] = [_file_info(e) for e in pending]
            if not meant:
                result["status"] = "no_reports"
                continue
            if not pending:
                result["status"] = "up_to_date"
                continue
            problem = _check_files(pending, folder)
            if dry_run:
                result["status"], result["reason"] = "dry_run", problem
                continue
            if problem is None:
                subject = subject_for(manifest, pending, config.sender.subject_prefix)
                try:
                    _send(conn_id, config.sender, r, subject, body_for(r, manifest, pending),
                          [folder / e.path for e in pending], manifest.period)
                except Exception as exc:  # noqa: BLE001 - one recipient's failure must not stop the others
                    problem = _explain(exc, conn_id, r, cfg.env)
                    log.warning("delivery of %s to %s failed: %s (%s: %s)", manifest.period, r.address, problem,
                                type(exc).__name__, exc)
            result["status"] = "failed" if problem else "sent"
            result["reason"] = problem
            result["at"] = utc_now_iso()
            _append_log(folder, manifest.period, {**result, "conn_id": conn_id,
                                                  **({"subject": subject} if not problem else {})})
            if not problem:
                sent.update((r.address, e.path, e.sha256) for e in pending)
                log.info("sent %d report(s) of %s to %s", len(pending), manifest.period, r.address)

    failures = [x for x in results if x["status"] == "failed"]
    if failures and raise_on_failure:
        raise DeliveryError(f"{len(failures)} of {len(results)} recipient(s) not served for {manifest.period}: "
                            + "; ".join(f"{x['email']}: {x['reason']}" for x in failures))
    return results


def _check_files(entries: Iterable[publish.ManifestEntry], folder: Path) -> str | None:
    """None when every file exists with the manifest's checksum, else why not: a
    changed or missing file is never sent as if it were the issued one."""
    for e in entries:
        path = folder / e.path
        if not path.is_file():
            return (f"issued file {e.path} is missing from {folder}; restore it from backup or issue the "
                    "report again")
        if sha256_file(path) != e.sha256:
            return (f"issued file {e.path} was changed after it was issued (its SHA-256 differs from the "
                    "manifest); restore the issued file or issue the report again")
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="E-mail a period's issued reports to their recipients.")
    ap.add_argument("period", help="period key, e.g. 2025-Q3 or 2021-07-01..2025-02-28")
    ap.add_argument("--conn-id", default=None, help=f"Airflow SMTP connection (default ${CONN_ID_ENV} or "
                                                   f"{DEFAULT_CONN_ID})")
    ap.add_argument("--recipients", default=None, help="recipients YAML (default config/recipients.yaml)")
    ap.add_argument("--dry-run", action="store_true", help="show what would be sent; send nothing")
    args = ap.parse_args(argv)
    try:
        results = deliver(args.period, settings.get(), conn_id=args.conn_id, recipients=args.recipients,
                          dry_run=args.dry_run)
    except (FileNotFoundError, RecipientsConfigError) as err:
        print(err)
        return 2
    for x in results:
        files = ", ".join(Path(f["path"]).name for f in x["files"]) or "-"
        print(f"{x['status']:11} {x['email']:40} {files}" + (f"\n            {x['reason']}" if x["reason"] else ""))
    return 1 if any(x["status"] == "failed" for x in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
