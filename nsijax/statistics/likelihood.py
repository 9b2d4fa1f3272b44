"""Likelihoods of any set of experiments sharing physics parameters.

    chi2(params, experiments)           = sum_exp [ chi^2_BC(n, mu) + sum theta^2 ]  (+ Gaussian terms)
    log_likelihood(params, experiments) = sum_exp [ log L_Poisson(n, mu) - theta^2 / 2 ]  (- Gaussian terms / 2)

so that chi2 = -2 (log_likelihood - log L_saturated) exactly (:mod:`nsijax.statistics.terms`). Oscillation
experiments (``kind = "oscillation"``: Borexino P_ee as Gaussian terms, the KamLAND spectrum as Poisson
terms) are predicted by :mod:`nsijax.experiments.oscillation_data` from ``params.osc`` (None = NuFIT 6.0
NO) and ``params.nsi``, and join the same sums. Nuisances are
standard-normal pulls (prior N(0, 1)) stored in ``params.nuisances`` under
``"<experiment>.<nuisance>"``; their effects are those of :mod:`nsijax.experiments.response`.

Nuisance handling (``nuisances=``):
    "given"   - use the pulls in ``params`` (missing = 0). This is the mode for samplers: either use
                ``log_likelihood`` (which includes the N(0, 1) log-priors of the pulls) with flat
                sampling priors, or give the pulls N(0, 1) priors in the sampler and call
                ``log_likelihood(..., include_priors=False)``.
    "profile" - minimise chi2 over every nuisance of each experiment with a fixed number of damped
                Gauss-Newton steps (``lax.scan``; the physics is evaluated once, only the detector
                response is iterated; nuisances of different experiments are independent, so each
                experiment is profiled separately). The profiled pulls carry their implicit
                derivatives (:mod:`nsijax.statistics.implicit`): gradients are the envelope-theorem ones, and
                Hessians (fit errors) are those of the profiled chi2, profiled directions included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..errors import InvalidInputError, InvalidParamsError
from ..experiments import oscillation_data as _osc_data
from ..experiments import response as _response
from ..experiments.experiment import Experiment
from ..parameters.params import Params
from ..rates import recoil_rates
from . import terms as stats
from .implicit import implicit_min

#: Pulls are kept inside [-PULL_BOUND, PULL_BOUND] by the profiling steps.
PULL_BOUND = 8.0


def _as_tuple(experiments) -> tuple[Experiment, ...]:
    if isinstance(experiments, Experiment):
        return (experiments,)
    if isinstance(experiments, (str, bytes)) or not isinstance(experiments, Sequence):
        raise InvalidInputError(
            "experiments must be an Experiment or a list of them (see nsijax.experiments.load)"
        )
    exps = tuple(experiments)
    if not exps:
        raise InvalidInputError("experiments is empty")
    for e in exps:
        if not isinstance(e, Experiment):
            raise InvalidInputError(f"experiments must hold nsijax Experiments; got {type(e).__name__}")
    names = [e.name for e in exps]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"an experiment appears twice: {names}")
    return exps


def _check_params(params: Params, exps: tuple[Experiment, ...]) -> None:
    if not isinstance(params, Params):
        raise InvalidInputError(f"params must be an nsijax.Params; got {type(params).__name__}")
    by_name = {e.name: e for e in exps}
    for key in params.nuisances:
        exp_name, _, nuis = key.partition(".")
        if exp_name in by_name and nuis not in by_name[exp_name].nuisance_names:
            raise InvalidParamsError(
                f"unknown nuisance {key!r}; {exp_name} has {list(by_name[exp_name].nuisance_keys)}"
            )
        if jnp.ndim(params.nuisances[key]) != 0:
            raise InvalidParamsError(f"nuisance {key!r} must be a scalar pull")


def _theta(params: Params, exp: Experiment) -> Float[Array, " n"]:
    if not exp.nuisance_names:
        return jnp.zeros((0,))
    return jnp.stack([jnp.asarray(params.nuisance(k), dtype=float) for k in exp.nuisance_keys])


def _physics(params: Params, exp: Experiment):
    """The nuisance-independent part of an experiment's prediction, computed once per parameter point:
    recoil rates (CEvNS), oscillated signal / P_ee (oscillation experiments), None (Gaussian)."""
    if exp.kind == "gaussian":
        return None
    if exp.kind == "oscillation":
        return _osc_data.physics(params, exp)
    return recoil_rates(params, exp)


def _mu(params: Params, exp: Experiment, theta, rates) -> Float[Array, "..."]:
    """Total expected counts per bin at pulls ``theta`` from precomputed recoil ``rates``."""
    if exp.kind == "oscillation":
        return _osc_data.expected(exp, theta, rates)
    return _response.total(_response.apply(exp, theta, rates, params.cevns_scale))


def _terms(params: Params, exp: Experiment, theta, rates) -> tuple[Array, Array, Array]:
    """(Poisson log L, Baker-Cousins chi^2, pull chi^2) of one experiment at pulls ``theta``."""
    if exp.kind == "gaussian":
        pred = _response.gaussian_prediction(params, exp)
        g = stats.gaussian_chi2(pred, exp.observed, exp.tables["sigma"])
        return -0.5 * g, g, jnp.zeros(())
    if exp.kind == "oscillation" and exp.response == "solar_pee":
        g = _osc_data.gaussian_chi2(exp, rates)
        return -0.5 * g, g, jnp.zeros(())
    mu = _mu(params, exp, theta, rates)
    return (
        stats.poisson_log_likelihood(exp.observed, mu),
        stats.baker_cousins_chi2(exp.observed, mu),
        stats.pull_penalty(theta),
    )


def resample(exp, expectation, key: jax.Array) -> jax.Array:
    """One pseudo-data set of ``exp`` around ``expectation`` (shaped like ``exp.observed``), drawn with
    the experiment's own statistics, the ones its likelihood term assumes (:func:`_terms`):

    * Gaussian-term experiments (``kind = "gaussian"``: CHARM, NuTeV): value ~ N(prediction, sigma^2),
      sigma = ``tables["sigma"]``;
    * Borexino-like P_ee points (``response = "solar_pee"``): the split normal whose density is the
      likelihood's exp(-chi^2/2) with its side-dependent errors: chi^2 uses ``sigma_up`` where the
      prediction exceeds the value, so values below the prediction are drawn with width ``sigma_up``
      (probability sigma_up / (sigma_up + sigma_down)) and values above with ``sigma_down``; for equal
      errors (the shipped data) this is N(prediction, sigma^2);
    * every other experiment (binned Poisson: COHERENT, KamLAND, SNO, DUNE): Poisson counts with means
      ``expectation``.

    Jit- and vmap-able (the choice depends only on static fields of ``exp``).
    """
    lam = jnp.asarray(expectation, dtype=float)
    if exp.kind == "gaussian":
        sig = exp.tables["sigma"]
        return lam + sig * jax.random.normal(key, lam.shape)
    if exp.kind == "oscillation" and exp.response == "solar_pee":
        return _split_normal(key, lam, exp.tables["sigma_up"], exp.tables["sigma_down"])
    return jax.random.poisson(key, lam, shape=lam.shape).astype(float)


def _split_normal(key, mean, sigma_below, sigma_above):
    """Draws with density prop. to exp(-(x - mean)^2 / (2 s^2)), s = sigma_below for x < mean, sigma_above
    above (normalised: P(x < mean) = sigma_below / (sigma_below + sigma_above))."""
    k_side, k_size = jax.random.split(key)
    z = jnp.abs(jax.random.normal(k_size, mean.shape))
    below = jax.random.uniform(k_side, mean.shape) < sigma_below / (sigma_below + sigma_above)
    return jnp.where(below, mean - sigma_below * z, mean + sigma_above * z)


def _profile_theta(
    params: Params, exp: Experiment, rates, steps: int, fixed: frozenset = frozenset()
) -> tuple[Array | None, Float[Array, " n"]]:
    """Minimise chi2 over the pulls of ``exp`` with ``steps`` damped Gauss-Newton steps.

    The physics (recoil rates) does not depend on the pulls and is computed once. The curvature is
    the Gauss-Newton (observed-information) form H = J^T diag(2 n / mu^2) J + 2 I with J = d mu / d theta
    (forward mode, one pass per pull), positive definite thanks to the N(0, 1) priors. A step is
    accepted only if it lowers chi2 (full or half step), so the iteration never goes uphill. Pulls
    whose key is in ``fixed`` keep their value from ``params`` (and its derivatives).

    Returns ``(chi2 at the optimum or None if nothing is profiled, pulls)``. Derivatives
    (:func:`nsijax.statistics.implicit.implicit_min`): the profiled chi^2 has envelope-theorem gradients (as cheap
    as at fixed pulls) and Hessians that include the profiled directions; the pulls carry their
    implicit derivative -H^-1 H_theta_x (exact Hessian of the chi^2 at the optimum).
    """
    theta0 = _theta(params, exp)
    free = np.array([k not in fixed for k in exp.nuisance_keys], dtype=bool)
    if theta0.shape[0] == 0 or steps == 0 or not free.any():
        return None, theta0
    n = theta0.shape[0]

    def full(theta, p, e):  # the held pulls come from params, the free ones from theta
        return jnp.where(free, theta, _theta(p, e))

    def objective(theta, args):
        p, r, e = args
        th = full(theta, p, e)
        return stats.baker_cousins_chi2(e.observed.ravel(), _mu(p, e, th, r).ravel()) + stats.pull_penalty(th)

    def solve(args):
        p, r, e = args
        n_obs = e.observed.ravel()
        eye = jnp.eye(n)
        free_f = jnp.asarray(free, dtype=float)

        def mu_flat(theta):
            return _mu(p, e, theta, r).ravel()

        def f(theta):  # the held pulls of theta are those of params throughout
            return objective(theta, args)

        def step(carry, _):
            theta, val = carry
            mu, jvp = jax.linearize(mu_flat, theta)
            jac = jax.vmap(jvp, out_axes=1)(eye)  # (nbins, n)
            mu_s = jnp.maximum(mu, stats.MU_FLOOR)
            g = jac.T @ (2.0 * (1.0 - n_obs / mu_s) * (mu > stats.MU_FLOOR)) + 2.0 * theta
            h = (jac * (2.0 * n_obs / mu_s**2)[:, None]).T @ jac + 2.0 * eye
            g = g * free_f
            h = h * free_f[:, None] * free_f[None, :] + jnp.diag(1.0 - free_f)
            delta = jnp.linalg.solve(h + 1e-9 * eye, g)
            delta = jnp.where(jnp.all(jnp.isfinite(delta)), delta, 0.0)
            cand = jnp.clip(theta - delta, -PULL_BOUND, PULL_BOUND)
            half = jnp.clip(theta - 0.5 * delta, -PULL_BOUND, PULL_BOUND)
            v_c, v_h = f(cand), f(half)
            use_c = (v_c < val) & (v_c <= v_h)
            use_h = (~use_c) & (v_h < val)
            new = jnp.where(use_c, cand, jnp.where(use_h, half, theta))
            new_val = jnp.where(use_c, v_c, jnp.where(use_h, v_h, val))
            return (new, new_val), None

        start = _theta(p, e)
        (theta, _), _ = jax.lax.scan(step, (start, f(start)), None, length=steps)
        return theta

    value, theta = implicit_min(objective, solve, (params, rates, exp), free)
    return value, full(theta, params, exp)


@eqx.filter_jit
def _evaluate(params: Params, exps: tuple[Experiment, ...], mode: str, steps: int, fixed: frozenset):
    loglik = jnp.zeros(())
    chi = jnp.zeros(())
    penalty = jnp.zeros(())
    fitted = {}
    for exp in exps:
        theta = _theta(params, exp)
        rates = _physics(params, exp)
        value = None
        if mode == "profile" and exp.kind != "gaussian":
            value, theta = _profile_theta(params, exp, rates, steps, fixed)
            fitted.update({k: theta[i] for i, k in enumerate(exp.nuisance_keys)})
        ll, bc, pen = _terms(params, exp, theta, rates)
        loglik = loglik + ll
        penalty = penalty + pen
        chi = chi + (bc + pen if value is None else value)  # value: the same sum, envelope derivatives
    return loglik, chi, fitted, penalty


def _run(params, experiments, nuisances, steps, fixed=()):
    exps = _as_tuple(experiments)
    _check_params(params, exps)
    if any(e.kind == "oscillation" for e in exps):
        _osc_data.osc_of(params)  # params.osc: OscParams or None (= NuFIT 6.0 NO), else a clear error
    if isinstance(fixed, str):
        fixed = (fixed,)
    known = {k for e in exps for k in e.nuisance_keys}
    unknown = sorted(set(fixed) - known)
    if unknown:
        raise InvalidParamsError(f"fixed names unknown nuisances {unknown}; known: {sorted(known)}")
    if nuisances not in ("given", "profile"):
        raise InvalidInputError(f"nuisances must be 'given' or 'profile'; got {nuisances!r}")
    if not isinstance(steps, int) or steps < 0:
        raise InvalidInputError(f"profile_steps must be a non-negative int; got {steps!r}")
    return _evaluate(params, exps, nuisances, steps, frozenset(fixed))


def log_likelihood(
    params: Params,
    experiments: Experiment | Sequence[Experiment],
    *,
    nuisances: Literal["given", "profile"] = "given",
    profile_steps: int = 12,
    fixed: Sequence[str] = (),
    include_priors: bool = True,
) -> Float[Array, ""]:
    """Total log-likelihood: Poisson terms of the binned data, N(0,1) priors of the pulls (without the
    constant -ln sqrt(2 pi)), Gaussian terms of CHARM/NuTeV as -chi^2/2.

    Args:
        params: :class:`nsijax.Params` (physics and nuisance pulls).
        experiments: one :class:`~nsijax.experiments.Experiment` or a list of them.
        nuisances: "given" (use the pulls in ``params``) or "profile" (maximise over them).
        profile_steps: Newton steps per experiment when profiling (static).
        fixed: nuisance keys kept at their ``params`` value when profiling (e.g. the signal
            systematics in a fit of the CEvNS normalisation).
        include_priors: add the N(0, 1) log-priors -theta^2/2 of the pulls (default). Set False
            when a sampler already puts N(0, 1) priors on the pulls, so they are not counted twice.
    """
    out = _run(params, experiments, nuisances, profile_steps, fixed)
    return out[0] - 0.5 * out[3] if include_priors else out[0]


def chi2(
    params: Params,
    experiments: Experiment | Sequence[Experiment],
    *,
    nuisances: Literal["given", "profile"] = "given",
    profile_steps: int = 12,
    fixed: Sequence[str] = (),
) -> Float[Array, ""]:
    """-2 (log L - log L_saturated): Baker-Cousins Poisson chi^2 + pulls^2 + Gaussian chi^2 terms."""
    return _run(params, experiments, nuisances, profile_steps, fixed)[1]


def profile_nuisances(
    params: Params,
    experiments: Experiment | Sequence[Experiment],
    *,
    profile_steps: int = 12,
    fixed: Sequence[str] = (),
) -> Params:
    """``params`` with the nuisances of ``experiments`` replaced by their profiled (best-fit) pulls."""
    fitted = _run(params, experiments, "profile", profile_steps, fixed)[2]
    return params.with_nuisances(fitted)
