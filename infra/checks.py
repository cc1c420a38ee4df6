"""Reading and checking the pipeline's JSON files: shared by the modules that own a schema
(each exports its validator next to its writer) and the dashboard that reads them all.
Every message starts with the file's path and names the key."""

from __future__ import annotations

import json
from pathlib import Path

from infra.errors import QpartError


class SchemaError(QpartError, ValueError):
    """A JSON file that cannot be read, or does not follow its schema."""


def read_json(path):
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise SchemaError(f"{path}: cannot be read ({err.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SchemaError(
            f"{path}: not valid JSON (line {err.lineno} column {err.colno}: " f"{err.msg})"
        ) from None


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def need(obj, key, path, where="", kind=None):
    """obj[key], which must exist (and be of `kind` when given)."""
    if not isinstance(obj, dict):
        raise SchemaError(f"{path}: {where.rstrip('.') or 'top level'} must be a JSON object")
    if key not in obj:
        raise SchemaError(f"{path}: missing key {where}{key!r}")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        raise SchemaError(
            f"{path}: {where}{key!r} must be a "
            f"{getattr(kind, '__name__', kind)}, got {type(value).__name__}"
        )
    return value


def numbers(obj, keys, path, where=""):
    """Each of `keys` that is present must be a number or null."""
    for key in keys:
        v = obj.get(key)
        if v is not None and not is_number(v):
            raise SchemaError(f"{path}: {where}{key!r} is not a number: {v!r}")
