"""Pseudo-data of every experiment with the statistics its likelihood terms assume
(``AbstractExperiment.resample``, used by the Feldman-Cousins toys).

Tolerances: with N independent draws, a sample mean is within 5 standard errors (sd / sqrt(N)) of the
true mean, a sample sd within 5 sqrt(1 / (2N)) relative (Gaussian) of the true sd, and a fraction p
within 5 sqrt(p (1 - p) / N): each fails with probability < 1e-6 (fixed seeds: deterministic anyway).
"""

import equinox as eqx
import jax
import numpy as np

from nsijax import experiments
from nsijax.experiments import total_counts
from nsijax.parameters.params import Params

N_DRAWS = 40000


def _draws(exp, lam, seed=0, n=N_DRAWS):
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return np.asarray(jax.jit(jax.vmap(lambda k: exp.resample(k, lam)))(keys))


def test_resample_gaussian_experiments_mean_and_spread():
    """CHARM and NuTeV (kind "gaussian", chi^2 = ((pred - value) / sigma)^2): toy values ~ N(prediction,
    sigma^2). Checked over N_DRAWS draws: mean = prediction to 5 sigma / sqrt(N), sd = sigma to
    5 / sqrt(2N) relative; shapes as the observed values."""
    for seed, name in enumerate(("charm", "nutev")):
        exp = experiments.load(name)
        lam = total_counts(Params(), exp)  # the SM prediction
        x = _draws(exp, lam, seed=seed + 10)
        sig = np.asarray(exp.sigma)
        assert x.shape == (N_DRAWS,) + exp.observed.shape
        np.testing.assert_array_less(np.abs(x.mean(0) - np.asarray(lam)), 5 * sig / np.sqrt(N_DRAWS))
        np.testing.assert_array_less(np.abs(x.std(0) / sig - 1.0), 5 / np.sqrt(2 * N_DRAWS))
        print(name, "toy mean - prediction:", x.mean(0) - np.asarray(lam), "toy sd / sigma:", x.std(0) / sig)


def test_resample_borexino_split_normal():
    """Borexino P_ee (chi^2 with sigma_up where the prediction exceeds the value, sigma_down below): toys
    follow the split normal with that density, values below the prediction with width sigma_up. Shipped
    errors are symmetric: N(prediction, sigma^2). With sigma_up = 2 sigma_down (field changed): fraction
    below = sigma_up / (sigma_up + sigma_down) = 2/3 and mean = prediction + sqrt(2/pi)(sigma_down -
    sigma_up) (split-normal moments; variance (1 - 2/pi)(s_up - s_down)^2 + s_up s_down)."""
    b = experiments.load("borexino_2018")
    lam = np.asarray(total_counts(Params(), b))
    sig = np.asarray(b.sigma_up)
    x = _draws(b, lam, seed=1)
    np.testing.assert_array_less(np.abs(x.mean(0) - lam), 5 * sig / np.sqrt(N_DRAWS))
    np.testing.assert_array_less(np.abs(x.std(0) / sig - 1.0), 5 / np.sqrt(2 * N_DRAWS))
    b2 = eqx.tree_at(lambda e: e.sigma_up, b, 2.0 * b.sigma_down)
    su, sd = np.asarray(b2.sigma_up), np.asarray(b2.sigma_down)
    x = _draws(b2, lam, seed=2)
    p_below = su / (su + sd)
    np.testing.assert_array_less(np.abs((x < lam).mean(0) - p_below), 5 * np.sqrt(p_below * (1 - p_below) / N_DRAWS))
    mean = lam + np.sqrt(2 / np.pi) * (sd - su)
    sd_split = np.sqrt((1 - 2 / np.pi) * (su - sd) ** 2 + su * sd)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * sd_split / np.sqrt(N_DRAWS))
    print("Borexino asymmetric toys: fraction below", (x < lam).mean(0), "mean shift / sigma_down", (x.mean(0) - lam) / sd)


def test_resample_poisson_experiments():
    """KamLAND spectrum (Poisson terms): toys are integer counts with mean = variance = expectation
    per bin (5 standard errors over N_DRAWS draws: mean to 5 sqrt(lam / N); variance to 5 sqrt(2 lam^2 / N)
    for lam >> 1, the normal approximation of the sample variance, with lam / N added for small lam)."""
    k = experiments.load("kamland_2011")
    lam = np.asarray(total_counts(Params(), k))
    x = _draws(k, lam, seed=3)
    assert x.shape == (N_DRAWS, 17) and np.all(x == np.round(x)) and np.all(x >= 0)
    np.testing.assert_array_less(np.abs(x.mean(0) - lam), 5 * np.sqrt(lam / N_DRAWS))
    var_se = np.sqrt((2 * lam**2 + lam) / N_DRAWS)
    np.testing.assert_array_less(np.abs(x.var(0) - lam), 5 * var_se)
