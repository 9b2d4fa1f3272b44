"""docs/adding_an_experiment.md runs as written: its class registers, loads from its spec, and joins the
likelihood with correct physics.

Independent check of the prediction: the tree-level nu_e-e cross section (P. Vogel & J. Engel, PRD 39
(1989) 3378, eq. (1), with g_V + g_A = 2 g_L, g_V - g_A = 2 g_R)

    dsigma/dT = (2 G_F^2 m_e / pi) [g_L^2 + g_R^2 (1 - T/E)^2 - g_L g_R m_e T / E^2],
    g_L = 1/2 + sin^2 theta_W (CC + NC), g_R = sin^2 theta_W,

integrated by scipy.integrate.quad, against the class's Gauss-Legendre sum of nsijax's cross section.
"""

from __future__ import annotations

import math
import pathlib
import re
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nsijax import NSI, Params, chi2
from nsijax import constants as c
from nsijax.experiments import RESPONSES, expected_counts, from_files

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "adding_an_experiment.md"
BLOCKS = re.findall(r"```(python|toml)\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    (kind0, cls_src), (kind1, spec_src), (kind2, use_src) = BLOCKS
    assert (kind0, kind1, kind2) == ("python", "toml", "python")
    folder = tmp_path_factory.mktemp("line_source_example")
    (folder / "spec.toml").write_text(spec_src)
    if "line_source_electron_count" not in RESPONSES:  # the class registers once per process
        module = types.ModuleType("docs_adding_an_experiment")  # a real module: dataclasses resolve its annotations
        sys.modules[module.__name__] = module
        exec(compile(cls_src, str(DOC), "exec"), module.__dict__)
    exec(compile(use_src, str(DOC), "exec"), {"folder": folder})  # the usage block, as printed on the page
    return from_files(folder / "spec.toml")


def _sm_signal(e, t_lo, exposure):
    from scipy.integrate import quad

    s2 = c.SIN2_THETA_W
    gl, gr = 0.5 + s2, s2
    t_hi = 2 * e**2 / (c.M_E + 2 * e)
    pref = 2 * c.G_F**2 * c.M_E / math.pi * c.HBARC2_MEV2_CM2  # G_F in MeV^-2; MeV^-2 -> cm^2

    def xs(t):
        return pref * (gl**2 + gr**2 * (1 - t / e) ** 2 - gl * gr * c.M_E * t / e**2)

    return exposure * quad(xs, t_lo, t_hi, epsabs=0, epsrel=1e-12)[0]


def test_example_prediction_matches_the_closed_form(example):
    got = expected_counts(Params(), example)
    ref = _sm_signal(0.746, 0.25, 3.0e30 * 1.0e16)
    assert float(got["signal"][0]) == pytest.approx(ref, rel=1e-9)
    assert float(got["background"][0]) == 40.0
    assert example.response == "line_source_electron_count" and example.nuisance_keys == (
        "line_source_example.signal_norm",
        "line_source_example.background",
    )


def test_example_in_the_likelihood_with_gradients(example):
    def f(e):
        return chi2(Params(nsi=NSI(eps_e={"ee": e})), example, nuisances="profile")

    g = float(jax.grad(f)(0.1))
    h = 1e-5
    fd = (float(f(0.1 + h)) - float(f(0.1 - h))) / (2 * h)
    assert np.isfinite(g) and g == pytest.approx(fd, rel=1e-5)
    # profiling can only lower chi^2 relative to pulls at zero
    assert float(f(0.1)) <= float(chi2(Params(nsi=NSI(eps_e={"ee": 0.1})), example)) + 1e-12
    assert jnp.isfinite(f(0.0))
