"""Baton Pipes helper for Python >= 3.9 (standard library only; copy it or put its folder on PYTHONPATH).

    import baton_pipes as bp
    ctx = bp.context()            # asset_key, partition_key, partition_keys, partition_time_window, run_id, config, attempt, checks
    bp.log("info", "starting")
    bp.report_metadata(rows=10, note="ok", table=bp.table([{"a": 1}]))
    bp.report_check("no_nulls", True, null_count=0)
    bp.materialize(metadata={"rows": 10}, data_version="v1")

Messages go to the file descriptor in BATON_PIPES_FD (3 when run by Baton), else to stdout as
`::baton::{json}` lines. Outside Baton, context() returns an empty context.
"""
import json
import os
import sys

__all__ = ["context", "log", "report_metadata", "report_check", "materialize", "table"]

_PREFIX = "::baton::"
_channel = None


def _open_channel():
    global _channel
    if _channel is None:
        fd = os.environ.get("BATON_PIPES_FD")
        if fd:
            try:
                _channel = (os.fdopen(int(fd), "w", buffering=1, encoding="utf-8", closefd=False), "")
            except (OSError, ValueError):
                _channel = None
        if _channel is None:
            _channel = (sys.stdout, _PREFIX)
    return _channel


def _send(message):
    stream, prefix = _open_channel()
    stream.write(prefix + json.dumps(message, default=str, separators=(",", ":")) + "\n")
    stream.flush()


def context():
    """The run's context as a dict (empty values outside Baton)."""
    raw = os.environ.get("BATON_PIPES_CONTEXT")
    if not raw:
        return {"asset_key": None, "partition_key": None, "partition_keys": [], "partition_time_window": None,
                "run_id": None, "step_key": None, "config": None, "attempt": 1, "checks": []}
    c = json.loads(raw)
    return {
        "asset_key": c.get("assetKey"),
        "step_key": c.get("stepKey"),
        "partition_key": c.get("partitionKey"),
        "partition_keys": c.get("partitionKeys") or [],
        "partition_time_window": c.get("partitionTimeWindow"),
        "run_id": c.get("runId"),
        "config": c.get("config"),
        "attempt": c.get("attempt", 1),
        "checks": c.get("checks") or [],
    }


def log(level, message):
    """A line in the step's log; level is debug, info, warn or error."""
    _send({"type": "log", "level": str(level), "message": str(message)})


def report_metadata(**metadata):
    """Metadata for this materialization: numbers, text, JSON-able values, table(...)."""
    _send({"type": "metadata", "metadata": metadata})


def report_check(name, passed, **metadata):
    """A check result (recorded as metadata `check:<name>` of the materialization)."""
    _send({"type": "check", "check": str(name), "passed": bool(passed), "metadata": metadata})


def materialize(metadata=None, data_version=None, value=None):
    """The final materialization: extra metadata, an optional data version and a JSON value."""
    message = {"type": "materialize", "metadata": metadata or {}}
    if data_version is not None:
        message["dataVersion"] = str(data_version)
    if value is not None:
        message["value"] = value
    _send(message)


def table(rows):
    """A small table as metadata: a list of dicts with the same keys."""
    rows = list(rows)
    columns = list(rows[0].keys()) if rows else []
    return {"columns": columns, "rows": [[r.get(c) for c in columns] for r in rows]}
