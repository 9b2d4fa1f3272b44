"""Statistical building blocks: Poisson log-likelihood, Baker-Cousins chi^2, Gaussian terms.

Conventions (PHYSICS.md, Statistics):
    log L_Poisson = sum_i [ n_i ln mu_i - mu_i - ln Gamma(n_i + 1) ]
    chi^2_BC      = 2 sum_i [ mu_i - n_i + n_i ln(n_i / mu_i) ]  = -2 (log L - log L_saturated)
    (S. Baker & R. D. Cousins, Nucl. Instrum. Meth. 221 (1984) 437.)

Floors: expected counts below :data:`MU_FLOOR` are replaced by it inside the logarithm, so a bin with
observed counts but (numerically) zero expectation gives a large but finite penalty and a finite
(zero) gradient instead of -inf / NaN. Bins with n = 0 contribute mu exactly (no logarithm).
A negative expectation (only possible from a detector model pushed outside its domain) counts as 0
in the linear term too, so chi^2 >= 0 and log L <= log L_saturated always hold.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import gammaln
from jaxtyping import Array, Float

#: Floor on expected counts inside logarithms (events per bin).
MU_FLOOR = 1e-10


def _safe_log_mu(n, mu):
    return jnp.where(n > 0, jnp.log(jnp.maximum(mu, MU_FLOOR)), 0.0)


def poisson_log_likelihood(observed: Float[Array, "..."], expected: Float[Array, "..."]) -> Float[Array, ""]:
    """sum_i [n_i ln mu_i - mu_i - ln n_i!] over all bins (mu floored at MU_FLOOR in the log)."""
    n = jnp.asarray(observed)
    mu = jnp.maximum(jnp.asarray(expected), 0.0)
    return jnp.sum(n * _safe_log_mu(n, mu) - mu - gammaln(n + 1.0))


def poisson_saturated_log_likelihood(observed: Float[Array, "..."]) -> Float[Array, ""]:
    """log L of the saturated model mu = n (the maximum of :func:`poisson_log_likelihood`)."""
    n = jnp.asarray(observed)
    return jnp.sum(jnp.where(n > 0, n * jnp.log(jnp.where(n > 0, n, 1.0)), 0.0) - n - gammaln(n + 1.0))


def baker_cousins_chi2(observed: Float[Array, "..."], expected: Float[Array, "..."]) -> Float[Array, ""]:
    """Poisson chi^2 of Baker & Cousins: 2 sum [mu - n + n ln(n/mu)] (>= 0, 0 iff mu = n)."""
    n = jnp.asarray(observed)
    mu = jnp.maximum(jnp.asarray(expected), 0.0)
    n_log_n = jnp.where(n > 0, n * jnp.log(jnp.where(n > 0, n, 1.0)), 0.0)
    return 2.0 * jnp.sum(mu - n + n_log_n - n * _safe_log_mu(n, mu))


def gaussian_chi2(value, mean, sigma) -> Float[Array, ""]:
    """sum ((value - mean) / sigma)^2."""
    return jnp.sum(((jnp.asarray(value) - mean) / sigma) ** 2)


def pull_penalty(theta: Float[Array, " n"]) -> Float[Array, ""]:
    """Gaussian constraint of standard-normal nuisance pulls: sum theta^2 (chi^2 units)."""
    return jnp.sum(jnp.asarray(theta) ** 2)
