"""Benchmark: the Daya Bay near/far likelihood (value and value-and-gradient), compile time separate.

Cases:
  dayabay_3158d            chi2(params, experiment): 3 halls x 26 bins, every systematic marginalised in the 78 x 78
                           covariance (no pulls); value and value_and_grad with respect to the whole Params pytree
                           (oscillation parameters, NSI) through the matter engine on 48 AD-core baselines.
  numpy_dayabay (peer)     the same likelihood written here in NumPy/SciPy, independently of nsijax's code (its own
                           reading of the release files, the vacuum three-flavour P_ee in closed form - matter
                           effects are < 1e-4 at these baselines -, scipy's Cholesky); gradient by central
                           differences in sin^2 2theta13.
Target (issue 15): value + gradient <= 20 ms on the 2-core CPU after compilation.
Writes benchmarks/results/reactor_oscillation-<platform>.json and prints a table.

    python benchmarks/reactor_oscillation.py            # full timing
    python benchmarks/reactor_oscillation.py --smoke    # quick run (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.linalg as sla

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax.experiments import load, spec  # noqa: E402
from nsijax.experiments.oscillation.near_far import reference_osc  # noqa: E402
from nsijax.experiments.parsers.spec import DATA_DIR  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402

NAME = "dayabay_3158d"
PERIODS = ("6AD", "8AD", "7AD")
BKG = ("accidentals", "alpha_n", "amc", "li9_he8", "fast_neutrons")


def pee_vacuum(e_mev, l_m, s2t12, s22t13, dm21, dm32):
    """Vacuum anti-nu_e survival probability (three flavours, normal ordering)."""
    t13 = 0.5 * np.arcsin(np.sqrt(s22t13))
    c4 = np.cos(t13) ** 4
    phase = 1.26693 * l_m * 1e-3 / (e_mev * 1e-3)  # 1.267 L[km] / E[GeV] per eV^2
    d21, d32 = dm21 * phase, dm32 * phase
    d31 = (dm32 + dm21) * phase
    s22t12 = 4 * s2t12 * (1 - s2t12)
    return (1 - c4 * s22t12 * np.sin(d21) ** 2
            - s22t13 * ((1 - s2t12) * np.sin(d31) ** 2 + s2t12 * np.sin(d32) ** 2))  # fmt: skip


class NumpyDayaBay:
    """Daya Bay chi^2 in plain NumPy/SciPy (same model as nsijax's reactor_near_far, written independently)."""

    def __init__(self):
        s = spec(NAME)
        d, self.ref, unc = s["data"], s["reference"], s["uncertainties"]
        ibd = [np.loadtxt(DATA_DIR / NAME / f) for f in d["ibd_files"]]
        bkg = [np.loadtxt(DATA_DIR / NAME / f).reshape(3, 26, 9) for f in d["background_files"]]
        self.edges = np.append(ibd[0][:, 0], ibd[0][-1, 1])
        nobs = np.array([x[:, 3:6].sum(1) for x in ibd])
        self.npred = np.array([x[:, 6:9].T for x in ibd])  # hall, period, bin
        self.obs = nobs - np.array([b[..., 3].sum(0) for b in bkg])
        btyp = np.array([b[..., 4:].sum(0) for b in bkg])
        cm = np.loadtxt(DATA_DIR / NAME / d["correlation_file"], skiprows=1)
        corr = 0.5 * (cm[:, 4:] + cm[:, 4:].T)
        frac = cm[:, 3]
        # energy nodes: 6 Gauss-Legendre per bin, weighted by a flat spectrum x IBD-like E^2 (peer's own choice)
        x, w = np.polynomial.legendre.leggauss(6)
        lo = np.maximum(self.edges[:-1] + 0.782, 1.807)
        hi = self.edges[1:] + 0.782
        self.e = (0.5 * (lo + hi))[:, None] + 0.5 * (hi - lo)[:, None] * x[None, :]
        wt = w[None, :] * (hi - lo)[:, None] * (self.e - 1.293) ** 2 * np.exp(-0.8 * self.e)
        self.w = wt / wt.sum(1, keepdims=True)
        # geometry
        self.pairs = []  # (hall, period, weight, L)
        nhall, nb = 3, 26
        share = np.zeros((3, 6))
        ads = np.zeros(3)
        wsum = np.zeros((3, 3))
        for det in s["detectors"]:
            h = det["hall"] - 1
            ads[h] += 1
            for L in det["baselines_m"]:
                wgt = det["target_kg"] * det["efficiency"] / L**2
                for p, per in enumerate(PERIODS):
                    if per in det["periods"]:
                        self.pairs.append((h, p, wgt, L))
                        wsum[h, p] += wgt
        self.pairs = [(h, p, wgt / wsum[h, p], L) for h, p, wgt, L in self.pairs]
        ev = self.npred.sum(-1)
        for det in s["detectors"]:
            h = det["hall"] - 1
            for r, L in enumerate(det["baselines_m"]):
                wgt = det["target_kg"] * det["efficiency"] / L**2
                for p, per in enumerate(PERIODS):
                    if per in det["periods"]:
                        share[h, r] += ev[h, p] * wgt / wsum[h, p]
        share /= ev.sum(1)[:, None]
        self.stat = np.diag(nobs.ravel())
        self.bcov = np.zeros((78, 78))
        for h in range(nhall):
            for t, name in enumerate(BKG):
                b = np.zeros(78)
                b[h * nb:(h + 1) * nb] = btyp[h, :, t]
                self.bcov += unc["background"][name] ** 2 * np.outer(b, b)
        self.kfrac = (np.kron(np.ones((3, 3)), frac[:, None] * corr * frac[None, :])
                      + unc["core_uncorrelated"] ** 2 * np.kron(share @ share.T, np.ones((nb, nb)))
                      + np.kron(np.diag(unc["detector_uncorrelated"] ** 2 / ads), np.ones((nb, nb))))  # fmt: skip
        self.kscale = unc["energy_scale_absolute"] ** 2 + np.diag(unc["energy_scale_relative"] ** 2 / ads)
        c = 0.5 * (self.edges[1:] + self.edges[:-1])
        dens_edges = np.array([np.interp(e, c, np.eye(nb)[k] / np.diff(self.edges)[k]) for k in range(nb) for e in self.edges])
        dens_edges = dens_edges.reshape(nb, nb + 1).T  # edge x bin
        fl = self.edges[:, None] * dens_edges
        self.mscale = -(fl[1:] - fl[:-1])
        self.u = self.npred / self.avg(self.ref["sin2_2theta13"])

    def avg(self, s22t13):
        r = self.ref
        out = np.zeros((3, 3, 26))
        for h, p, wgt, L in self.pairs:
            out[h, p] += wgt * (pee_vacuum(self.e, L, r["sin2_theta12"], s22t13, r["dm21"], r["dm32"]) * self.w).sum(1)
        return out

    def chi2(self, s22t13, theta):
        mu = (self.u * self.avg(s22t13)).sum(1)
        d = (mu @ self.mscale.T).ravel()
        m = mu.ravel()
        v = self.stat + self.bcov + m[:, None] * self.kfrac * m[None, :] + d[:, None] * np.kron(self.kscale, np.ones((26, 26))) * d[None, :]
        r = self.obs.ravel() - m
        z = sla.solve_triangular(np.linalg.cholesky(v), r, lower=True)
        return float(z @ z)


def main(argv=None) -> None:
    args, repeat, min_time = _common.likelihood_args(__doc__, argv)

    e = load(NAME)
    s22t13 = 0.083
    ref = spec(NAME)["reference"]
    p = Params(osc=reference_osc(dict(ref, sin2_2theta13=s22t13)))
    rows = _common.likelihood_rows(NAME, e, p, modes=("given",), repeat=repeat, min_time=min_time)
    peer = NumpyDayaBay()
    _common.peer_comparison(
        "reactor_oscillation", rows, peer.chi2, s22t13, np.zeros(0), smoke=args.smoke, min_time=min_time, target_ms=20.0
    )


if __name__ == "__main__":
    main()
