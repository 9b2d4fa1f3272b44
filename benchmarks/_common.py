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
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
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


# --- experiment likelihoods against a NumPy/SciPy peer (likelihood.py, reactor_cevns.py, solar_cevns.py) --------

LIKELIHOOD_COLUMNS = [
    "case",
    "bins",
    "nuisances",
    "chi2",
    "compile_value_s",
    "compile_grad_s",
    "value_ms",
    "value_and_grad_ms",
]


def likelihood_args(doc: str, argv=None):
    """Command line of the experiment-likelihood benchmarks: ``--smoke`` (CI), ``--repeat``, ``--min-time``.
    Returns (args, repeat, min_time), the last two already set for a smoke run."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="quick run: short timing loops, coarse peer (CI)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing round")
    args = ap.parse_args(argv)
    return args, *((1, 0.01) if args.smoke else (args.repeat, args.min_time))


def fd_value_and_grad(chi2, eps: float, theta, h: float = 1e-5):
    """A peer's chi2(eps, theta) and its gradient by central differences in eps and each pull of theta."""
    import numpy as np

    theta = np.asarray(theta, dtype=float)
    v = chi2(eps, theta)
    g = [(chi2(eps + h, theta) - chi2(eps - h, theta)) / (2 * h)]
    for i in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        g.append((chi2(eps, tp) - chi2(eps, tm)) / (2 * h))
    return v, np.array(g)


def likelihood_rows(label: str, exp, params, modes=("given", "profile"), repeat: int = 5, min_time: float = 0.2):
    """Timed rows (compile, value, value and gradient w.r.t. the whole Params pytree) of nsijax.chi2 for one
    experiment (or a tuple of them: one joint chi2), one per nuisance mode ("profile" rows are labelled "(profiled)")."""
    import equinox as eqx

    from nsijax.likelihood import chi2

    exps = exp if isinstance(exp, tuple) else (exp,)
    rows = []
    for mode in modes:
        value = eqx.filter_jit(lambda p, e, mode=mode: chi2(p, e, nuisances=mode))
        vgrad = eqx.filter_jit(eqx.filter_value_and_grad(lambda p, e, mode=mode: chi2(p, e, nuisances=mode)))
        c_v, t_v = time_jitted(value, params, exp, repeat=repeat, min_time=min_time)
        c_g, t_g = time_jitted(vgrad, params, exp, repeat=repeat, min_time=min_time)
        rows.append({
            "case": label if mode == "given" else f"{label} (profiled)", "bins": sum(e.n_bins for e in exps),
            "nuisances": sum(len(e.nuisance_names) for e in exps), "chi2": round(float(value(params, exp)), 4),
            "compile_value_s": round(c_v, 2), "compile_grad_s": round(c_g, 2),
            "value_ms": round(t_v * 1e3, 4), "value_and_grad_ms": round(t_g * 1e3, 4),
        })  # fmt: skip
    return rows


def peer_comparison(
    name: str, rows: list[dict], peer_chi2, eps: float, theta, *, smoke: bool, min_time: float, target_ms: float = 1.0
) -> dict:
    """Time a NumPy/SciPy peer (value and central-difference gradient) at (eps, theta), append its row to ``rows``
    (the first row must be nsijax's at the same point), print the table and the summary, write the JSON."""
    import math

    v_np = peer_chi2(eps, theta)
    t_np = time_call(lambda: peer_chi2(eps, theta), repeat=1 if smoke else 3, min_time=min_time)
    t_np_g = time_call(lambda: fd_value_and_grad(peer_chi2, eps, theta), repeat=1, min_time=min_time)
    ours = rows[0]
    rows.append({
        "case": f"numpy_{name} (peer)", "bins": ours["bins"], "nuisances": ours["nuisances"], "chi2": round(v_np, 4),
        "compile_value_s": 0.0, "compile_grad_s": 0.0, "value_ms": round(t_np * 1e3, 4),
        "value_and_grad_ms": round(t_np_g * 1e3, 4),
    })  # fmt: skip
    summary = {
        "value_and_grad_ms": ours["value_and_grad_ms"],
        "target_ms": target_ms,
        "numpy_vs_nsijax_chi2_abs_diff": float(abs(v_np - ours["chi2"])),
        "speedup_value_vs_numpy": float(t_np * 1e3 / ours["value_ms"]),
        "speedup_value_and_grad_vs_numpy_fd": float(t_np_g * 1e3 / ours["value_and_grad_ms"]),
        "smoke": bool(smoke),
    }
    print_table(rows, LIKELIHOOD_COLUMNS)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})
    path = write_json(f"{name}-smoke" if smoke else name, {"rows": rows, "summary": summary})
    print("wrote", path)
    if not math.isfinite(v_np):
        raise SystemExit("peer value not finite")
    return summary
