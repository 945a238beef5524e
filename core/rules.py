"""The rules catalogue (expectations/rules.yaml): every data-quality rule's code,
severity (critical / error / warning), importance and Vietnamese instruction. Read by
the connectors (a batch's findings), the transforms (quarantine decisions) and the
reports (the data-quality sheet) alike."""
from __future__ import annotations

import functools

from core import environment, yaml_files

RULES_FILE = environment.PROJECT_ROOT / "expectations" / "rules.yaml"
SEVERITIES = ("critical", "error", "warning")


@functools.cache
def rules() -> dict[str, dict]:
    out = yaml_files.load_yaml(RULES_FILE)["rules"]
    for code, r in out.items():
        if r.get("severity") not in SEVERITIES:
            raise ValueError(f"rule {code}: severity must be one of {SEVERITIES}")
    return out


def rule(code: str) -> dict:
    try:
        return rules()[code]
    except KeyError:
        raise KeyError(f"rule {code!r} is not in {RULES_FILE.name}") from None
