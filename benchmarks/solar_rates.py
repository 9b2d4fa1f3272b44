"""Benchmark: the solar rate likelihoods (value and value-and-gradient), compile time separate.

Cases:
  borexino_phase1, borexino_phase2, gallium, homestake, sno_3phase, solar_model_b23
                           chi2(params, experiment) with the pulls given; value and value_and_grad with respect to
                           the whole Params pytree (oscillation parameters, NSI, solar flux normalisations).
  solar set (profiled)     experiments.load_set("solar"), every nuisance profiled.
  numpy_gallium (peer)     the gallium likelihood written here in NumPy (its own reading of the cross-section
                           table and spectra, two-flavour adiabatic P_ee with theta13, Sun only - no Earth at
                           night -, trapezoid folding); gradient by central differences in theta12 and the pull.
Targets (issue 15): value + gradient <= 20 ms per experiment, the whole solar set <= 100 ms, on the 2-core CPU.
Writes benchmarks/results/solar_rates-<platform>.json and prints a table.

    python benchmarks/solar_rates.py            # full timing
    python benchmarks/solar_rates.py --smoke    # quick run (CI): gallium, its peer, Borexino Phase I
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax import constants as c  # noqa: E402
from nsijax.experiments import load_set, spec  # noqa: E402
from nsijax.experiments.parsers.spec import DATA_DIR  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402
from nsijax.physics.oscillation import OscParams  # noqa: E402
from nsijax.physics.oscillation.sun import production_nodes  # noqa: E402
from nsijax.physics.sources import solar  # noqa: E402

NUFIT = OscParams.nufit()


class NumpyGallium:
    """Gallium chi^2 in NumPy: sum over components of flux x spectrum x P_ee x sigma_Ga, three Gaussians + pull."""

    def __init__(self, n_e=2000):
        s = spec("gallium")
        tab = np.loadtxt(DATA_DIR / "gallium" / s["target"]["cross_section_file"], delimiter=",", comments="#", skiprows=3)
        self.thr = s["target"]["threshold_mev"]
        self.obs = np.array([m["value"] for m in s["measurements"]])
        self.sig = np.array([m["sigma"] for m in s["measurements"]])
        flux, _, _ = solar.model_fluxes("GS98")
        self.parts = []  # (energies, weights x flux, sigma best/-3/+3, production nodes)
        for k, comp in enumerate(solar.COMPONENTS):
            if comp in solar.LINES:
                e = np.array([x for x, _ in solar.LINES[comp]])
                w = np.array([br for _, br in solar.LINES[comp]])
            else:
                te, tf = solar.spectrum(comp)
                e = np.linspace(self.thr, te[-1], n_e)
                f = np.interp(e, te, tf)
                w = np.full(n_e, e[1] - e[0]) * f
                w[[0, -1]] *= 0.5
            sig = np.stack([np.interp(e, tab[:, 0], tab[:, j], left=tab[0, j]) for j in (1, 2, 3)]) * (e >= self.thr)
            nodes = production_nodes("GS98", comp)
            self.parts.append((e, w * flux[k], sig, nodes.weight, nodes.ne))

    def pee(self, e_mev, w_r, ne, t12):
        """Adiabatic two-flavour P_ee (x cos^4 theta13, + sin^4 theta13), averaged over the production region."""
        t13, dm21 = float(NUFIT.theta13), float(NUFIT.dm21)
        v = 2 * np.sqrt(2) * c.G_F * c.N_AVOGADRO * ne[None, :] * (c.HBARC_MEV_FM * 1e-13) ** 3 * 1e6  # 2 V [eV]
        a = v * np.cos(t13) ** 2 * e_mev[:, None] * 1e6 / dm21  # 2 E V cos^2 theta13 / dm21
        c2 = np.cos(2 * t12)
        c2m = (c2 - a) / np.sqrt((c2 - a) ** 2 + np.sin(2 * t12) ** 2)
        p2 = 0.5 + 0.5 * c2 * c2m
        return np.cos(t13) ** 4 * (p2 @ w_r) + np.sin(t13) ** 4

    def chi2(self, t12_deg, theta):
        t12 = np.deg2rad(t12_deg)
        r = np.zeros(3)
        for e, w, sig, w_r, ne in self.parts:
            r += (sig * w * self.pee(e, w_r, ne, t12)).sum(1) * 1e-10
        s = float(theta[0])
        rate = r[0] + (r[2] - r[0] if s >= 0 else r[0] - r[1]) * s / 3.0
        return float(np.sum(((rate - self.obs) / self.sig) ** 2) + s**2)


def main(argv=None) -> None:
    args, repeat, min_time = _common.likelihood_args(__doc__, argv)

    t12 = 33.0
    osc = OscParams(np.deg2rad(t12), NUFIT.theta13, NUFIT.theta23, NUFIT.delta_cp, NUFIT.dm21, NUFIT.dm31)
    exps = load_set("solar")
    p = Params(osc=osc, nuisances={"gallium.cross_section": 0.3}, solar_flux={"8B": 0.95})
    by_name = {e.name: e for e in exps}
    rows = _common.likelihood_rows("gallium", by_name["gallium"], p, modes=("given",), repeat=repeat, min_time=min_time)
    # smoke (CI): gallium, its peer and Borexino Phase I only (each compile costs ~10 s)
    others = [e for e in exps if e.name != "gallium" and (not args.smoke or e.name == "borexino_phase1")]
    for e in others:
        rows += _common.likelihood_rows(e.name, e, p, modes=("given",), repeat=repeat, min_time=min_time)
    whole = [] if args.smoke else _common.likelihood_rows("solar set", exps, p, modes=("profile",), repeat=repeat, min_time=min_time)
    peer = NumpyGallium(200 if args.smoke else 2000)
    rows_g = [rows[0]]
    summary = _common.peer_comparison(
        "solar_rates", rows_g, peer.chi2, t12, np.array([0.3]), smoke=args.smoke, min_time=min_time, target_ms=20.0
    )
    rows = rows_g + rows[1:] + whole
    if whole:
        summary["solar_set_profiled_value_and_grad_ms"] = whole[0]["value_and_grad_ms"]
        summary["solar_set_target_ms"] = 100.0
    _common.print_table(rows, _common.LIKELIHOOD_COLUMNS)
    _common.write_json("solar_rates-smoke" if args.smoke else "solar_rates", {"rows": rows, "summary": summary})


if __name__ == "__main__":
    main()
