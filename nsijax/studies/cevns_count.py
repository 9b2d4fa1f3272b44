"""Standard fits of the COHERENT releases: CEvNS counts with the SM shape and a free normalisation.

``cevns_count_scan`` gives chi2 (nuisances profiled) as a function of the number of CEvNS events
N = s N_SM, where s multiplies the SM CEvNS prediction (``Params.cevns_scale``); ``fit_cevns_count``
finds its minimum and the Delta chi2 = 1 interval. The signal-normalisation systematics (flux,
quenching, efficiency, mass: the class constant ``signal_nuisances`` of each
:class:`~nsijax.experiments.scattering.coherent.AbstractPionDARCEvNS`) are held at nominal by default
because a free normalisation absorbs them, as in the collaborations' fits of the event count;
backgrounds and shape systematics are profiled.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..experiments.base import expected_counts
from ..experiments.scattering.coherent import AbstractPionDARCEvNS
from ..likelihood import chi2
from ..parameters.params import Params


def sm_cevns_count(exp: AbstractPionDARCEvNS, params: Params | None = None) -> float:
    """Predicted CEvNS events (all flavours, all analysis bins) at ``params`` (default: SM)."""
    return float(jnp.sum(expected_counts(Params() if params is None else params, exp)["cevns"]))


def _fixed(exp: AbstractPionDARCEvNS, fixed) -> tuple[str, ...]:
    if fixed is None:
        return tuple(exp.nuisance_key(n) for n in exp.signal_nuisances)
    return tuple(fixed)


def cevns_count_scan(
    exp: AbstractPionDARCEvNS,
    counts: Sequence[float] | np.ndarray,
    *,
    fixed: Sequence[str] | None = None,
    profile_steps: int = 12,
    params: Params | None = None,
) -> np.ndarray:
    """Profiled chi2 at each number of CEvNS events in ``counts`` (one vmapped, jitted evaluation)."""
    base = Params() if params is None else params
    n_sm = sm_cevns_count(exp, base)
    fx = _fixed(exp, fixed)
    scales = jnp.asarray(counts, dtype=float) / n_sm

    def one(s):
        p = base.replace(cevns_scale=s)
        return chi2(p, exp, nuisances="profile", profile_steps=profile_steps, fixed=fx)

    return np.asarray(jax.jit(jax.vmap(one))(scales))


def fit_cevns_count(
    exp: AbstractPionDARCEvNS,
    *,
    fixed: Sequence[str] | None = None,
    n_max_factor: float = 2.5,
    points: int = 126,
    profile_steps: int = 12,
) -> dict[str, float]:
    """Best-fit CEvNS count and its Delta chi2 = 1 interval (grid scan, parabolic refinement).

    Returns a dict with ``n_fit``, ``lo``, ``hi`` (interval ends), ``chi2_min``, ``n_sm`` and
    ``delta_chi2_zero`` (chi2(N = 0) - chi2_min, the null-hypothesis test statistic).
    """
    n_sm = sm_cevns_count(exp)
    grid = np.linspace(0.0, n_max_factor * n_sm, points)
    v = cevns_count_scan(exp, grid, fixed=fixed, profile_steps=profile_steps)
    i = int(np.clip(np.argmin(v), 1, points - 2))
    x0, x1, x2 = grid[i - 1 : i + 2]
    y0, y1, y2 = v[i - 1 : i + 2]
    denom = y0 - 2 * y1 + y2
    n_fit = x1 + 0.5 * (x1 - x0) * (y0 - y2) / denom if denom > 0 else x1
    c_min = min(float(y1 - (y0 - y2) ** 2 / (8 * denom)) if denom > 0 else float(y1), float(v.min()))
    d = v - c_min

    def crossing(idx_range):
        for j in idx_range:
            a, b = d[j], d[j + 1]
            if (a - 1.0) * (b - 1.0) <= 0 and a != b:
                return float(grid[j] + (1.0 - a) / (b - a) * (grid[j + 1] - grid[j]))
        return float("nan")

    k = int(np.argmin(v))
    lo = crossing(range(k - 1, -1, -1))
    hi = crossing(range(k, points - 1))
    return {
        "n_fit": float(n_fit),
        "lo": lo,
        "hi": hi,
        "chi2_min": c_min,
        "n_sm": n_sm,
        "delta_chi2_zero": float(v[0] - c_min),
    }
