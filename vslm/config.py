"""Reading config.yaml: YAML without duplicate keys, the JSON schema, then what a schema cannot
say (safe experiment ids, reference files inside the repository, known columns). Every problem is
one `ConfigError` naming the experiment, the key and the value."""
from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import yaml

from .columns import METRICS, SETTING_ALIASES
from .experiments import load_config
from .files import read_text
from .keys import ConfigError
from .paths import REFERENCE_DIR, SCHEMA, root_of
from .reference import read_reference, reference_names
from .settings import all_keys

SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CONFIG_BYTES = 1_000_000  # the committed config is 15 kB
MAX_CONFIG_VALUES = 100_000  # values after YAML aliases are expanded (the committed config: ~3,000)
SAFE_FILE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.csv$")


SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


class _UniqueKeyLoader(SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:  # explicit keys only: a merge (<<) may be overridden
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            if key_node.value in seen:
                raise ConfigError(f"line {key_node.start_mark.line + 1}", f"duplicate key {key_node.value!r}")
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def read_config(path: str | Path) -> dict:
    """The config file as a dict: readable, valid YAML, no duplicate keys, valid against the schema."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError("file", f"{path}: {size:,} bytes, over the {MAX_CONFIG_BYTES:,}-byte limit")
        config = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except OSError as e:
        raise ConfigError("file", f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError("file", f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("file", f"{path}: not valid YAML{where} ({str(e).splitlines()[0]})") from None
    _check_expanded_size(config, path)
    validate_schema(config, root_of(path))
    return config


def _check_expanded_size(config, path: Path) -> None:
    """Refuse a config whose YAML aliases expand past MAX_CONFIG_VALUES (an alias bomb would make
    every later walk of it, Snakemake's included, take hours)."""
    budget, stack = MAX_CONFIG_VALUES, [config]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigError("file", f"{path}: expands to over {MAX_CONFIG_VALUES:,} values (YAML aliases)")
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def validate_schema(config, root: Path) -> None:
    try:
        schema = yaml.load(read_text(root / SCHEMA, 1_000_000), Loader=SafeLoader)
    except OSError:
        raise ConfigError("file", f"{root} is not a vslm checkout (no {SCHEMA}): a config is read from the "
                          "root of one") from None
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "top level"
        raise ConfigError(where, error.message)


def check_scales(config: dict) -> None:
    """Every scale named (the config's `scale`, a scale's `base`, an experiment's `scales`) is one of
    the top-level `scales`, where the names are stated."""
    names = set(config["scales"])
    if config["scale"] not in names:
        raise ConfigError("scale", f"{str(config['scale'])[:40]!r} is not one of the scales {sorted(names)}")
    for name, scale in config["scales"].items():
        if scale.get("base") is not None and scale["base"] not in names - {name}:
            raise ConfigError(f"scales {name} base", f"{str(scale['base'])[:40]!r} is not another of the scales "
                              f"{sorted(names)}")
    for name, exp in config["experiments"].items():
        for scale in exp.get("scales") or {}:
            if scale not in names:
                raise ConfigError(f"experiment {name} scales", f"{str(scale)[:40]!r} is not one of the scales "
                                  f"{sorted(names)}")


def check_experiments(config: dict, root: Path) -> None:
    """What the schema cannot check: scale names, ids, reference files, column and sort names."""
    check_scales(config)
    settings = all_keys()
    known = set(METRICS) | set(settings) | set(SETTING_ALIASES)
    for name, exp in config["experiments"].items():
        if not SAFE_ID.match(str(name)):
            raise ConfigError(f"experiment {str(name)[:70]!r}", "ids are 1-64 letters, digits, '_' and '-'")
        for ref in reference_names(exp):
            if not SAFE_FILE.match(ref) or not (root / REFERENCE_DIR / ref).is_file():
                raise ConfigError(f"experiment {name} reference", f"{ref!r} is not a file in {REFERENCE_DIR}/")
            try:
                read_reference(root / REFERENCE_DIR / ref)
            except (OSError, ValueError) as e:
                raise ConfigError(f"experiment {name} reference", str(e)) from None
        for col in exp["columns"]:
            if col not in known and col.removeprefix("val-") not in settings:
                raise ConfigError(f"experiment {name} columns", f"{col!r} is neither a setting nor a metric")
        for key in ("spread", "sort", "first_below"):
            for col in ([exp[key]] if isinstance(exp.get(key), str) else exp.get(key, [])):
                if col.rstrip("-") not in exp["columns"]:
                    raise ConfigError(f"experiment {name} {key}", f"{col!r} is not one of its columns")


def load(config: str | Path | dict, scale: str | None = None, root: Path | None = None) -> dict:
    """Checked experiments of a config file (or of an already-read config dict with its root)."""
    if not isinstance(config, dict):
        root = root or root_of(config)
        config = read_config(config)
    root = Path(root or ".")
    validate_schema(config, root)
    check_experiments(config, root)
    return load_config(config, scale=scale)
