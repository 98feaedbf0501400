"""The vocabulary of settings: `Key` (name, parser, help, whether it enters the run key), the
value parsers, `SettingsError` (names the key and the value) and `ConfigError` (names the
experiment, key and value). Task and model modules
declare their own keys with these; `vslm.settings` collects them."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A bad setting: the message names the key and the value."""

    def __init__(self, key: str, value: Any, reason: str):
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"setting {key}={_show(value)}: {reason}")


class ConfigError(ValueError):
    """A bad config entry: the message names where (experiment and key) and the value."""

    def __init__(self, where: str, message: str):
        super().__init__(f"config {where}: {message}")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- value parsers


def integer(key, v, minimum=1, maximum=None):
    if isinstance(v, bool):
        raise SettingsError(key, v, "expected an integer")
    try:
        i = int(str(v).replace("_", ""))
    except ValueError:
        raise SettingsError(key, v, "expected an integer") from None
    if i < minimum:
        raise SettingsError(key, v, f"must be >= {minimum}")
    if maximum is not None and i > maximum:
        raise SettingsError(key, v, f"must be <= {maximum:,} (a very small language model)")
    return i


def upto(maximum):
    return lambda k, v: integer(k, v, 1, maximum)


def number(key, v, minimum=0.0):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise SettingsError(key, v, "expected a number") from None
    if not f >= minimum or f != f or f == float("inf"):
        raise SettingsError(key, v, f"must be a finite number >= {minimum}")
    return f


def items(v) -> list:
    """A list from a YAML list, a comma string or a single value."""
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, str):
        return [s.strip() for s in v.strip("[]() ").split(",") if s.strip()]
    return [v]


def int_range(key, v, minimum):
    """An int or an inclusive range ``lo,hi`` (returned as [lo, hi])."""
    values = [integer(key, x, minimum) for x in items(v)]
    if len(values) == 1:
        return values[0]
    if len(values) != 2 or values[0] > values[1]:
        raise SettingsError(key, v, "expected N or a range lo,hi with lo <= hi")
    return values if values[0] != values[1] else values[0]


def attn_entry(key, v):
    if v is True or str(v).strip().lower() in ("t", "true"):
        return "T"
    if v is False or str(v).strip().lower() in ("false",):
        return 0
    return integer(key, v, minimum=0)


def choice(options):
    def parse(key, v):
        if str(v) not in options:
            raise SettingsError(key, v, f"expected one of {', '.join(options)}")
        return str(v)
    return parse


def boolean(key, v):
    if isinstance(v, bool):
        return v
    if str(v).lower() in ("1", "true", "yes", "on"):
        return True
    if str(v).lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(key, v, "expected true or false")


# ---------------------------------------------------------------- the key table


_ALWAYS = object()


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[str, Any], Any]
    help: str
    in_run_key: bool = True
    # Options added after results existed enter the run key only when set away from
    # this value, so adding an option keeps every existing run key.
    keyed_unless: Any = _ALWAYS


def keyed(*keys: Key) -> dict[str, Key]:
    """A key table: name -> Key."""
    return {k.name: k for k in keys}


def help_text(keys: dict) -> str:
    return "\n".join(f"  {k.name:<14} {k.help}" for k in keys.values())
