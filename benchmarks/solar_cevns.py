"""Benchmark: the XENONnT 8B CEvNS likelihood (value and value-and-gradient), compile time separate.

Cases:
  xenonnt_b8               chi2(params, experiment) with the 8 nuisances given; value and value_and_grad with respect
                           to the whole Params pytree (NSI, oscillation-free point, every pull).
  xenonnt_b8 (profiled)    every nuisance profiled (12 Gauss-Newton steps).
  numpy_xenonnt_b8 (peer)  the same likelihood written here in NumPy/SciPy, independently of nsijax's code (its own
                           reading of the release's templates and events, Helm form factor with scipy's spherical
                           Bessel function, trapezoid folding of the 8B spectrum on 4000 energies, bilinear template
                           interpolation); at a flavour-universal NSI point, where the solar oscillations drop out of
                           CEvNS; its gradient by central differences over eps^u (universal) and the 8 pulls.
Target (issue 14): value + gradient <= 1 ms on the 2-core CPU after compilation.
Writes benchmarks/results/solar_cevns-<platform>.json and prints a table.

    python benchmarks/solar_cevns.py            # full timing
    python benchmarks/solar_cevns.py --smoke    # quick run (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.special import spherical_jn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax import constants as c  # noqa: E402
from nsijax.experiments import load, spec  # noqa: E402
from nsijax.experiments.parsers.spec import DATA_DIR  # noqa: E402
from nsijax.parameters.nsi import NSI  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402

FOLDER = DATA_DIR / "xenonnt_b8"
# Xe isotopes: A, atomic mass (u), abundance (CIAAW 2013)
XE = [(124, 123.905892, 0.000952), (126, 125.9042983, 0.000890), (128, 127.903531, 0.019102),
      (129, 128.9047808611, 0.264006), (130, 129.903509349, 0.040710), (131, 130.90508406, 0.212324),
      (132, 131.9041550856, 0.269086), (134, 133.90539466, 0.104357), (136, 135.907214484, 0.088573)]  # fmt: skip
AXES = ("cs2", "s2_shadow_s2_time_shadow", "s1_bdt_score", "s2_bdt_score")


class NumpyXenonB8:
    """XENONnT 8B Baker-Cousins chi^2 in plain NumPy/SciPy (flavour-universal couplings: no oscillation needed)."""

    def __init__(self, n_e=4000):
        s = spec("xenonnt_b8")
        self.runs = s["data"]["runs"]
        z = np.load(FOLDER / s["data"]["templates"])
        self.T = z["mono_energy_keVnr"]
        self.obs, self.mono, self.rg, self.ac, self.er = [], [], [], [], []
        for r in self.runs:
            # columns: index, cs2, s2_shadow_s2_time_shadow_quantile, s1_bdt_score, s2_bdt_score
            x = np.loadtxt(FOLDER / s["data"]["events"][r], delimiter=",", skiprows=1, ndmin=2)[:, 1:5]
            edges = [z[f"{r}_bins_{i}_{a}"] for i, a in enumerate(AXES)]
            self.obs.append(np.histogramdd(x, bins=edges)[0].ravel())
            self.mono.append(z[f"{r}_mono"].reshape(46, 7, 7, 81))
            self.rg.append(z[f"{r}_rg"].reshape(7, 7, 81))
            self.ac.append(z[f"{r}_ac"].ravel())
            self.er.append(z[f"{r}_er"].ravel())
        self.obs = np.array(self.obs)
        self.x = np.array([s["data"]["exposure_ty"][r] for r in self.runs])
        tab = np.loadtxt(FOLDER / s["solar"]["b8_spectrum_file"], delimiter=",", comments="#")
        self.E = np.linspace(tab[0, 0], tab[-1, 0], n_e)
        spec_e = np.interp(self.E, tab[:, 0], tab[:, 1])
        self.phi = s["solar"]["b8_flux"] * spec_e / np.trapezoid(spec_e, self.E)
        molar = sum(m * a for _, m, a in XE)
        self.n_t = 1e6 / molar * c.N_AVOGADRO
        self.sig = np.array(
            [n["sigma"] for n in s["nuisances"] if not n["name"].endswith("_ac") or n["name"][:3] in self.runs]
        )

    def rate(self, eps_u):
        """dR/dT [/(t y keV)] at the template energies (universal eps^u, radiatively corrected couplings)."""
        Z = 54
        gp, gn = c.GV_P_RC + 2 * eps_u, c.GV_N_RC + eps_u
        T = self.T[:, None] * 1e-3
        out = np.zeros(self.T.size)
        for A, mass_u, ab in XE:
            M = mass_u * c.AMU_MEV - Z * c.M_E
            q = np.sqrt(2 * M * T) / c.HBARC_MEV_FM
            cc = 1.23 * A ** (1 / 3) - 0.60
            r0 = np.sqrt(cc**2 + 7 / 3 * np.pi**2 * 0.52**2 - 5 * 0.9**2)
            F = 3 * spherical_jn(1, q * r0) / (q * r0) * np.exp(-0.5 * (q * 0.9) ** 2)
            Eg = self.E[None, :]
            kin = np.clip(1 - M * T / (2 * Eg**2) - T / Eg, 0, None) * (T <= 2 * Eg**2 / (M + 2 * Eg))
            ds = c.G_F**2 * M / np.pi * kin * ((gp * Z + gn * (A - Z)) * F) ** 2 * c.HBARC2_MEV2_CM2
            out += ab * np.trapezoid(ds * self.phi, self.E, axis=1)
        return out * 1e-3 * self.n_t * 365.25 * 86400

    @staticmethod
    def bilinear(g, x, y):
        i, j = int(np.clip(np.floor(x + 3), 0, 5)), int(np.clip(np.floor(y + 3), 0, 5))
        tx, ty = x + 3 - i, y + 3 - j
        return (
            (1 - tx) * (1 - ty) * g[i, j]
            + tx * (1 - ty) * g[i + 1, j]
            + (1 - tx) * ty * g[i, j + 1]
            + tx * ty * g[i + 1, j + 1]
        )

    def chi2(self, eps_u, theta):
        v = 1 + self.sig * np.asarray(theta)
        dr = self.rate(eps_u) * 0.1
        total = 0.0
        for k in range(len(self.runs)):
            mono = self.bilinear(np.moveaxis(self.mono[k], (1, 2), (0, 1)), theta[1], theta[2])
            rg = self.bilinear(self.rg[k], theta[1], theta[2])
            mu = self.x[k] * (v[0] * dr @ mono + v[5 + k] * self.ac[k] + v[3] * self.er[k] + v[4] * rg)
            n = self.obs[k]
            total += 2 * np.sum(mu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1) / mu), 0))
        return float(total + np.sum(np.asarray(theta) ** 2))


def main(argv=None) -> None:
    args, repeat, min_time = _common.likelihood_args(__doc__, argv)

    e = load("xenonnt_b8")
    theta = np.full(len(e.nuisance_names), 0.1)
    eps = 0.02
    universal = NSI(eps_u={"ee": eps, "mumu": eps, "tautau": eps})
    p = Params(nsi=universal, nuisances=dict(zip(e.nuisance_keys, theta)))
    rows = _common.likelihood_rows("xenonnt_b8", e, p, repeat=repeat, min_time=min_time)
    peer = NumpyXenonB8(400 if args.smoke else 4000)
    _common.peer_comparison("solar_cevns", rows, peer.chi2, eps, theta, smoke=args.smoke, min_time=min_time)


if __name__ == "__main__":
    main()
