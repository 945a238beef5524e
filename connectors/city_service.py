"""The city's reception system, behind a JSON web service (docs/data-contracts.md §3).

Incremental by a ``changed_since`` watermark per resource. The feed returns every
version of a changed record; each version is landed once (id + version), and
consolidation keeps the latest. The watermark is re-read with a small overlap, because
a change feed can publish a version stamped just before the previous high-water mark
after we read it; versions already landed are skipped, so the overlap adds nothing.

Each resource is read whole — every page since the watermark — before anything of it
is landed: a resource either lands one batch with the complete change set and moves
its watermark, or lands nothing and records why (all or nothing, so no partial feed is
ever published):

- ``failed`` / SOURCE_UNREACHABLE — the service did not answer usefully: timeouts,
  connection errors, HTTP 5xx and 429 persisting after the retries (exponential
  back-off), any other HTTP error (401 wrong token, 404…);
- an optional resource (``OPTIONAL_RESOURCES``: ``reception-calendar``, the head's
  published reception calendar) answered with HTTP 404 on its first page: the service
  does not offer it; nothing is landed, no batch is written;
- ``rejected`` / SOURCE_STRUCTURE — the service answered something that is not the
  contract: invalid JSON, a page without its ``items`` list or ``total_pages``, items
  that are not objects, or fewer distinct records than the feed announced (a page lost
  to a pagination bug).

Either way the watermark does not move, the next run asks again, and the other
resources go on; ``ingest`` returns normally. Within a complete read, records missing
``id``, ``version`` or a time-zoned ``updated_at`` cannot be versioned: they are
counted and named in the batch message, not landed; records missing another required
field (``unit_code``, ``status``) are landed and left to the mapping to quarantine;
a version served twice (a page repeated) is landed once and the repeats are counted.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from connectors.raw import Batch, get_watermark, known_versions, set_watermark
from core import config_schema, connections, pii
from core.pii import pseudonym_key
from core.settings import Settings
from warehouse import deployment

log = logging.getLogger(__name__)
SOURCE_KIND = "city_service"
SOURCE_NAME = "city"
RECORD_TYPE = {"receptions": "reception", "petitions": "petition", "cases": "case",
               "reception-calendar": "calendar"}
# Resources added to the contract later: a service that answers 404 for one of them on
# its first page has none (a service without reception calendars); nothing is landed
# for it, no batch is written, and the other resources load as before.
OPTIONAL_RESOURCES = ("reception-calendar",)
REQUIRED_ITEM_FIELDS = ("id", "version", "updated_at", "status", "unit_code")
VERSION_FIELDS = ("id", "version", "updated_at")
OVERLAP = dt.timedelta(minutes=10)


class ResourceAbsent(Exception):
    """An optional resource the service does not offer (HTTP 404 on its first page)."""


class CityServiceError(RuntimeError):
    """The service could not be read (`status` failed) or answered something the
    pipeline cannot use (`status` rejected); the message says what, in Vietnamese."""

    def __init__(self, message: str, *, status: str = "rejected", code: str = "SOURCE_STRUCTURE"):
        super().__init__(message)
        self.status, self.code = status, code


_DEFAULTS = config_schema.CityService.model_fields


@dataclass(frozen=True)
class AccessPolicy:
    """Timeout of one request and the retries of transient failures. Read from
    `sources.city_service` in config/pipeline.yaml (``timeout_seconds``, and optionally
    ``retry_attempts``, ``retry_max_wait_seconds``); tests pass their own."""

    timeout_seconds: float = _DEFAULTS["timeout_seconds"].default
    retry_attempts: int = _DEFAULTS["retry_attempts"].default
    retry_max_wait_seconds: float = _DEFAULTS["retry_max_wait_seconds"].default

    @classmethod
    def from_config(cls, cfg: config_schema.CityService) -> AccessPolicy:
        """The policy of ``sources.city_service``."""
        return cls(cfg.timeout_seconds, cfg.retry_attempts, cfg.retry_max_wait_seconds)

    def retrying(self) -> Retrying:
        return Retrying(retry=retry_if_exception(_transient), stop=stop_after_attempt(self.retry_attempts),
                        wait=wait_exponential(multiplier=0.5, max=self.retry_max_wait_seconds), reraise=True)


def source_name(s: Settings, province_code: str | None = None) -> str:
    """The raw layer's source name of a province's service: ``city`` in a province
    deployment (as it always was), ``city-<code>`` in a national one, where every
    province has its own service."""
    return SOURCE_NAME if not deployment.is_national(s) else f"{SOURCE_NAME}-{province_code}"


def province_of_source(name: str) -> str | None:
    """The province code in a national source name (``city-48`` → ``48``), else None."""
    prefix = f"{SOURCE_NAME}-"
    return name[len(prefix):] if name.startswith(prefix) else None


def endpoint(s: Settings, province_code: str | None = None) -> tuple[str, str]:
    """(base URL, bearer token) of the province's service: connection tcd_city_api or
    the environment. In a national deployment connection tcd_city_api_<code> first;
    else the shared address, ``{province}`` in it being the province's code, or with
    ``/<code>`` appended when it has no ``{province}``."""
    cfg = s.sources.city_service
    code = province_code or deployment.provinces(s)[0]
    conn_ids = ([f"{cfg.conn_id}_{code}"] if deployment.is_national(s) else []) + [cfg.conn_id]
    found = [(i, c) for i in conn_ids if (c := connections.connection(i, s.env)) is not None]
    conn_id, c = found[0] if found else (cfg.conn_id, None)
    url = ((c.base_url if c else None) or cfg.default_url).rstrip("/")  # default_url: env TCD_CITY_API_URL when set
    token = connections.secret(conn_id, "city_api_token", s.env)
    if "{province}" in url:
        return url.replace("{province}", code), token
    if deployment.is_national(s) and conn_id == cfg.conn_id:
        # One address for every province's service: each under /<code>.
        return f"{url}/{code}", token
    return url, token


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and (
        exc.response.status_code >= 500 or exc.response.status_code == 429)


def _get_page_once(client: httpx.Client, resource: str, params: dict) -> dict:
    page = params.get("page")
    resp = client.get(f"/api/v1/{resource}", params=params)
    if resp.status_code in (401, 403):
        raise CityServiceError(
            f"Dịch vụ của thành phố từ chối mã truy cập khi đọc '{resource}' (HTTP {resp.status_code}); "
            "kiểm tra mật khẩu (token) của kết nối tcd_city_api.", status="failed", code="SOURCE_UNREACHABLE")
    if resp.status_code == 404 and resource in OPTIONAL_RESOURCES and page == 1:
        raise ResourceAbsent(resource)
    resp.raise_for_status()
    try:
        body = resp.json()
    except ValueError:
        raise CityServiceError(
            f"Dịch vụ của thành phố trả về dữ liệu không phải JSON hợp lệ ở trang {page} của '{resource}'.") from None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise CityServiceError(f"Trang {page} của '{resource}' không có danh sách 'items' theo hợp đồng dữ liệu.")
    if not all(isinstance(i, dict) for i in body["items"]):
        raise CityServiceError(f"Trang {page} của '{resource}' có phần tử trong 'items' không phải là bản ghi "
                               "(đối tượng JSON).")
    tp = body.get("total_pages")
    if isinstance(tp, bool) or not isinstance(tp, int) or tp < 0:
        raise CityServiceError(f"Trang {page} của '{resource}' thiếu hoặc sai trường 'total_pages'.")
    return body


def _get_page(client: httpx.Client, resource: str, params: dict, policy: AccessPolicy) -> dict:
    """One page, transient failures retried; access failures become CityServiceError."""
    page = params.get("page")
    try:
        return policy.retrying()(_get_page_once, client, resource, params)
    except httpx.TimeoutException:
        why = f"không trả lời trong {policy.timeout_seconds:g} giây (hết thời gian chờ)"
    except httpx.HTTPStatusError as exc:
        why = f"trả lỗi HTTP {exc.response.status_code}"
    except httpx.TransportError as exc:
        why = f"không kết nối được ({type(exc).__name__})"
    tries = f" sau {policy.retry_attempts} lần thử" if policy.retry_attempts > 1 else ""
    raise CityServiceError(f"Dịch vụ của thành phố {why} khi đọc trang {page} của '{resource}'{tries}.",
                           status="failed", code="SOURCE_UNREACHABLE")


def fetch_pages(client: httpx.Client, resource: str, changed_since: str | None, page_size: int,
                policy: AccessPolicy) -> Iterator[dict]:
    """Yield every page of the feed since the watermark, in order. The next page is asked
    for while the caller works on this one (one request ahead, on one thread), so the
    service's time and ours overlap instead of adding up; a failed page raises when its
    turn comes, as it would have in sequence."""
    def params(page: int) -> dict:
        p = {"page": page, "page_size": page_size}
        if changed_since:
            p["changed_since"] = changed_since
        return p

    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="city-page")
    following = None
    try:
        page, body = 1, _get_page(client, resource, params(1), policy)
        while True:
            following = (ahead.submit(_get_page, client, resource, params(page + 1), policy)
                         if page < body["total_pages"] else None)
            yield body
            if following is None:
                return
            page, body = page + 1, following.result()
    finally:
        if following is not None:
            following.cancel()
        ahead.shutdown(wait=True)        # never leave a request running on a client about to close


def fetch(client: httpx.Client, resource: str, changed_since: str | None, page_size: int,
          policy: AccessPolicy) -> Iterator[dict]:
    """Yield every item of the feed since the watermark, page by page."""
    for body in fetch_pages(client, resource, changed_since, page_size, policy):
        yield from body["items"]


def _version_key(item: dict) -> str:
    """A sortable version string: UTC timestamp, then the version number. ValueError
    when the item cannot be versioned (no id, version or time-zoned updated_at)."""
    if any(item.get(f) in (None, "") for f in VERSION_FIELDS):
        raise ValueError("missing id/version/updated_at")
    ts = _updated_at(item)
    version = item["version"]
    if isinstance(version, bool) or not str(version).strip().isdigit():
        raise ValueError("version is not an integer")
    return f"{ts.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z#{int(version):06d}"


def _updated_at(item: dict) -> dt.datetime:
    ts = dt.datetime.fromisoformat(str(item["updated_at"]).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError("updated_at has no time zone")
    return ts


@dataclass
class _Read:
    """What one complete read of a resource found besides the records to land."""

    received: int = 0
    repeats: int = 0            # the same id+version with the same content, served again
    conflicts: int = 0          # the same id+version with different content
    unversioned: int = 0
    unversioned_ids: list | None = None
    missing_fields: int = 0

    def notes(self, resource: str) -> list[str]:
        out = []
        if self.repeats:
            out.append(f"Dịch vụ trả lặp {self.repeats} bản ghi (cùng mã và phiên bản, ví dụ do một trang "
                       f"được trả hai lần) khi đọc '{resource}': mỗi bản ghi chỉ được nạp một lần.")
        if self.conflicts:
            out.append(f"{self.conflicts} bản ghi của '{resource}' trùng mã và phiên bản nhưng khác nội dung: "
                       "đã nạp cả hai để kiểm tra lô (BATCH_ID_DUPLICATE).")
        if self.unversioned:
            ids = ", ".join(self.unversioned_ids or []) or "không có mã"
            out.append(f"{self.unversioned} bản ghi của '{resource}' thiếu id, version hoặc updated_at có múi giờ "
                       f"nên không xác định được phiên bản, chưa được nạp (mã: {ids}); đơn vị quản lý dịch vụ "
                       "bổ sung các trường này.")
        if self.missing_fields:
            out.append(f"{self.missing_fields} bản ghi của '{resource}' thiếu trường bắt buộc "
                       f"({', '.join(f for f in REQUIRED_ITEM_FIELDS if f not in VERSION_FIELDS)}): đã nạp, sẽ bị "
                       "cách ly khi ánh xạ cho đến khi nguồn bổ sung.")
        return out


def _read_resource(client: httpx.Client, resource: str, since: str | None, page_size: int,
                   policy: AccessPolicy, batch: Batch, known: set, key: bytes) -> tuple[_Read, str | None]:
    """Read the whole feed of one resource into `batch`; (findings, max updated_at seen)."""
    record_type = RECORD_TYPE[resource]
    r = _Read(unversioned_ids=[])
    seen: dict[tuple[str, str], str] = {}
    max_seen: dt.datetime | None = None
    announced: int | None = None
    for body in fetch_pages(client, resource, since, page_size, policy):
        if announced is None and isinstance(body.get("total_items"), int):
            announced = body["total_items"]
        for item in body["items"]:
            r.received += 1
            try:
                version = _version_key(item)
            except (ValueError, TypeError):
                r.unversioned += 1
                if item.get("id") not in (None, "") and len(r.unversioned_ids) < 5:
                    r.unversioned_ids.append(str(item["id"])[:40])
                continue
            rid = str(item["id"])
            digest = hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()
            previous = seen.get((rid, version))
            if previous == digest:
                r.repeats += 1
                continue
            if previous is not None:
                r.conflicts += 1
            else:
                seen[(rid, version)] = digest
            ts = _updated_at(item)
            max_seen = ts if max_seen is None or ts > max_seen else max_seen
            if previous is None and (rid, version) in known:
                continue        # landed by an earlier run (the overlap re-read)
            if any(item.get(f) in (None, "") for f in REQUIRED_ITEM_FIELDS):
                r.missing_fields += 1
            batch.add(record_type, resource, item, key=key, record_id=rid, record_version=version,
                      kind=item.get("kind"),
                      case_scope=pii.case_scope(item.get("unit_code"), item.get("case_id"), item.get("received_on")))
    distinct = len(seen) + r.unversioned
    if announced is not None and distinct < announced:
        raise CityServiceError(
            f"Dịch vụ báo {announced} bản ghi thay đổi của '{resource}' nhưng chỉ trả về {distinct} bản ghi khác "
            "nhau (có trang bị trả lặp thay cho trang khác, lỗi phân trang); không nạp phần nào, lần chạy sau sẽ "
            "đọc lại.")
    return r, (max_seen.isoformat() if max_seen else None)


def ingest(engine: sa.Engine, s: Settings, *, base_url: str | None = None, token: str | None = None,
           run_id: str | None = None, policy: AccessPolicy | None = None,
           page_size: int | None = None, resources: list[str] | None = None,
           province_code: str | None = None) -> list[dict]:
    """Land the change feed of every resource (or of `resources`) of the province's
    service (`province_code`: a national deployment's province; default the one served);
    one summary per batch written (loaded, rejected or failed). Never raises because the
    service is down or malformed."""
    key = pseudonym_key(s)
    cfg = s.sources.city_service
    policy = policy or AccessPolicy.from_config(cfg)
    page_size = page_size or cfg.page_size
    if base_url is None or token is None:
        base_url, token = endpoint(s, province_code)
    name = source_name(s, province_code or deployment.provinces(s)[0])
    summaries = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                      timeout=policy.timeout_seconds) as client:
        for resource in resources or cfg.resources:
            record_type = RECORD_TYPE[resource]
            with engine.connect() as conn:
                wm = get_watermark(conn, SOURCE_KIND, name, resource)
                since = None
                if wm:
                    since = (dt.datetime.fromisoformat(wm) - OVERLAP).isoformat()
                known = known_versions(conn, SOURCE_KIND, name, record_type, None if since is None
                                       else f"{dt.datetime.fromisoformat(since).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z")
            batch = Batch(SOURCE_KIND, name, resource, f"{base_url}/api/v1/{resource}",
                          run_id=run_id, watermark_from=wm)
            try:
                found, max_seen = _read_resource(client, resource, since, page_size, policy, batch, known, key)
            except ResourceAbsent:
                log.info("city service %s: no resource %r (optional); nothing to land", name, resource)
                continue
            except CityServiceError as exc:
                batch.rows = []
                message = (f"{exc} Chưa nạp gì từ '{resource}', mốc đồng bộ giữ nguyên; "
                           "lần chạy sau sẽ tự lấy lại.")
                log.warning("city service %s %s: %s", resource, exc.status, message)
                with engine.begin() as conn:
                    summaries.append(batch.write(conn, status=exc.status, message=message, reason_code=exc.code))
                continue
            notes = found.notes(resource)
            if not batch.rows and not notes:
                continue
            if max_seen is not None and wm is not None and \
                    dt.datetime.fromisoformat(max_seen) <= dt.datetime.fromisoformat(wm):
                max_seen = wm
            batch.watermark_to = max_seen
            with engine.begin() as conn:
                summaries.append(batch.write(conn, message=" ".join(notes) or None))
                if max_seen is not None and max_seen != wm:
                    set_watermark(conn, SOURCE_KIND, name, resource, max_seen)
    log.info("city service %s: %d batches (%d not loaded), %d rows", name, len(summaries), sum(s["status"] != "loaded" for s in summaries), sum(s["rows"] for s in summaries))
    return summaries
