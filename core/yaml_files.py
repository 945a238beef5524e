"""The project's YAML files: the one reader, and validation against a model.

:func:`load_yaml` is the one reader of the project's YAML files (configuration,
recipients, column aliases, rules, code lists, form definitions). :func:`validate_yaml`
validates one against its model: an unknown key (a typo), a missing key or a value of
the wrong type stops the load with a :class:`ConfigError` naming the file and every key
at fault, e.g. ``sources.city_service.page_sise: unknown key``
(:func:`describe_errors`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class ConfigError(ValueError):
    """A configuration file or environment variable that cannot be used; the message
    names the file or variable and every key at fault."""


def load_yaml(path: str | os.PathLike) -> Any:
    """The content of one of the project's YAML files (configuration, recipients,
    column aliases, rules, code lists, form definitions). A missing file or invalid
    YAML raises ConfigError naming the file. Validation is the caller's (each file has
    its model)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None


def _where(loc: tuple, data: Any = None) -> str:
    """('sources', 'city_service', 'page_size') → 'sources.city_service.page_size';
    list items as [i], with the item's id when it has one (regimes[2] (TT06_2025))."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and "id" in node:
                    out += f" ({node['id']})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def describe_errors(err: ValidationError, data: Any = None) -> str:
    """One line per problem, naming the key: what a person fixes in the file."""
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = _where(loc, data) or "(top level)"
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not a setting: check the spelling and docs/configuration.md)"
        elif e["type"] == "missing":
            msg = "missing (required)"
        elif e["type"] == "value_error" or isinstance(e.get("input"), (dict, list)):
            msg = e["msg"].removeprefix("Value error, ")
        else:
            msg = f"{e['msg']}, got {e.get('input')!r}"
        lines.append(f"  - {where}: {msg}")
    return "\n".join(lines)


def validate_yaml(model: type[BaseModel], path: str | os.PathLike, data: Any = None) -> Any:
    """`model` validated from the YAML file `path` (or from `data` read from it);
    ConfigError listing every key at fault."""
    data = load_yaml(path) if data is None else data
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{path}: invalid configuration:\n{describe_errors(err, data)}") from None
