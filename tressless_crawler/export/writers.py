"""Streaming writers for exports: JSON Lines, JSON array and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

import orjson

FORMATS = ("jsonl", "json", "csv")
# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "
# Datetimes and dataclasses go to ``default`` as they do with ``json``: the same text either way.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_text(value: Any) -> str:
    """A record (or a cell's value) as compact JSON, non-ASCII kept, anything else as its ``str``.

    orjson, and ``json`` for what orjson refuses (integers beyond 64 bits, lone surrogates,
    keys that are not strings); for the strings, integers, booleans, lists and dicts records
    hold, both give the same text.
    """
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def csv_cell(value: Any, escape: bool = True) -> str:
    """One flat CSV cell: lists joined with "; ", objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        text = LIST_SEPARATOR.join(str(v) for v in value)
    elif isinstance(value, (list, dict)):
        text = json_text(value)
    else:
        text = str(value)
    if escape and text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


def write_records(
    records: Iterable[dict[str, Any]],
    out: TextIO,
    fmt: str,
    fields: list[str],
    escape_formulas: bool = True,
) -> int:
    """Write records one at a time; returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json_text(record))
            out.write("\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(",\n" if count else "\n")
            out.write(json_text(record))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(fields)
        for record in records:
            writer.writerow([csv_cell(record.get(name), escape_formulas) for name in fields])
            count += 1
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return count
