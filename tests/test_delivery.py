"""E-mail delivery of issued reports, through Airflow's SmtpHook, to a real SMTP server
(aiosmtpd) on localhost; the connection comes from AIRFLOW_CONN_SMTP_DEFAULT (JSON)."""
from __future__ import annotations

import email
import hashlib
import json
import socket
from email import policy
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from openpyxl import Workbook

from core import settings
from core.files import sha256_file
from core.periods import period
from delivery import mail as delivery
from reports import publish

Q3 = period("Q3", 2025)
REFUSED = "khong-ton-tai@example.gov.vn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message; refuses the address REFUSED."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 <khong-ton-tai@example.gov.vn>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]


def _conn_json(port: int) -> str:
    # Plain SMTP on localhost: the provider's extras disable_ssl (SMTP_SSL) and
    # disable_tls (STARTTLS); retry_limit 0 so a refused address fails at once.
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 10,
                                 "from_email": "bao-cao-tcd@example.gov.vn"}})


@pytest.fixture()
def smtp(monkeypatch):
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _conn_json(port))
    monkeypatch.delenv("TCD_SMTP_CONN_ID", raising=False)
    box.port = port
    yield box
    controller.stop()


def _workbook(path: Path, number: int) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "01-TCD"
    ws.append(["Đơn vị", "Tổng số lượt"])
    ws.append(["MS", 1])
    ws.append(["Tổng cộng", number])
    wb.create_sheet("Thông tin").append(["Mã lần chạy (run id)", f"run-{number}"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _issue(root, tmp_path, level, unit, form="01/TCD", view="as_recorded", number=1, run="run-1"):
    staged = _workbook(tmp_path / "staging" / f"{level}-{unit}-{form.replace('/', '-')}-{view}-{number}.xlsx", number)
    return publish.issue(staged, period=Q3, level=level, unit_code=unit, form_code=form, form_version="TT02_2021",
                         view=view, run_id=run, data_cutoff="2025-09-14", root=root)


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "reports"
    e = {
        "city": _issue(root, tmp_path, "tinh", "01"),
        "city_remapped": _issue(root, tmp_path, "tinh", "01", view="remapped"),
        "district": _issue(root, tmp_path, "huyen", "001"),
        "commune_tcd": _issue(root, tmp_path, "xa", "00004"),
        "commune_xld": _issue(root, tmp_path, "xa", "00004", form="01/XLD"),
        "other_commune": _issue(root, tmp_path, "xa", "00008"),
        "summary": _issue(root, tmp_path, "tong-hop", "01", form="TONG-HOP"),
    }
    return root, e


RECIPIENTS = {
    "sender": {"reply_to": "thanhtra.thongke@example.gov.vn"},
    "recipients": [
        {"name": "Chuyên viên thống kê, Thanh tra Thành phố Hà Nội", "email": "thanhpho@example.gov.vn",
         "units": ["01"], "levels": ["tinh"], "periods": ["Q"], "views": ["as_recorded"]},
        {"name": "Hộp thư không tồn tại", "email": REFUSED, "units": ["*"], "levels": ["xa"]},
        {"name": "Chuyên viên thống kê, Thanh tra Quận Ba Đình", "email": "badinh@example.gov.vn",
         "units": ["001"], "levels": ["huyen"], "periods": ["Q3"]},
        {"name": "Văn phòng UBND Phường Ba Đình", "email": "phuongbadinh@example.gov.vn",
         "units": ["00004"], "levels": ["xa"], "forms": ["01/TCD"]},
        {"name": "Chỉ nhận báo cáo năm", "email": "nam@example.gov.vn", "units": ["*"], "levels": ["*"],
         "periods": ["Y"]},
        {"name": "Tổng hợp, Văn phòng UBND Thành phố", "email": "tonghop@example.gov.vn", "units": ["01"],
         "levels": ["tong-hop"], "periods": ["summary"]},
    ],
}


def _attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in msg.iter_attachments()}


def _by_email(results):
    return {r["email"]: r for r in results}


@pytest.mark.integration   # an SMTP server on localhost
def test_each_recipient_gets_exactly_their_reports(smtp, tree):
    root, e = tree
    results = delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root)
    by = _by_email(results)
    assert [r["email"] for r in results] == [r["email"] for r in RECIPIENTS["recipients"]]
    assert {k: v["status"] for k, v in by.items()} == {
        "thanhpho@example.gov.vn": "sent", REFUSED: "failed", "badinh@example.gov.vn": "sent",
        "phuongbadinh@example.gov.vn": "sent", "nam@example.gov.vn": "no_reports", "tonghop@example.gov.vn": "sent"}

    expected = {"thanhpho@example.gov.vn": [e["city"]], "badinh@example.gov.vn": [e["district"]],
                "phuongbadinh@example.gov.vn": [e["commune_tcd"]], "tonghop@example.gov.vn": [e["summary"]]}
    assert sorted(r for r, _ in smtp.messages) == sorted([a] for a in expected)
    folder = root / "2025-Q3"
    for address, entries in expected.items():
        [msg] = smtp.to(address)
        files = _attachments(msg)
        assert sorted(files) == sorted(Path(x.path).name for x in entries)
        for x in entries:
            data = files[Path(x.path).name]
            assert hashlib.sha256(data).hexdigest() == x.sha256 == sha256_file(folder / x.path)
            assert x.sha256 in msg.get_body(("html",)).get_content()
        assert msg["Subject"] == ("[Báo cáo TCD-XLĐ] Báo cáo thống kê tiếp công dân, xử lý đơn – "
                                  "Quý III năm 2025: 1 tệp")
        assert msg["From"] == "bao-cao-tcd@example.gov.vn"
        assert msg["Reply-To"] == "thanhtra.thongke@example.gov.vn"
        body = msg.get_body(("html",)).get_content()
        assert "Kính gửi" in body and "từ ngày 15/06/2025 đến ngày 14/09/2025" in body
        assert "Thời điểm chốt số liệu: 14/09/2025" in body
    assert [f["path"] for f in by["thanhpho@example.gov.vn"]["files"]] == [e["city"].path]

    # The refused address: reported with what to do, and the others were still served.
    refused = by[REFUSED]
    assert "refused the address khong-ton-tai@example.gov.vn (550" in refused["reason"]
    assert "recipients.yaml" in refused["reason"]
    assert sorted(f["path"] for f in refused["files"]) == sorted(
        x.path for x in (e["commune_tcd"], e["commune_xld"], e["other_commune"]))

    log = delivery.load_deliveries("2025-Q3", root)
    assert [(d["email"], d["status"]) for d in log] == [
        ("thanhpho@example.gov.vn", "sent"), (REFUSED, "failed"), ("badinh@example.gov.vn", "sent"),
        ("phuongbadinh@example.gov.vn", "sent"), ("tonghop@example.gov.vn", "sent")]
    assert log[0]["files"][0]["sha256"] == e["city"].sha256 and log[0]["at"]


@pytest.mark.integration   # an SMTP server on localhost
def test_a_second_run_sends_nothing_new_and_a_new_version_is_sent(smtp, tree, tmp_path):
    root, e = tree
    delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root)
    sent_before = len(smtp.messages)

    again = _by_email(delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root))
    assert len(smtp.messages) == sent_before
    assert again["thanhpho@example.gov.vn"]["status"] == "up_to_date"
    assert again["phuongbadinh@example.gov.vn"]["status"] == "up_to_date"
    assert again[REFUSED]["status"] == "failed"          # still refused; it is retried, not forgotten

    # Late data: the commune's 01/TCD is re-issued with another number → v2, sent to
    # the commune only, alone (its 01/XLD did not change and is not sent again).
    v2 = _issue(root, tmp_path, "xa", "00004", number=7, run="run-2")
    assert v2.version == 2
    third = _by_email(delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root))
    assert third["phuongbadinh@example.gov.vn"]["status"] == "sent"
    assert third["thanhpho@example.gov.vn"]["status"] == "up_to_date"
    assert len(smtp.messages) == sent_before + 1
    msg = smtp.to("phuongbadinh@example.gov.vn")[-1]
    files = _attachments(msg)
    assert list(files) == [Path(v2.path).name] and v2.path.endswith("_v2.xlsx")
    assert hashlib.sha256(files[Path(v2.path).name]).hexdigest() == v2.sha256
    assert "có bản cập nhật" in msg["Subject"]
    body = msg.get_body(("html",)).get_content()
    assert "thay thế tệp" in body and "Tổng cộng / MS 1: 1 → 7" in body


@pytest.mark.integration   # an SMTP server on localhost
def test_unreachable_server_is_reported_and_the_files_go_out_later(smtp, tree, monkeypatch):
    root, e = tree
    recipients = {"recipients": [RECIPIENTS["recipients"][0], RECIPIENTS["recipients"][2]]}
    dead_port = _free_port()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _conn_json(dead_port))
    results = delivery.deliver("2025-Q3", settings.get(), recipients=recipients, root=root)
    assert [r["status"] for r in results] == ["failed", "failed"]   # each recipient tried and reported
    for r in results:
        assert f"cannot reach the mail server 127.0.0.1:{dead_port}" in r["reason"]
        assert "smtp_default" in r["reason"]
    with pytest.raises(delivery.DeliveryError, match="2 of 2 recipient"):
        delivery.deliver("2025-Q3", settings.get(), recipients=recipients, root=root, raise_on_failure=True)

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _conn_json(smtp.port))
    results = delivery.deliver("2025-Q3", settings.get(), recipients=recipients, root=root)
    assert [r["status"] for r in results] == ["sent", "sent"]
    assert len(smtp.messages) == 2


@pytest.mark.integration   # an SMTP server on localhost
def test_connection_id_from_environment(smtp, tree, monkeypatch):
    root, e = tree
    monkeypatch.setenv("AIRFLOW_CONN_TCD_MAIL", _conn_json(smtp.port))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _conn_json(_free_port()))   # would fail
    monkeypatch.setenv("TCD_SMTP_CONN_ID", "tcd_mail")
    results = delivery.deliver("2025-Q3", settings.get(), recipients={"recipients": [RECIPIENTS["recipients"][2]]}, root=root)
    assert results[0]["status"] == "sent" and len(smtp.messages) == 1
    assert delivery.load_deliveries("2025-Q3", root)[0]["conn_id"] == "tcd_mail"


@pytest.mark.integration   # an SMTP server on localhost
def test_dry_run_sends_and_records_nothing(smtp, tree):
    root, e = tree
    results = _by_email(delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root, dry_run=True))
    assert results["badinh@example.gov.vn"]["status"] == "dry_run"
    assert [f["path"] for f in results["badinh@example.gov.vn"]["files"]] == [e["district"].path]
    assert smtp.messages == []
    assert delivery.load_deliveries("2025-Q3", root) == []


@pytest.mark.integration   # an SMTP server on localhost
def test_a_changed_issued_file_is_not_sent(smtp, tree):
    root, e = tree
    path = root / "2025-Q3" / e["district"].path
    path.write_bytes(path.read_bytes() + b"tampered")
    by = _by_email(delivery.deliver("2025-Q3", settings.get(), recipients=RECIPIENTS, root=root))
    assert by["badinh@example.gov.vn"]["status"] == "failed"
    assert "changed after it was issued" in by["badinh@example.gov.vn"]["reason"]
    assert smtp.to("badinh@example.gov.vn") == []
    assert len(smtp.to("thanhpho@example.gov.vn")) == 1


def test_filters_select_by_period_kind_and_summary(tree):
    root, e = tree
    m = publish.load_manifest("2025-Q3", root)
    summary_as_view = publish.ManifestEntry(**{**e["city"].to_dict(), "view": "summary", "path": "x.xlsx"})

    def make(**kw):
        return delivery.Recipient(name="Cán bộ A", email="a@example.gov.vn", units=["*"], levels=["*"], **kw)

    quarters, annual, summaries = make(periods=["Q"]), make(periods=["Y", "custom"]), make(periods=["summary"])
    assert all(quarters.wants(x, m.period_kind) for x in m.latest())
    assert not any(annual.wants(x, m.period_kind) for x in m.latest())
    assert [x.path for x in m.latest() if summaries.wants(x, m.period_kind)] == [e["summary"].path]
    assert summaries.wants(summary_as_view, m.period_kind)         # a summary issued at level tinh
    assert not make(periods=["Q4"]).wants(e["city"], m.period_kind)
    assert make(periods=["Q3"], forms=["01-tcd"]).wants(e["city"], m.period_kind)   # form codes either way


# ------------------------------------------------------------------ configuration
def test_project_recipients_file_is_valid():
    config = delivery.load_recipients(settings.get().env.recipients_file)
    assert config.recipients
    assert all(str(r.email).endswith("@example.gov.vn") for r in config.recipients)


@pytest.mark.parametrize("recipient, message", [
    ({"email": "not-an-address"}, "recipients[0].email (Cán bộ A): value is not a valid email address"),
    ({"levels": ["quan"]}, "recipients[0].levels[0] (Cán bộ A): Input should be"),
    ({"units": ["*", "001"]}, "\"*\" means all and must stand alone"),
    ({"units": [1]}, "quoted in YAML"),
    ({"units": []}, "units is empty"),
    ({"periods": ["Q5"]}, "recipients[0].periods[0] (Cán bộ A)"),
    ({"forms": ["01 TCD"]}, "form code '01 TCD'"),
    ({"unit": ["001"]}, "recipients[0].unit (Cán bộ A): Extra inputs are not permitted"),
])
def test_invalid_recipients_are_explained(recipient, message):
    base = {"name": "Cán bộ A", "email": "a@example.gov.vn", "units": ["001"], "levels": ["huyen"]}
    with pytest.raises(delivery.RecipientsConfigError) as err:
        delivery.parse_recipients({"recipients": [{**base, **recipient}]})
    assert message in str(err.value)


def test_recipients_file_errors_name_the_file(tmp_path):
    path = tmp_path / "recipients.yaml"
    path.write_text(yaml.safe_dump({"recipients": [
        {"name": "Cán bộ A", "email": "a@example.gov.vn", "units": ["001"], "levels": ["huyen"]},
        {"name": "Cán bộ B", "email": "A@example.gov.vn", "units": ["002"], "levels": ["huyen"]}]},
        allow_unicode=True), encoding="utf-8")
    with pytest.raises(delivery.RecipientsConfigError, match="share the address a@example.gov.vn") as err:
        delivery.load_recipients(path)
    assert str(path) in str(err.value)
    with pytest.raises(delivery.RecipientsConfigError, match="does not exist"):
        delivery.load_recipients(tmp_path / "missing.yaml")


def test_missing_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="no reports issued for period '2025-Q4'"):
        delivery.deliver("2025-Q4", settings.get(), recipients=RECIPIENTS, root=tmp_path)
