"""Cross-check against an independent plain NumPy/SciPy implementation of the CsI 2017 likelihood.

The peer (benchmarks/likelihood.py, ``NumpyCsI2017``) folds the flux with trapezoids on fixed grids and
smears with scipy's Poisson pmf; nsijax uses Gauss-Legendre quadrature above each isotope's threshold.
"""

import importlib.util
import pathlib

import numpy as np

from nsijax.experiments import load
from nsijax.likelihood import chi2
from nsijax.parameters.nsi import NSI
from nsijax.parameters.params import Params

_PATH = pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "likelihood.py"


def _peer_module():
    spec = importlib.util.spec_from_file_location("_nsijax_bench_likelihood", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_csi_2017_chi2_agrees_with_numpy_peer():
    exp = load("coherent_csi_2017")
    peer = _peer_module().NumpyCsI2017(exp)
    for eps, th in [(0.0, 0.0), (0.1, 0.3), (-0.05, -0.5)]:
        theta = np.full(len(exp.nuisance_names), th)
        p = Params(nsi=NSI(eps_u={"ee": eps}), nuisances={k: th for k in exp.nuisance_keys})
        # quadrature differences (trapezoid vs Gauss-Legendre) move chi2 by < 0.1 here
        assert abs(float(chi2(p, exp)) - peer.chi2(eps, theta)) < 0.1
