"""Posterior sampling with numpyro: a model built from any log-likelihood over named parameters and
their priors, NUTS in float64, arviz diagnostics (R-hat, ESS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidParamsError


def numpyro_model(log_likelihood: Callable[[dict], jax.Array], priors: Mapping[str, object]):
    """A numpyro model: one sample site per name in ``priors`` (numpyro distributions), plus a
    ``numpyro.factor`` holding ``log_likelihood(theta)``.

    A non-finite log-likelihood becomes -inf, which NUTS treats as a divergence (the inner likelihood
    stays total; it does not raise).
    """
    import numpyro

    if not priors:
        raise InvalidParamsError("numpyro_model needs at least one prior")

    def model():
        theta = {k: numpyro.sample(k, d) for k, d in priors.items()}
        ll = log_likelihood(theta)
        numpyro.factor("log_likelihood", jnp.where(jnp.isfinite(ll), ll, -jnp.inf))

    return model


def run_nuts(
    model,
    *,
    num_warmup: int = 500,
    num_samples: int = 1000,
    num_chains: int = 2,
    seed: int = 0,
    init_params: Mapping[str, float] | None = None,
    progress_bar: bool = True,
    target_accept_prob: float = 0.8,
):
    """Run NUTS and return ``(samples, summary)``: samples as a dict name -> (chains, draws) array
    and, when arviz is installed, its summary table (mean, sd, hdi, ess_bulk, ess_tail, r_hat) as a
    dict of dicts; otherwise numpyro's own R-hat and effective sample sizes."""
    from numpyro.infer import MCMC, NUTS, init_to_median, init_to_value

    init = init_to_value(values=dict(init_params)) if init_params else init_to_median()
    n_dev = len(jax.devices())
    method = "parallel" if n_dev >= num_chains and n_dev > 1 else "vectorized"
    mcmc = MCMC(
        NUTS(model, init_strategy=init, target_accept_prob=target_accept_prob),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=method,
        progress_bar=progress_bar,
    )
    mcmc.run(jax.random.PRNGKey(seed))
    samples = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    try:
        import warnings

        with warnings.catch_warnings():  # arviz 0.2x announces its 1.0 refactor with a FutureWarning
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as az

            idata = az.from_numpyro(mcmc)
            summary = az.summary(idata).to_dict(orient="index")
    except ImportError:
        from numpyro.diagnostics import summary as np_summary

        summary = {k: {kk: float(np.asarray(vv)) for kk, vv in d.items()} for k, d in np_summary(samples).items()}
    return samples, summary
