"""Benchmark: the Dresden-II reactor CEvNS likelihood (value and value-and-gradient), compile time separate.

Cases:
  dresden_ii_2022            chi2(params, experiment) with the 16 nuisances given; value and value_and_grad with
                             respect to the whole Params pytree (NSI, mu_nu, charge radius, every pull).
  dresden_ii_2022 (profiled) every nuisance profiled (12 Gauss-Newton steps).
  numpy_dresden_ii (peer)    the same likelihood written here in NumPy/SciPy, independently of nsijax's code
                             (its own reading of the spectra tables, Helm form factor with scipy's spherical
                             Bessel function, trapezoid folding on fine grids, scipy.stats.norm smearing; CEvNS only,
                             no nu-e scattering, < 0.04 events / day at the SM); its gradient by central differences
                             over eps^u_ee and the 16 pulls.
Target (issue 14): value + gradient <= 1 ms on the 2-core CPU after compilation.
Writes benchmarks/results/reactor_cevns-<platform>.json and prints a table.

    python benchmarks/reactor_cevns.py            # full timing
    python benchmarks/reactor_cevns.py --smoke    # quick run (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps
from scipy.special import spherical_jn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax import constants as c  # noqa: E402
from nsijax.experiments import load, spec  # noqa: E402
from nsijax.experiments.parsers.spec import DATA_DIR  # noqa: E402
from nsijax.parameters.nsi import NSI  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402

FLUX_DIR = DATA_DIR.parent / "reactor_flux"
# Ge isotopes: Z, N, atomic mass (u), abundance (CIAAW 2013)
GE = [(32, 38, 69.92424875, 0.2057), (32, 40, 71.922075826, 0.2745), (32, 41, 72.923458956, 0.0775),
      (32, 42, 73.921177761, 0.3650), (32, 44, 75.921402726, 0.0773)]  # fmt: skip
MEV_PER_FISSION = {"U235": 202.36, "U238": 205.99, "Pu239": 211.12, "Pu241": 214.26}


class NumpyDresdenII:
    """Dresden-II Gaussian chi^2 in plain NumPy/SciPy, from the spec and the data files."""

    def __init__(self, n_t=1500, n_e=600):
        s = spec("dresden_ii_2022")
        self.s = s
        folder = DATA_DIR / "dresden_ii_2022"
        d = np.loadtxt(folder / "data_release.txt")
        self.centres = d[:, 0]
        self.edges = np.append(d[:, 0] - 0.005, d[-1, 0] + 0.005)
        self.obs = np.stack([d[:, 1], d[:, 3]])
        self.err = np.stack([d[:, 2], d[:, 4]])
        q = np.loadtxt(folder / "QF_Fef_YBe.txt")
        self.qf_t, self.qf_y = q[:, 0], q[:, 1]
        src = s["source"]
        fr = src["fission_fractions"]
        fissions = (
            src["thermal_power_mw"] * 1e6 / (sum(f * MEV_PER_FISSION[k] for k, f in fr.items()) * 1.602176634e-13)
        )
        area = 4 * np.pi * (src["distance_m"] * 100) ** 2
        self.E = np.geomspace(1e-3, 12.5, n_e)
        spectrum = sum(f * self._fission(k, self.E) for k, f in fr.items()) + src["captures_per_fission"] * (
            self._bestiole("u239", self.E) + self._bestiole("np239", self.E)
        )
        self.phi = fissions * spectrum / area  # 1 / (cm^2 s MeV)
        self.n_atoms = src["mass_kg"] * 1e3 / sum(a * m for _, _, m, a in GE) * c.N_AVOGADRO
        # recoil grid (keV) from one e-h pair at the nominal Fef QF
        self.T = np.geomspace(0.00296 / 0.4361, 4.8, n_t)
        nuis = {n["name"]: n for n in s["nuisances"]}
        self.names = ["flux", "quenching", "resolution", "m_to_l1"] + [
            f"{p}_{k}"
            for p in ("on", "off")
            for k in ("flat", "epithermal", "epithermal_slope", "l1", "line_shift", "l1_width")
        ]
        self.nominal = np.array([0.0 if k == "quenching" else nuis[k]["nominal"] for k in self.names])
        self.sigma = np.array([s["quenching"]["sigma"] if k == "quenching" else nuis[k]["sigma"] for k in self.names])
        self.gauss = np.array([1.0 if k == "quenching" else float(nuis[k]["prior"] == "gaussian") for k in self.names])

    @staticmethod
    def _bestiole(name, E):
        x, y = np.loadtxt(FLUX_DIR / "bestiole2023" / f"bestiole_{name}.txt", delimiter=",", comments="#", unpack=True)
        return np.interp(E, np.r_[0.0, x], np.r_[0.0, y], right=0.0)

    def _fission(self, iso, E):
        low = self._bestiole(iso.lower(), E)
        if iso == "U238":
            t = np.loadtxt(
                FLUX_DIR / "mueller2011" / "U238-anti-neutrino-flux-Mueller2011.csv", delimiter=",", skiprows=1
            )
            x, y = t[:, 0], t[:, 4]
        else:
            t = np.loadtxt(FLUX_DIR / "huber2011" / f"{iso}-anti-neutrino-flux-250keV.dat", comments="#")
            x, y = t[:, 0], t[:, 1]
        mid = np.exp(np.interp(E, x, np.log(y)))
        lo = low * y[0] / self._bestiole(iso.lower(), np.array([x[0]]))[0]
        hi = low * y[-1] / self._bestiole(iso.lower(), np.array([x[-1]]))[0]
        return np.where(E < x[0], lo, np.where(E > x[-1], hi, mid))

    def rate(self, eps_u_ee):
        """CEvNS events / (day keV) at the recoil grid (SM + eps^u_ee)."""
        s2w = c.SIN2_THETA_W
        gp, gn = 0.5 - 2 * s2w + 2 * eps_u_ee, -0.5 + eps_u_ee
        out = np.zeros_like(self.T)
        Tm = self.T[:, None] * 1e-3
        for Z, N, mass_u, ab in GE:
            M = mass_u * c.AMU_MEV - Z * c.M_E
            q = np.sqrt(2 * M * self.T * 1e-3) / c.HBARC_MEV_FM
            cc = 1.23 * (Z + N) ** (1 / 3) - 0.60
            r0 = np.sqrt(cc**2 + 7 / 3 * np.pi**2 * 0.52**2 - 5 * 0.9**2)
            F = 3 * spherical_jn(1, q * r0) / (q * r0) * np.exp(-0.5 * (q * 0.9) ** 2)
            Q2 = ((gp * Z + gn * N) * F) ** 2
            Eg = self.E[None, :]
            kin = np.clip(1 - M * Tm / (2 * Eg**2) - Tm / Eg, 0, None)
            ok = Tm <= 2 * Eg**2 / (M + 2 * Eg)
            ds = np.where(ok, c.G_F**2 * M / np.pi * kin, 0.0) * c.HBARC2_MEV2_CM2  # cm^2 / MeV
            out += ab * Q2 * np.trapezoid(ds * self.phi[None, :], self.E, axis=1) * 1e-3
        return out * self.n_atoms * 86400.0

    def chi2(self, eps_u_ee, theta):
        v = dict(zip(self.names, self.nominal + self.sigma * np.asarray(theta)))
        s_n, fano, eta = 0.0685, 0.11, 0.00296
        res = v["resolution"]

        def sig(e):
            return res * np.sqrt(s_n**2 + fano * eta * np.maximum(e, 0))

        y = np.interp(self.T, self.qf_t, self.qf_y) * np.exp(v["quenching"])
        x = self.T * y
        sg = sig(x)[:, None]
        prob = (
            np.diff(sps.norm.cdf((self.edges[None, :] - x[:, None]) / sg), axis=1) / sps.norm.cdf(x / sg[:, 0])[:, None]
        )
        dens = self.rate(eps_u_ee)
        signal = v["flux"] * np.trapezoid(dens[:, None] * prob, self.T, axis=0)
        lo, hi = self.edges[:-1], self.edges[1:]
        mu = []
        for p, frac in (("on", 1.0), ("off", 0.0)):
            C = v[f"{p}_epithermal_slope"]
            expo = v[f"{p}_epithermal"] * (np.exp(-C * lo) - np.exp(-C * hi)) / (C * (hi - lo))
            sh, w = v[f"{p}_line_shift"], v[f"{p}_l1_width"]

            def line(e0, width):
                return np.diff(sps.norm.cdf((self.edges - e0) / width))

            lines = v[f"{p}_l1"] * (line(1.2977 + sh, w) + 0.008 * line(1.1423 + sh, w)
                                    + v["m_to_l1"] * line(0.1581 + sh, sig(0.1581 + sh)))  # fmt: skip
            mu.append(frac * signal + v[f"{p}_flat"] + expo + lines)
        return float(np.sum(((np.array(mu) - self.obs) / self.err) ** 2) + np.sum(self.gauss * np.asarray(theta) ** 2))


def main(argv=None) -> None:
    args, repeat, min_time = _common.likelihood_args(__doc__, argv)

    e = load("dresden_ii_2022")
    theta = np.full(len(e.nuisance_names), 0.1)
    p = Params(nsi=NSI(eps_u={"ee": 0.02}), nuisances=dict(zip(e.nuisance_keys, theta)))
    rows = _common.likelihood_rows("dresden_ii_2022", e, p, repeat=repeat, min_time=min_time)
    peer = NumpyDresdenII(*((300, 200) if args.smoke else (1500, 600)))
    _common.peer_comparison("reactor_cevns", rows, peer.chi2, 0.02, theta, smoke=args.smoke, min_time=min_time)


if __name__ == "__main__":
    main()
