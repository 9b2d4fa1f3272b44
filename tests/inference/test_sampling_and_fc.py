"""NUTS posteriors and Feldman-Cousins intervals on problems with known answers."""

import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.inference import feldman_cousins, numpyro_model, run_nuts


def test_nuts_recovers_gaussian_posterior():
    """Flat-ish wide priors x N(1, 0.5^2) likelihood: posterior mean 1, sd 0.5 (conjugate Gaussian)."""
    import numpyro.distributions as dist

    model = numpyro_model(lambda th: -0.5 * ((th["a"] - 1.0) / 0.5) ** 2, {"a": dist.Normal(0.0, 100.0)})
    samples, summary = run_nuts(model, num_warmup=300, num_samples=1500, num_chains=2, progress_bar=False)
    a = samples["a"]
    assert a.shape == (2, 1500) and a.dtype == np.float64
    assert a.mean() == pytest.approx(1.0, abs=0.05)
    assert a.std() == pytest.approx(0.5, rel=0.08)
    assert "a" in summary


def _exact_belt(n_obs, b, s, cl=0.9):
    """Exact Neyman construction with likelihood-ratio ordering by enumerating n (scipy), written
    independently of nsijax. Returns (critical Delta chi^2, accepted?, probability margin of the
    rank that decides: how far the cumulative sums either side of it are from cl)."""
    from scipy.stats import poisson

    ns = np.arange(0, 200)
    mu_hat = np.maximum(0.0, ns - b) + b
    d = 2 * (ns * np.log(np.where(ns > 0, mu_hat / (s + b), 1.0)) - mu_hat + s + b)
    order = np.argsort(d, kind="stable")
    cum = np.cumsum(poisson.pmf(ns, s + b)[order])
    k = int(np.searchsorted(cum, cl))
    margin = min(cum[k] - cl, cl - (cum[k - 1] if k else 0.0))
    return d[order][k], d[n_obs] <= d[order][k] + 1e-12, margin


def test_feldman_cousins_counting():
    """Poisson signal s over a known background b = 3, n = 3 observed. Reference: Feldman & Cousins
    (PRD 57, 3873 (1998), Table IV): 90% CL interval [0.00, 4.42], reproduced here by exact
    enumeration. The toy construction must give the exact critical value and decision wherever the
    deciding rank's probability margin exceeds 3 sigma of the toy estimate (near the upper end point
    the margin is only 0.003, so no toy count can place the end point better than ~0.1)."""
    b, n, n_toys = 3.0, 3, 3000
    fine = np.arange(3.8, 5.01, 0.01)
    exact_upper = max(s for s in fine if _exact_belt(n, b, s)[1])
    assert exact_upper == pytest.approx(4.42, abs=0.006)

    def chi2(th, counts):
        mu = th["s"] + b
        safe = jnp.where(counts > 0, counts, 1.0)
        return 2 * (mu - counts + jnp.where(counts > 0, counts * jnp.log(safe / mu), 0.0)).sum()

    expected = lambda th: jnp.atleast_1d(th["s"] + b)  # noqa: E731
    grid = np.array([0.5, 1.0, 1.25, 2.25, 2.5, 3.75, 4.0, 5.25, 5.5, 6.75])
    out = feldman_cousins(chi2, expected, jnp.array([float(n)]), "s", grid, bounds={"s": (0.0, 30.0)},
                          n_toys=n_toys, seed=3, progress=False)
    sigma = np.sqrt(0.1 * 0.9 / n_toys)
    checked = 0
    for s, crit, acc in zip(grid, out["critical"], out["accepted"]):
        c_exact, a_exact, margin = _exact_belt(n, b, s)
        if margin > 3 * sigma:  # fixed seed: deterministic; 3 sigma makes the check meaningful
            checked += 1
            assert crit == pytest.approx(c_exact, rel=1e-4, abs=1e-5), s
            assert bool(acc) == bool(a_exact), s
    assert checked >= 8
    assert 4.0 <= out["interval"][1] < 5.25


@pytest.mark.slow  # toys of the CsI data, each a profiled fit
def test_feldman_cousins_on_coherent_data_runs():
    """The experiment front end on CsI 2017 (smoke size: 2 grid points, 8 toys): finite, ordered output,
    and the SM point eps = 0 accepted (its Wilks Delta chi^2 is < 1 for these data)."""
    from nsijax import experiments
    from nsijax.inference import feldman_cousins_interval

    csi = experiments.load("coherent_csi_2017")
    out = feldman_cousins_interval([csi], "eps_u_ee", np.array([0.0, 0.9]), bounds={"eps_u_ee": (-1.0, 1.0)},
                                   n_toys=8, progress=False, profile_steps=6, global_grid=np.linspace(-0.2, 0.6, 9))
    assert np.all(np.isfinite(out["delta_chi2_obs"])) and np.all(np.isfinite(out["critical"]))
    assert out["delta_chi2_obs"][0] < 1.0 < out["delta_chi2_obs"][1]
    assert bool(out["accepted"][0])


def test_feldman_cousins_interval_resamples_a_gaussian_experiment():
    """CHARM alone (one Gaussian term; R_e quadratic in eps^u_ee: minima at about -0.6 and +0.2, Delta
    chi^2 = 8.2 at +0.8). Were its value not resampled, every toy would equal the data and every point
    would be accepted (critical = observed); resampled, +0.8 is rejected with a critical value near the
    Wilks 2.71 (chi^2_1 90 % quantile; 200 toys: se ~ 0.4, and the second minimum makes it larger), +0.2
    accepted."""
    from nsijax import experiments
    from nsijax.inference import feldman_cousins_interval

    charm = experiments.load("charm")
    out = feldman_cousins_interval([charm], "eps_u_ee", np.array([0.2, 0.8]), bounds={"eps_u_ee": (-2.0, 2.0)},
                                   n_toys=200, progress=False, global_grid=np.linspace(-1.2, 1.0, 23))
    print("CHARM FC: Delta chi2 obs", out["delta_chi2_obs"], "critical", out["critical"])
    assert np.all(np.isfinite(out["critical"]))
    assert out["delta_chi2_obs"][0] < 0.1 and out["delta_chi2_obs"][1] > 7.0
    assert 1.5 < out["critical"][1] < 5.0
    assert list(out["accepted"]) == [True, False]


def test_experiment_model_log_density():
    """nsijax.inference.sampling.experiment_model: the model's log density is the experiment's log-likelihood
    with the pulls given and no pull priors, plus the N(0,1) log-densities of the sampled pulls, plus the
    prior of the parameter of interest (numpyro.infer.util.log_density; identity to 1e-10)."""
    import numpyro.distributions as dist
    from numpyro.infer.util import log_density
    from scipy.stats import norm

    from nsijax import experiments
    from nsijax.inference import experiment_model
    from nsijax.inference.sampling import LIKELIHOOD_LABELS
    from nsijax.likelihood import log_likelihood
    from nsijax.parameters.names import build_params

    k = experiments.load("kamland_2011")
    model, sampled = experiment_model(k, {"eps_u_ee": dist.Uniform(-1.0, 1.0)})
    assert sampled == k.nuisance_keys and "marginal" in LIKELIHOOD_LABELS["sample"]
    theta = {"eps_u_ee": 0.1, **{key: 0.3 * (i + 1) for i, key in enumerate(sampled)}}
    lp, _ = log_density(model, (), {}, theta)
    ll = log_likelihood(build_params(theta), k, include_priors=False)
    ref = float(ll) + sum(norm.logpdf(theta[key]) for key in sampled) + np.log(0.5)
    assert float(lp) == pytest.approx(ref, rel=1e-10)
    prof, none = experiment_model(k, {"eps_u_ee": dist.Uniform(-1.0, 1.0)}, nuisances="profile")
    assert none == ()
    lp, _ = log_density(prof, (), {}, {"eps_u_ee": 0.1})
    ref = float(log_likelihood(build_params({"eps_u_ee": 0.1}), k, nuisances="profile")) + np.log(0.5)
    assert float(lp) == pytest.approx(ref, rel=1e-10)


@pytest.mark.slow  # toys of CsI 2017 + CHARM, each a profiled fit (about a minute)
def test_feldman_cousins_interval_mixed_poisson_and_gaussian():
    """CsI 2017 (Poisson bins, 7 pulls) with CHARM (one Gaussian term) at once (smoke size: 8 toys): the
    flat data vector is split back per experiment (each gets its own toys and statistics); finite output,
    eps^u_ee = 0.9 rejected (CHARM alone gives Delta chi^2 > 20 there)."""
    from nsijax import experiments
    from nsijax.inference import feldman_cousins_interval

    exps = [experiments.load("coherent_csi_2017"), experiments.load("charm")]
    out = feldman_cousins_interval(exps, "eps_u_ee", np.array([0.1, 0.9]), bounds={"eps_u_ee": (-1.0, 1.0)},
                                   n_toys=8, progress=False, profile_steps=6, global_grid=np.linspace(-0.8, 0.6, 15))
    print("CsI 2017 + CHARM FC: Delta chi2 obs", out["delta_chi2_obs"], "critical", out["critical"])
    assert np.all(np.isfinite(out["delta_chi2_obs"])) and np.all(np.isfinite(out["critical"]))
    assert out["delta_chi2_obs"][1] > 20.0 and not bool(out["accepted"][1])
