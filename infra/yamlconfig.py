"""Validated YAML configuration: every config file in qpart is read through here.

A schema is a dict key -> (type or tuple of types, default). A key marked REQUIRED must be
present. Unknown keys, wrong types and missing files are errors whose message names the file
and the key, because a typo in a config should never be silently ignored.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.errors import QpartError

REQUIRED = object()


class ConfigError(QpartError, ValueError):
    """A configuration file that is missing, unreadable or does not match its schema."""


def read_yaml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def config_path(name_or_path, directory) -> Path:
    """A config name (<directory>/<name>.yml) or a path to a YAML file, as given."""
    path = Path(name_or_path)
    return path if path.suffix in (".yml", ".yaml") else Path(directory) / f"{name_or_path}.yml"


def find_config(name_or_path, directory, what: str) -> Path:
    """config_path, which must exist: else an error naming it and the configs that do."""
    path = config_path(name_or_path, directory)
    if not path.is_file():
        known = sorted(p.stem for p in Path(directory).glob("*.yml"))
        raise ConfigError(f"{path}: no such {what} config (known: {', '.join(known)})")
    return path


def _type_name(types):
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


def validate(data: dict, schema: dict, where: str) -> dict:
    """Check `data` against `schema`, fill defaults, return a new dict.

    `where` prefixes every message (e.g. "model/configs/part_l1.yml: training").
    Nested schemas are dicts as the type.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(schema))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(schema))}"
        )
    out = {}

    def inner(key):  # "file: section" then "file: section.sub"
        return f"{where}.{key}" if ": " in where else f"{where}: {key}"

    for key, (types, default) in schema.items():
        if key not in data:
            if default is REQUIRED:
                raise ConfigError(f"{where}: missing required key {key!r}")
            if isinstance(types, dict):
                out[key] = validate(default or {}, types, inner(key))
            else:
                out[key] = default
            continue
        value = data[key]
        if isinstance(types, dict):
            out[key] = validate(value, types, inner(key))
            continue
        allowed = types if isinstance(types, tuple) else (types,)
        if float in allowed and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in allowed:
            ok = False
        else:
            ok = isinstance(value, allowed) or (value is None and type(None) in allowed)
        if not ok:
            raise ConfigError(f"{where}: key {key!r} must be {_type_name(types)}, got {value!r}")
        out[key] = value
    return out


def load(path, schema: dict, section: str | None = None) -> dict:
    """Read `path` and validate it (or its `section`) against `schema`."""
    data = read_yaml(path)
    where = str(path)
    if section is not None:
        data = data.get(section, {})
        where = f"{path}: {section}"
    return validate(data, schema, where)
