"""Logging setup for command-line entry points (Airflow configures its own in tasks)."""
from __future__ import annotations

import logging


def setup(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
