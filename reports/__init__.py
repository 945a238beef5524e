"""Official report forms: periods, form definitions as data, computation, Excel output.

- reports.periods  — the 15th-to-14th reporting windows (Period, period, custom, parse…)
- reports.formdef  — form definitions (YAML) → computed, checked tables
- reports.render   — the official Excel layout (write_xlsx)
- reports.city     — the city's consolidated report across the 2025 reform

The names below are re-exported lazily: importing ``reports.periods`` (e.g. in a DAG
file, at parse time) must not pull in pandas and openpyxl.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Period": "periods", "period": "periods", "custom": "periods", "latest_complete": "periods",
    "parse": "periods", "periods_ending_on": "periods",
    "FormDef": "formdef", "ReportRow": "formdef", "IdentityError": "formdef", "load_form": "formdef",
    "compute": "formdef", "check_identities": "formdef",
    "write_xlsx": "render",
    "build_rows_for_city": "city", "city_report": "city", "form_definition": "city",
    "UnplacedRecordsError": "city",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"reports.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
