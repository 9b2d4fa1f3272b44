"""Comparison of nsijax with a published NSI result on the same data set, parameter, CL and statistics.

Published result
----------------
P. B. Denton & J. Gehrlein, "A Statistical Analysis of the COHERENT Data and Applications to New
Physics", arXiv:2008.06062 (https://arxiv.org/abs/2008.06062; abstract read at
https://ar5iv.labs.arxiv.org/html/2008.06062, whose body was not readable to us). Its accompanying code and
result files are the repository github.com/JuliaGehrlein/7stats (linked from the paper; its README names
arXiv:2008.06062 and describes datafiles_out as the paper's results). We read:

* ``datafiles_out/results_epsee_nomarg_144bins_newpull.txt`` (commit cbb34337800079fdb760317d2347d952e49e011c):
  the Feldman-Cousins confidence level (in %) at which each value of eps_ee^V is excluded by the
  COHERENT CsI 2017 data, 144 (12 time x 12 PE) bins, all other NSI zero ("nomarg"), asymmetric
  pulls on the signal (28 %), neutron (25 %) and steady-state background (17.1 %) normalisations,
  250 pseudo-experiments per point (``FC_analysis_nsi_eeonly_12t12e_nomarg_allbf_newpull.py``).
* ``coherent_CsI_real.py`` (``signalcomp``): eps_ee^V means eps^u_ee = eps^d_ee = eps_ee^V.

The rows that bracket the 90 % CL edges (the published table's resolution there is 0.013):

    eps_ee^V  : -0.043  -0.030  ...  0.220  0.233
    CL (%)    :  90.62   87.03  ...  87.03  90.62

so the published 90 % CL FC interval is [-0.041, +0.231] (linear interpolation in the table), each
edge known to +-0.013 (one grid step; the 250-toy CLs carry +-1.9 % binomial errors on top).

nsijax
------
The same quantity from nsijax's CsI 2017 likelihood (``coherent_csi_2017``: the official 12 PE x 24
time-bin release, Poisson likelihood, profiled nuisances) with nsijax's own Feldman-Cousins
construction (same "profile construction" as Denton & Gehrlein: toys drawn from the expectation at
the nuisances profiled on the data, auxiliary data not resampled). Offline, with 400 toys per point,
nsijax gives FC CLs of 79 / 90.5 / 94.5 / 99.0 % at eps = -0.010 / -0.030 / -0.043 / -0.060
(published 72 / 87 / 91 / 94 %) and 98 % at +0.233 (published 91 %), i.e. an FC interval of about
[-0.031, +0.222]; the test's 300-toy critical value at -0.036 (2.86) gives [-0.030, +0.221]. The Wilks interval is [-0.029, +0.220]; the two minima are at 0.021 and 0.170
(published grid minimum 0.032 / 0.158, symmetric about eps* / 2 = 0.095 in both).

Agreement: each edge agrees with the published one to within one step of the published grid (0.013),
the precision of the published table, and the test asserts exactly that. It is a close agreement, not
a comfortable one: nsijax is systematically ~0.01 tighter on both sides (its per-point CLs are 2-4
toy-sigma above the published ones), i.e. the nsijax allowed width is ~9 % narrower. Documented
differences in treatment that go in that direction: Denton & Gehrlein put a single 28 % prior on the
signal normalisation, nsijax has flux 10 % (+) flat quenching 0.0878 +- 0.0166 (19 %) (+) the three
acceptance-parameter pulls of the release (together ~22 %); they use a Klein-Nystrand form factor and a
background built from AC-on + AC-off + C-off data with a 17.1 % prior, nsijax the AC-on counts with a
1/sqrt(N_AC) prior; and their best fit lies at a smaller nu_e rate (minimum at 0.032 vs 0.021), which
shifts both edges outwards. A tighter test would need their exact inputs, which is not the point.
"""

from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax.experiments import load
from nsijax.experiments.base import expected_counts
from nsijax.likelihood import chi2, profile_nuisances
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params

# Denton & Gehrlein (arXiv:2008.06062), 7stats/datafiles_out/results_epsee_nomarg_144bins_newpull.txt
DG_EPS = np.array([-0.06, -0.043, -0.03, -0.01, 0.02, 0.032, 0.04, 0.07, 0.09, 0.1, 0.12, 0.15, 0.158, 0.17, 0.2, 0.22, 0.233, 0.25])
DG_CL = np.array([94.41, 90.62, 87.03, 72.06, 23.51, 0.80, 13.37, 72.91, 75.45, 75.45, 72.91, 13.37, 0.80, 23.51, 72.06, 87.03, 90.62, 94.41])
DG_GRID_STEP = 0.013  # spacing of the published table at both 90 % CL edges


def _published_edges(cl: float = 90.0) -> tuple[float, float]:
    lo_side, hi_side = DG_EPS < 0.095, DG_EPS > 0.095
    lo = np.interp(cl, DG_CL[lo_side][::-1][DG_CL[lo_side][::-1] > 50], DG_EPS[lo_side][::-1][DG_CL[lo_side][::-1] > 50])
    hi = np.interp(cl, DG_CL[hi_side][DG_CL[hi_side] > 50], DG_EPS[hi_side][DG_CL[hi_side] > 50])
    return float(lo), float(hi)


def test_published_table_edges():
    lo, hi = _published_edges()
    assert abs(lo - (-0.041)) < 0.001 and abs(hi - 0.231) < 0.001


@pytest.mark.slow  # 300 Feldman-Cousins toys, each a profiled global fit
def test_csi2017_eps_ee_V_feldman_cousins_interval_matches_denton_gehrlein():
    exp = load("coherent_csi_2017")

    def params(e):
        return Params(nsi=NSI.from_components(u=jnp.zeros(9).at[0].set(e), d=jnp.zeros(9).at[0].set(e)))

    def c2(e, obs):
        return chi2(params(e), eqx.tree_at(lambda x: x.observed, exp, obs), nuisances="profile")

    coarse = jnp.linspace(-0.12, 0.32, 45)

    def global_min(obs):  # the chi2 is bimodal: grid over both minima, then a parabola through the best 3
        v = jax.vmap(lambda e: c2(e, obs))(coarse)
        i = jnp.clip(jnp.argmin(v), 1, coarse.size - 2)
        a, b, c = v[i - 1], v[i], v[i + 1]
        den = a - 2.0 * b + c
        return jnp.where(den > 0, b - (a - c) ** 2 / (8.0 * den), b)

    @partial(jax.jit, static_argnums=2)
    def critical(e, key, n_toys):
        p = profile_nuisances(params(e), exp)
        r = expected_counts(p, exp)
        lam = r["cevns"] + r["brn"] + r["ssb"]
        toys = jax.random.poisson(key, lam, shape=(n_toys,) + lam.shape).astype(float)
        d = jax.lax.map(lambda t: c2(e, t) - global_min(t), toys, batch_size=25)
        return jnp.quantile(d, 0.90, method="higher")

    obs = exp.observed
    gmin = global_min(obs)
    lo_grid = jnp.linspace(-0.05, -0.02, 13)
    hi_grid = jnp.linspace(0.21, 0.24, 13)
    d_lo = np.asarray(jax.jit(jax.vmap(lambda e: c2(e, obs)))(lo_grid) - gmin)
    d_hi = np.asarray(jax.jit(jax.vmap(lambda e: c2(e, obs)))(hi_grid) - gmin)
    # the FC critical value varies slowly across an edge region: one point in the middle of the
    # published lower-edge bracket (-0.043, -0.030), 300 toys (quantile noise ~ +-0.3 in Delta chi2,
    # ~ +-0.003 in eps)
    q90 = float(critical(-0.036, jax.random.PRNGKey(2008_06062), 300))
    assert 2.0 < q90 < 4.5  # near, and above, the Wilks value 2.706 (Denton & Gehrlein's point too)
    lo = float(np.interp(q90, d_lo[::-1], np.asarray(lo_grid)[::-1]))
    hi = float(np.interp(q90, d_hi, np.asarray(hi_grid)))
    pub_lo, pub_hi = _published_edges()
    print(f"nsijax FC q90={q90:.3f} interval [{lo:+.4f}, {hi:+.4f}]; published [{pub_lo:+.4f}, {pub_hi:+.4f}]")
    assert abs(lo - pub_lo) <= DG_GRID_STEP, (lo, pub_lo)
    assert abs(hi - pub_hi) <= DG_GRID_STEP, (hi, pub_hi)
    # both edges sit symmetrically about eps*/2 ~ 0.095, as in the published table
    assert abs(0.5 * (lo + hi) - 0.5 * (pub_lo + pub_hi)) < 0.005
