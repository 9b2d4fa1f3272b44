"""Feldman-Cousins (unified) intervals from pseudo-experiments with profile fits.

For each value mu of the parameter of interest: profile the nuisances on the observed data, draw
``n_toys`` pseudo-data sets from the expectation at (mu, profiled nuisances) (the "profile
construction"; auxiliary measurements are not resampled), each experiment with its own statistics
(its ``resample`` method, beside the likelihood terms it mirrors: Poisson counts for binned
experiments, Gaussian values for Gaussian-term ones), compute each toy's
Delta chi^2(mu) = chi^2(mu, profiled) - chi^2(global minimum), and accept mu if the observed
Delta chi^2 is at most the CL quantile of the toys (likelihood-ratio ordering: G. J. Feldman &
R. D. Cousins, PRD 57, 3873 (1998)). Toys are vmapped and fitted in one jitted call per grid chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..experiments.base import total_counts
from ..likelihood import as_experiments, profile_nuisances
from ..likelihood import chi2 as _chi2
from ..parameters.names import build_params
from .fit import fit
from .scan import points_sharding, progress_bar
from .transforms import Bounds


def feldman_cousins(
    chi2: Callable[[dict, jax.Array], jax.Array],
    expected: Callable[[dict], jax.Array],
    observed,
    poi: str,
    grid,
    *,
    init: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Bounds | None = None,
    cl: float = 0.90,
    n_toys: int = 1000,
    seed: int = 0,
    progress: bool = True,
    global_grid=None,
    draw: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
    **fit_kwargs,
) -> dict:
    """Unified confidence interval of ``poi`` on ``grid``.

    Args:
        chi2: chi^2(theta, counts) of the data ``counts`` (same shape as ``observed``).
        expected: expected counts at theta (the means of the toys).
        observed: observed counts.
        poi: name of the parameter of interest; grid: its values (its bounds in ``bounds`` apply to
            the global fits).
        init: starting values of the nuisances (profiled); fixed: held parameters.
        cl: confidence level; n_toys: pseudo-experiments per grid point.
        global_grid: values of ``poi`` at which every data set's profile chi^2 is evaluated to seed
            the global fit at the best of them; needed when chi^2(poi) has several minima (the CEvNS
            weak-charge degeneracy), where a local fit from mu can stop in the wrong one.
        draw: ``draw(key, expectation) -> one pseudo-data set`` shaped like ``observed`` (e.g. per
            experiment with its ``resample`` method); default Poisson counts around ``expectation``.

    Returns:
        dict with ``grid``, ``delta_chi2_obs``, ``critical`` (CL quantile per point), ``accepted``
        mask, ``interval`` (lo, hi of the accepted region) and the Wilks level for comparison.
    """
    init, fixed = dict(init or {}), dict(fixed or {})
    observed = jnp.asarray(observed, dtype=float)
    grid = np.asarray(grid, dtype=float)
    nuis = tuple(init)
    kw = dict(bounds=bounds, covariance=False, **fit_kwargs)
    mid = float(np.median(grid))

    def profile(mu, data, start):
        fx = {**fixed, poi: mu}
        if not nuis:
            return chi2(fx, data), {}
        r = fit(lambda th: chi2(th, data), dict(start), fixed=fx, **kw)
        return r.value, {k: r.params[k] for k in nuis}

    seeds = None if global_grid is None else jnp.asarray(global_grid, dtype=float)

    def global_min(data, start):
        x0 = start.get(poi, mid)
        if seeds is not None:
            vals = jax.vmap(lambda m: profile(m, data, start)[0])(seeds)
            x0 = seeds[jnp.argmin(vals)]
        r = fit(lambda th: chi2(th, data), {**dict(start), poi: x0}, fixed=fixed, **kw)
        return jnp.minimum(r.value, jnp.min(vals)) if seeds is not None else r.value

    def delta(mu, data, start):
        v, p = profile(mu, data, start)
        g = global_min(data, {**p, poi: mu})
        return jnp.maximum(v - jnp.minimum(g, v), 0.0), p

    def point(mu, key):
        d_obs, p = delta(mu, observed, init)
        lam = expected({**fixed, **p, poi: mu})
        if draw is None:
            toys = jax.random.poisson(key, lam, shape=(n_toys,) + lam.shape).astype(float)
        else:
            toys = jax.vmap(lambda k: draw(k, lam))(jax.random.split(key, n_toys))
        d_toy, _ = jax.vmap(lambda dt: delta(mu, dt, p))(toys)
        # 'higher': the smallest toy value whose empirical CDF reaches cl, which reproduces the discrete
        # Feldman-Cousins acceptance (add outcomes by rank until the probability reaches cl)
        return d_obs, jnp.quantile(d_toy, cl, method="higher")

    run = jax.jit(jax.vmap(point))
    keys = jax.random.split(jax.random.PRNGKey(seed), len(grid))
    n_dev = len(jax.devices())
    d_obs, crit = np.zeros(len(grid)), np.zeros(len(grid))
    bar = progress_bar(len(grid), f"Feldman-Cousins {poi}", progress)
    chunk = n_dev * max(1, 8 // n_dev)
    sharding = points_sharding(chunk)
    for lo in range(0, len(grid), chunk):
        idx = np.arange(lo, min(lo + chunk, len(grid)))
        pad = np.concatenate([idx, np.repeat(idx[-1:], chunk - len(idx))])
        mus, ks = jnp.asarray(grid[pad]), keys[pad]
        if sharding is not None:
            mus, ks = jax.device_put(mus, sharding), jax.device_put(ks, sharding)
        a, b = run(mus, ks)
        d_obs[idx], crit[idx] = np.asarray(a)[: len(idx)], np.asarray(b)[: len(idx)]
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    accepted = d_obs <= crit + 1e-7 * (1.0 + np.abs(crit))  # equal ranks count as accepted
    interval = (float(grid[accepted].min()), float(grid[accepted].max())) if accepted.any() else (np.nan, np.nan)
    return {
        "poi": poi,
        "grid": grid,
        "delta_chi2_obs": d_obs,
        "critical": crit,
        "accepted": accepted,
        "interval": interval,
        "cl": cl,
        "n_toys": n_toys,
    }


def feldman_cousins_interval(
    experiments,
    poi: str,
    grid,
    *,
    zprime_charges: str | None = None,
    fixed: Mapping[str, float] | None = None,
    bounds: Bounds | None = None,
    cl: float = 0.90,
    n_toys: int = 500,
    seed: int = 0,
    profile_steps: int = 12,
    progress: bool = True,
    global_grid=None,
) -> dict:
    """Feldman-Cousins interval of one named parameter (see :mod:`nsijax.parameters.names`) from any
    experiments, every nuisance profiled inside the chi^2.

    Toys replace the observed data of every experiment at once: each is drawn by its ``resample`` method
    around its own expectation at (``poi`` = mu, nuisances profiled on the observed data), with its
    own statistics (Poisson counts for binned experiments: COHERENT, KamLAND, SNO, DUNE; Gaussian
    values with the measurement errors for Gaussian-term ones: CHARM, NuTeV, Borexino P_ee), from
    independent keys. ``bounds`` should bound ``poi`` (the global fits).

    Example:
        >>> csi = nsijax.experiments.load("coherent_csi_2017")
        >>> out = feldman_cousins_interval([csi], "eps_u_ee", np.linspace(-0.2, 0.6, 41), bounds={"eps_u_ee": (-1, 1)})
    """
    exps = list(as_experiments(experiments))  # clear errors for an empty list, duplicates, non-experiments
    shapes = [e.observed.shape for e in exps]
    sizes = [int(np.prod(s)) for s in shapes]
    splits = np.cumsum(sizes)[:-1]
    fixed = dict(fixed or {})

    def with_data(flat):
        parts = jnp.split(flat, splits)
        return [eqx.tree_at(lambda x: x.observed, e, part.reshape(shape)) for e, part, shape in zip(exps, parts, shapes)]

    def chi2(theta, data):
        p = build_params(theta, zprime_charges=zprime_charges)
        return _chi2(p, with_data(data), nuisances="profile", profile_steps=profile_steps)

    def expected(theta):
        p = profile_nuisances(build_params(theta, zprime_charges=zprime_charges), exps, profile_steps=profile_steps)
        return jnp.concatenate([total_counts(p, e).ravel() for e in exps])

    def draw(key, flat_expectation):
        keys = jax.random.split(key, len(exps))
        parts = jnp.split(flat_expectation, splits)
        toys = [e.resample(k, part.reshape(shape)) for e, part, shape, k in zip(exps, parts, shapes, keys)]
        return jnp.concatenate([t.ravel() for t in toys])

    observed = jnp.concatenate([e.observed.ravel() for e in exps])
    return feldman_cousins(
        chi2, expected, observed, poi, grid, fixed=fixed, bounds=bounds, cl=cl, n_toys=n_toys, seed=seed,
        progress=progress, global_grid=global_grid, draw=draw,
    )
