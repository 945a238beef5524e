"""The city's reception system, behind a JSON web service (docs/data-contracts.md §3).

Incremental by a ``changed_since`` watermark per resource. The feed returns every
version of a changed record; each version is landed once (id + version), and
consolidation keeps the latest. The watermark is re-read with a small overlap, because
a change feed can publish a version stamped just before the previous high-water mark
after we read it; versions already landed are skipped, so the overlap adds nothing.
Transient failures (timeouts, connection errors, HTTP 5xx, 429) are retried with
exponential back-off; anything else fails the task with the reason.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

import httpx
import sqlalchemy as sa
from tenacity import (retry, retry_if_exception, stop_after_attempt, wait_exponential)

from connectors.raw import Batch, get_watermark, known_versions, set_watermark
from pipeline import settings

log = logging.getLogger(__name__)
SOURCE_KIND = "city_service"
SOURCE_NAME = "city"
RECORD_TYPE = {"receptions": "reception", "petitions": "petition", "cases": "case"}
REQUIRED_ITEM_FIELDS = ("id", "version", "updated_at", "status", "unit_code")
OVERLAP = dt.timedelta(minutes=10)


class CityServiceError(RuntimeError):
    """The service answered something the pipeline cannot use; the message says what."""


def endpoint() -> tuple[str, str]:
    """(base URL, bearer token) from connection tcd_city_api or the environment."""
    cfg = settings.config()["sources"]["city_service"]
    c = settings.connection(cfg["conn_id"])
    url = (c.base_url if c else None) or os.environ.get("TCD_CITY_API_URL") or cfg["default_url"]
    token = settings.secret(cfg["conn_id"], cfg["token_env"])
    return url.rstrip("/"), token


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and (
        exc.response.status_code >= 500 or exc.response.status_code == 429)


@retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(5),
       wait=wait_exponential(multiplier=0.5, max=10), reraise=True)
def _get_page(client: httpx.Client, resource: str, params: dict) -> dict:
    resp = client.get(f"/api/v1/{resource}", params=params)
    if resp.status_code in (401, 403):
        raise CityServiceError(f"city service refused the token for {resource} (HTTP {resp.status_code}); "
                               "check the password of connection tcd_city_api")
    resp.raise_for_status()
    try:
        body = resp.json()
    except ValueError:
        raise CityServiceError(f"city service returned invalid JSON for {resource} page {params.get('page')}") from None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise CityServiceError(f"city service page {params.get('page')} of {resource} has no 'items' list")
    return body


def _version_key(item: dict) -> str:
    """A sortable version string: UTC timestamp, then the version number."""
    ts = dt.datetime.fromisoformat(str(item["updated_at"]).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise CityServiceError(f"record {item['id']}: updated_at has no time zone")
    return f"{ts.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z#{int(item['version']):06d}"


def fetch(client: httpx.Client, resource: str, changed_since: str | None, page_size: int):
    """Yield every item of the feed since the watermark, page by page."""
    page, pages = 1, 1
    while page <= pages:
        params = {"page": page, "page_size": page_size}
        if changed_since:
            params["changed_since"] = changed_since
        body = _get_page(client, resource, params)
        pages = int(body.get("total_pages") or 0)
        yield from body["items"]
        page += 1


def ingest(engine: sa.Engine, *, base_url: str | None = None, token: str | None = None,
           run_id: str | None = None) -> list[dict]:
    from transforms.pii import pseudonym_key  # noqa: PLC0415

    key = pseudonym_key()
    cfg = settings.config()["sources"]["city_service"]
    if base_url is None or token is None:
        base_url, token = endpoint()
    summaries = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                      timeout=cfg["timeout_seconds"]) as client:
        for resource in cfg["resources"]:
            record_type = RECORD_TYPE[resource]
            with engine.connect() as conn:
                wm = get_watermark(conn, SOURCE_KIND, SOURCE_NAME, resource)
            since = None
            if wm:
                since = (dt.datetime.fromisoformat(wm) - OVERLAP).isoformat()
            with engine.connect() as conn:
                known = known_versions(conn, SOURCE_KIND, SOURCE_NAME, record_type, None if since is None
                                       else f"{dt.datetime.fromisoformat(since).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z")
            batch = Batch(SOURCE_KIND, SOURCE_NAME, resource, f"{base_url}/api/v1/{resource}",
                          run_id=run_id, watermark_from=wm)
            max_seen = wm
            for item in fetch(client, resource, since, cfg["page_size"]):
                missing = [f for f in REQUIRED_ITEM_FIELDS if f not in item]
                if missing:
                    raise CityServiceError(f"{resource} item {item.get('id', '?')} lacks fields {missing}")
                version = _version_key(item)
                ts = dt.datetime.fromisoformat(str(item["updated_at"]).replace("Z", "+00:00"))
                if max_seen is None or ts > dt.datetime.fromisoformat(max_seen):
                    max_seen = ts.isoformat()
                if (str(item["id"]), version) in known:
                    continue        # already landed (overlap, or a page served twice)
                known.add((str(item["id"]), version))
                batch.add(record_type, resource, item, key=key, record_id=str(item["id"]),
                          record_version=version, kind=item.get("kind"))
            if not batch.rows:
                continue
            batch.watermark_to = max_seen
            with engine.begin() as conn:
                summaries.append(batch.write(conn))
                set_watermark(conn, SOURCE_KIND, SOURCE_NAME, resource, max_seen)
    log.info("city service: %d new batches, %d rows", len(summaries), sum(s["rows"] for s in summaries))
    return summaries
