"""Likelihoods of any set of experiments sharing physics parameters.

    chi2(params, experiments)           = sum_exp [ chi^2_BC(n, mu) + sum theta^2 ]  (+ Gaussian terms)
    log_likelihood(params, experiments) = sum_exp [ log L_Poisson(n, mu) - theta^2 / 2 ]  (- Gaussian terms / 2)

so that chi2 = -2 (log_likelihood - log L_saturated) exactly (:mod:`nsijax.statistics.terms`). Each
experiment contributes through its interface (:class:`nsijax.experiments.base.AbstractExperiment`):
``physics`` once per point, ``expected`` iterated by the profiler, ``terms`` (Poisson by default,
Gaussian for measured values such as CHARM, NuTeV, Borexino P_ee). Nuisances are standard-normal
pulls (prior N(0, 1)) stored in ``params.nuisances`` under ``"<experiment>.<nuisance>"``.

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

from .errors import InvalidInputError, InvalidParamsError
from .experiments.base import AbstractExperiment, check_params
from .parameters.params import Params
from .statistics.implicit import implicit_min

#: Pulls are kept inside [-PULL_BOUND, PULL_BOUND] by the profiling steps.
PULL_BOUND = 8.0


def as_experiments(experiments) -> tuple[AbstractExperiment, ...]:
    """``experiments`` (one experiment or a sequence) as a tuple, with clear errors for an empty list,
    duplicates and anything that is not an nsijax experiment."""
    if isinstance(experiments, AbstractExperiment):
        return (experiments,)
    if isinstance(experiments, (str, bytes)) or not isinstance(experiments, Sequence):
        raise InvalidInputError(
            "experiments must be an experiment or a list of them (see nsijax.experiments.load)"
        )
    exps = tuple(experiments)
    if not exps:
        raise InvalidInputError("experiments is empty")
    for e in exps:
        if not isinstance(e, AbstractExperiment):
            raise InvalidInputError(f"experiments must hold nsijax experiments; got {type(e).__name__}")
    names = [e.name for e in exps]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"an experiment appears twice: {names}")
    return exps


def _profile_theta(
    params: Params, exp: AbstractExperiment, physics, steps: int, fixed: frozenset = frozenset()
) -> tuple[Array | None, Float[Array, " n"]]:
    """Minimise chi2 over the pulls of ``exp`` with ``steps`` damped Gauss-Newton steps.

    The physics does not depend on the pulls and is computed once. Each step is -H^-1 g with g the exact
    gradient of the experiment's chi^2 + pull chi^2 (reverse mode: its statistic and its priors, e.g.
    variances that depend on the pulls, uniform-prior pulls) and H the Gauss-Newton curvature
    J^T diag(w) J + 2 I with J = d mu / d theta (forward mode, one pass per pull) and w the experiment's
    per-bin curvature (:meth:`~nsijax.experiments.base.AbstractExperiment.chi2_derivatives`; 2 n / mu^2
    for Poisson bins); 2 I is the curvature of N(0, 1) priors (a damping for uniform-prior pulls) and
    keeps H positive definite. A step is accepted only if it lowers chi2 (full or half step), so the
    iteration never goes uphill. Pulls
    whose key is in ``fixed`` keep their value from ``params`` (and its derivatives).

    Returns ``(chi2 at the optimum or None if nothing is profiled, pulls)``. Derivatives
    (:func:`nsijax.statistics.implicit.implicit_min`): the profiled chi^2 has envelope-theorem gradients (as cheap
    as at fixed pulls) and Hessians that include the profiled directions; the pulls carry their
    implicit derivative -H^-1 H_theta_x (exact Hessian of the chi^2 at the optimum).
    """
    theta0 = exp.pulls(params)
    free = np.array([k not in fixed for k in exp.nuisance_keys], dtype=bool)
    if theta0.shape[0] == 0 or steps == 0 or not free.any():
        return None, theta0
    n = theta0.shape[0]

    def full(theta, p, e):  # the held pulls come from params, the free ones from theta
        return jnp.where(free, theta, e.pulls(p))

    def objective(theta, args):
        p, r, e = args
        t = e.terms(p, full(theta, p, e), r)
        return t.chi2 + t.pull_chi2

    def solve(args):
        p, r, e = args
        eye = jnp.eye(n)
        free_f = jnp.asarray(free, dtype=float)

        def mu_flat(theta):
            return e.expected(p, theta, r).ravel()

        def f(theta):  # the held pulls of theta are those of params throughout
            return objective(theta, args)

        def step(carry, _):
            theta, val = carry
            mu, jvp = jax.linearize(mu_flat, theta)
            jac = jax.vmap(jvp, out_axes=1)(eye)  # (nbins, n)
            _, d2 = e.chi2_derivatives(mu.reshape(e.observed.shape))
            g = jax.grad(f)(theta)  # exact: the statistic and the pull priors as the experiment defines them
            h = (jac * d2.ravel()[:, None]).T @ jac + 2.0 * eye
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

        start = e.pulls(p)
        (theta, _), _ = jax.lax.scan(step, (start, f(start)), None, length=steps)
        return theta

    value, theta = implicit_min(objective, solve, (params, physics, exp), free)
    return value, full(theta, params, exp)


@eqx.filter_jit
def _evaluate(params: Params, exps: tuple[AbstractExperiment, ...], mode: str, steps: int, fixed: frozenset):
    loglik = jnp.zeros(())
    chi = jnp.zeros(())
    penalty = jnp.zeros(())
    fitted = {}
    for exp in exps:
        pulls = exp.pulls(params)
        physics = exp.physics(params)
        value = None
        if mode == "profile":
            value, pulls = _profile_theta(params, exp, physics, steps, fixed)
            fitted.update({k: pulls[i] for i, k in enumerate(exp.nuisance_keys)})
        t = exp.terms(params, pulls, physics)
        loglik = loglik + t.log_likelihood
        penalty = penalty + t.pull_chi2
        chi = chi + (t.chi2 + t.pull_chi2 if value is None else value)  # value: the same sum, envelope derivatives
    return loglik, chi, fitted, penalty


def _run(params, experiments, nuisances, steps, fixed=()):
    exps = as_experiments(experiments)
    for e in exps:
        check_params(params, e)
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
    experiments: AbstractExperiment | Sequence[AbstractExperiment],
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
        experiments: one experiment (:func:`nsijax.experiments.load`) or a list of them.
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
    experiments: AbstractExperiment | Sequence[AbstractExperiment],
    *,
    nuisances: Literal["given", "profile"] = "given",
    profile_steps: int = 12,
    fixed: Sequence[str] = (),
) -> Float[Array, ""]:
    """-2 (log L - log L_saturated): Baker-Cousins Poisson chi^2 + pulls^2 + Gaussian chi^2 terms."""
    return _run(params, experiments, nuisances, profile_steps, fixed)[1]


def profile_nuisances(
    params: Params,
    experiments: AbstractExperiment | Sequence[AbstractExperiment],
    *,
    profile_steps: int = 12,
    fixed: Sequence[str] = (),
) -> Params:
    """``params`` with the nuisances of ``experiments`` replaced by their profiled (best-fit) pulls."""
    fitted = _run(params, experiments, "profile", profile_steps, fixed)[2]
    return params.with_nuisances(fitted)
