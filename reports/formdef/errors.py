"""The errors of form definitions and report tables: a malformed definition, a
window-relative form used without its period, a table that breaks its check identities.
"""
from __future__ import annotations


class FormDefinitionError(ValueError):
    """The YAML form definition is malformed."""


class PeriodRequiredError(ValueError):
    """The form (or its population) is defined relative to the report window and was
    used without a period."""


class IdentityError(ValueError):
    """A report table breaks its form's check identities; it must not be delivered."""

    def __init__(self, violations: list[str]):
        self.violations = list(violations)
        shown = "\n".join(f"  - {v}" for v in self.violations[:50])
        more = f"\n  … và {len(self.violations) - 50} vi phạm khác" if len(self.violations) > 50 else ""
        super().__init__(f"{len(self.violations)} vi phạm đẳng thức kiểm tra:\n{shown}{more}")
