"""Shared benchmark utilities: timing with compile time separated, machine metadata, JSON output."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def block(x):
    """Block until every JAX array in the pytree ``x`` is ready."""
    import jax

    return jax.tree_util.tree_map(lambda a: a.block_until_ready() if hasattr(a, "block_until_ready") else a, x)


def time_call(fn, *args, repeat: int = 5, min_time: float = 0.2):
    """Best wall time per call (s) of ``fn(*args)`` over ``repeat`` rounds of at least ``min_time`` s."""
    best = float("inf")
    for _ in range(repeat):
        n, t0 = 0, time.perf_counter()
        while True:
            block(fn(*args))
            n += 1
            el = time.perf_counter() - t0
            if el >= min_time:
                break
        best = min(best, el / n)
    return best


def time_jitted(fn, *args, repeat: int = 5, min_time: float = 0.2):
    """(compile + first-call time, best steady-state time per call) of a jitted function."""
    t0 = time.perf_counter()
    block(fn(*args))
    first = time.perf_counter() - t0
    return first, time_call(fn, *args, repeat=repeat, min_time=min_time)


def metadata() -> dict:
    import jax

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    dev = jax.devices()[0]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "jax": jax.__version__,
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "x64": bool(jax.config.read("jax_enable_x64")),
        "commit": commit,
    }


def write_json(name: str, payload: dict) -> Path:
    """Write ``payload`` (plus metadata) to benchmarks/results/<name>-<platform>.json."""
    import jax

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{jax.devices()[0].platform}.json"
    path.write_text(json.dumps({"meta": metadata(), **payload}, indent=1))
    return path


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)))
