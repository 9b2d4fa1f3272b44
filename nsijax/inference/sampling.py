"""Posterior sampling with numpyro: a model built from any log-likelihood over named parameters and
their priors, NUTS in float64, arviz diagnostics (R-hat, ESS).

:func:`experiment_model` builds the model of a set of experiments. By default the nuisance pulls are
parameters of the posterior with their N(0, 1) priors, so NUTS samples the joint posterior and the
physics parameters' margins are the marginal posterior. ``nuisances="profile"`` instead samples the
profile likelihood (pulls maximised at each step): a quick look, not a Bayesian posterior.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InvalidInputError, InvalidParamsError
from ..likelihood import as_experiments, log_likelihood
from ..parameters.names import build_params, check_names

#: What the samples of :func:`experiment_model` are, by ``nuisances`` mode (for outputs and logs).
LIKELIHOOD_LABELS = {
    "sample": "marginal (nuisance pulls sampled with N(0,1) priors)",
    "profile": "profiled (nuisances profiled at each step; not a Bayesian posterior)",
}


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


def experiment_model(
    experiments,
    priors: Mapping[str, object],
    *,
    nuisances: str = "sample",
    zprime_charges: str | None = None,
    profile_steps: int = 12,
):
    """A numpyro model of the named parameters in ``priors`` (names of
    :mod:`nsijax.parameters.names`) given ``experiments``; returns ``(model, sampled_nuisances)``.

    Args:
        experiments: an :class:`~nsijax.experiments.Experiment` or a list of them.
        priors: name -> numpyro distribution for the parameters of interest.
        nuisances: ``"sample"`` (default): every nuisance pull ``"<experiment>.<nuisance>"`` not named
            in ``priors`` gets a N(0, 1) sample site and the likelihood is
            ``log_likelihood(..., nuisances="given", include_priors=False)``, so the pulls' priors are
            counted once; a pull named in ``priors`` keeps its N(0, 1) constraint as an extra
            log-density term on top of the given prior. The draws are the joint posterior, the
            margins the marginal posterior (as notebooks/04_posterior_sampling.ipynb).
            ``"profile"``: the pulls not in ``priors`` are profiled at each step
            (``log_likelihood(..., nuisances="profile")``, their N(0, 1) terms included): NUTS then
            samples the profile likelihood times the priors, not a Bayesian posterior.
        zprime_charges: charge preset for ``zprime_*`` parameters.
        profile_steps: Gauss-Newton steps of the profiling (``nuisances="profile"``).

    Returns:
        the numpyro model and the tuple of nuisance keys sampled with N(0, 1) priors (empty when
        profiling). :data:`LIKELIHOOD_LABELS` ``[nuisances]`` says what the samples are.
    """
    import numpyro.distributions as dist


    if nuisances not in LIKELIHOOD_LABELS:
        raise InvalidInputError(f"nuisances must be one of {sorted(LIKELIHOOD_LABELS)}; got {nuisances!r}")
    exps = as_experiments(experiments)
    check_names(priors)
    keys = tuple(k for e in exps for k in e.nuisance_keys)
    given = tuple(k for k in keys if k in priors)  # pulls with a user prior: N(0, 1) constraint kept

    if nuisances == "profile":

        def ll(theta):
            p = build_params(theta, zprime_charges=zprime_charges)
            return log_likelihood(p, exps, nuisances="profile", profile_steps=profile_steps, fixed=given)

        return numpyro_model(ll, priors), ()

    sampled = tuple(k for k in keys if k not in priors)

    def ll(theta):
        p = build_params(theta, zprime_charges=zprime_charges)
        constraint = sum((-0.5 * jnp.asarray(theta[k]) ** 2 for k in given), jnp.zeros(()))
        return log_likelihood(p, exps, nuisances="given", include_priors=False) + constraint

    return numpyro_model(ll, {**priors, **{k: dist.Normal(0.0, 1.0) for k in sampled}}), sampled


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
