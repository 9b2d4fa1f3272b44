"""Benchmark: experiment likelihoods (value and value-and-gradient), compile time separate.

Cases:
  <experiment>   chi2(params, experiment) with the nuisances given (the sampler mode), for each shipped
                 experiment, and their sum over all five; value and value_and_grad with respect to
                 the whole Params pytree (NSI, Z'-free, mu_nu, charge radius, every nuisance pull).
  profiled       chi2 with the nuisances profiled (Gauss-Newton in lax.scan), CsI 2021.
  numpy_csi_2017 a plain NumPy/SciPy implementation of the CsI 2017 likelihood written here,
                 independently of nsijax's code (Helm form factor, trapezoid flux folding, scipy Poisson
                 PE smearing); its gradient by central differences in eps^u_ee and the 7 pulls.
Target (issue 4): CsI 2021 value + gradient <= 1 ms on the 2-core CPU after compilation.
Writes benchmarks/results/likelihood-<platform>.json and prints a table.

    python benchmarks/likelihood.py            # full timing
    python benchmarks/likelihood.py --smoke    # quick run (CI)
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps
from scipy.special import spherical_jn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import equinox as eqx  # noqa: E402

import nsijax  # noqa: E402,F401  (enables x64)
from nsijax import constants as c  # noqa: E402
from nsijax.experiments import available, load  # noqa: E402
from nsijax.likelihood import chi2  # noqa: E402
from nsijax.parameters.nsi import NSI  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402


# ------------------------- NumPy/SciPy peer: COHERENT CsI 2017 -------------------------------
class NumpyCsI2017:
    """CsI 2017 Baker-Cousins chi2 in plain NumPy/SciPy (same inputs and conventions as the spec)."""

    ISOTOPES = [(55, 78, 132.905451961), (53, 74, 126.9044719)]  # Z, N, atomic mass (u)

    def __init__(self, exp, n_t=400, n_e=800):
        keys = ("pe_counts", "pe_centres", "pe_aggregate", "efficiency_par", "time_pdf", "brn_pe_1pe", "brn_centres",
                "brn_aggregate", "ssb")
        self.obs = np.asarray(exp.observed)
        self.tables = {k: np.asarray(getattr(exp, k)) for k in keys}
        self.light_yield = float(exp.light_yield)
        self.quenching_factor = float(exp.quenching_factor)
        self.sigma = np.asarray(exp.nuisance_sigma)
        self.norm = float(exp.exposure)
        self.T = np.linspace(0.5e-3, 0.047, n_t)  # MeV
        self.dT = self.T[1] - self.T[0]
        self.n_e = n_e

    @staticmethod
    def helm(q2, A):
        q = np.sqrt(q2) / c.HBARC_MEV_FM
        cc = 1.23 * A ** (1 / 3) - 0.60
        r0 = np.sqrt(cc**2 + 7 / 3 * np.pi**2 * 0.52**2 - 5 * 0.9**2)
        x = np.maximum(q * r0, 1e-9)
        return 3 * spherical_jn(1, x) / x * np.exp(-0.5 * (q * 0.9) ** 2)

    def recoil_spectra(self, eps_u_ee):
        """dN/dT x dT for prompt nu_mu, nu_e, anti-nu_mu at the recoil grid."""
        out = np.zeros((3, self.T.size))
        mmu = c.M_MU
        for Z, N, mass_u in self.ISOTOPES:
            M = mass_u * c.AMU_MEV - Z * c.M_E
            F = self.helm(2 * M * self.T, Z + N)
            for row, (eps, kind) in enumerate(((0.0, "prompt"), (eps_u_ee, "nu_e"), (0.0, "nu_mu_bar"))):
                Q = ((c.GV_P_RC + 2 * eps) * Z + (c.GV_N_RC + eps) * N) * F
                if kind == "prompt":
                    E = np.array([c.E_NU_PROMPT])
                    w = np.array([1.0])
                else:
                    E = np.linspace(1e-3, mmu / 2, self.n_e)
                    x = E / mmu
                    phi = (192 * x**2 * (0.5 - x) if kind == "nu_e" else 64 * x**2 * (0.75 - x)) / mmu
                    w = phi * np.gradient(E)
                Eg, Tg = E[None, :], self.T[:, None]
                kin = np.clip(1 - M * Tg / (2 * Eg**2) - Tg / Eg, 0, None)
                tmax = 2 * Eg**2 / (M + 2 * Eg)
                ds = np.where(Tg <= tmax, c.G_F**2 * M / np.pi * kin, 0.0) * (Q**2)[:, None] * c.HBARC2_MEV2_CM2
                out[row] += (ds * w[None, :]).sum(1)
        return out * self.norm * self.dT

    def chi2(self, eps_u_ee, theta):
        t, s = self.tables, self.sigma
        rates = self.recoil_spectra(eps_u_ee)
        qf = max(self.quenching_factor + s[1] * theta[1], 1e-6)
        mu_pe = self.light_yield * qf * self.T * 1e3
        n = t["pe_counts"]
        prob = sps.poisson.pmf(n[None, :], mu_pe[:, None])
        ep = t["efficiency_par"]
        # quadratic interpolation between the asymmetric errors (same convention as the spec)
        par = [ep[i, 0] + theta[2 + i] * 0.5 * (ep[i, 1] + ep[i, 2]) + 0.5 * theta[2 + i] ** 2 * (ep[i, 1] - ep[i, 2]) for i in range(3)]
        a, k, x0 = par

        def eff(x):
            step = np.where(x < 5, 0.0, np.where(x < 6, 0.5, 1.0))
            return a / (1 + np.exp(-k * (x - x0))) * step

        spec = (rates @ prob) * eff(t["pe_centres"])
        spec_pe = spec @ t["pe_aggregate"]
        f = max(1 + s[0] * theta[0], 0.0)
        tp = t["time_pdf"]
        cev = f * (np.outer(spec_pe[0], tp[0]) + np.outer(spec_pe[1] + spec_pe[2], tp[1]))
        brn_pe = (t["brn_pe_1pe"] * eff(t["brn_centres"])) @ t["brn_aggregate"]
        mu = cev + t["ssb"] * max(1 + s[5] * theta[5], 0) + max(1 + s[6] * theta[6], 0) * np.outer(brn_pe, tp[2])
        nobs = self.obs
        nlogn = np.where(nobs > 0, nobs * np.log(np.where(nobs > 0, nobs, 1)), 0)
        bc = 2 * np.sum(mu - nobs + nlogn - np.where(nobs > 0, nobs * np.log(np.maximum(mu, 1e-10)), 0))
        return bc + np.sum(np.asarray(theta) ** 2)  # N(0, 1) priors of the pulls



def _params(exps, eps=0.02):
    nu = {k: 0.1 for e in exps for k in e.nuisance_keys}
    return Params(nsi=NSI(eps_u={"ee": eps}), nuisances=nu)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="quick run: CsI only, short timing loops (CI)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing round")
    ap.add_argument("--no-profiled", action="store_true", help="skip the profiled-nuisance case")
    args = ap.parse_args(argv)
    repeat, min_time = (1, 0.01) if args.smoke else (args.repeat, args.min_time)

    rows = []
    names = ["coherent_csi_2017", "coherent_csi_2021"] if args.smoke else available()
    exps = {n: load(n) for n in names}
    cases = [(n, [e]) for n, e in exps.items()]
    if not args.smoke:
        cases.append(("sum_all", list(exps.values())))
    for name, es in cases:
        p = _params(es)
        value = eqx.filter_jit(lambda p, es: chi2(p, es))
        vgrad = eqx.filter_jit(eqx.filter_value_and_grad(lambda p, es: chi2(p, es)))
        c_v, t_v = _common.time_jitted(value, p, es, repeat=repeat, min_time=min_time)
        c_g, t_g = _common.time_jitted(vgrad, p, es, repeat=repeat, min_time=min_time)
        rows.append(
            {
                "case": name,
                "bins": sum(e.n_bins for e in es),
                "nuisances": sum(len(e.nuisance_names) for e in es),
                "chi2": round(float(value(p, es)), 4),
                "compile_value_s": round(c_v, 2),
                "compile_grad_s": round(c_g, 2),
                "value_ms": round(t_v * 1e3, 4),
                "value_and_grad_ms": round(t_g * 1e3, 4),
            }
        )
    if not (args.no_profiled or args.smoke):
        e = exps["coherent_csi_2021"]
        p = Params(nsi=NSI(eps_u={"ee": 0.02}))
        value = eqx.filter_jit(lambda p, e: chi2(p, e, nuisances="profile"))
        vgrad = eqx.filter_jit(eqx.filter_value_and_grad(lambda p, e: chi2(p, e, nuisances="profile")))
        c_v, t_v = _common.time_jitted(value, p, e, repeat=repeat, min_time=min_time)
        c_g, t_g = _common.time_jitted(vgrad, p, e, repeat=repeat, min_time=min_time)
        rows.append(
            {
                "case": "coherent_csi_2021 (profiled)",
                "bins": e.n_bins,
                "nuisances": len(e.nuisance_names),
                "chi2": round(float(value(p, e)), 4),
                "compile_value_s": round(c_v, 2),
                "compile_grad_s": round(c_g, 2),
                "value_ms": round(t_v * 1e3, 4),
                "value_and_grad_ms": round(t_g * 1e3, 4),
            }
        )

    # NumPy/SciPy peer of CsI 2017
    e17 = exps["coherent_csi_2017"]
    peer = NumpyCsI2017(e17)
    theta = np.full(len(e17.nuisance_names), 0.1)
    v_np = peer.chi2(0.02, theta)
    t_np = _common.time_call(lambda: peer.chi2(0.02, theta), repeat=repeat, min_time=min_time)
    t_np_g = _common.time_call(lambda: _common.fd_value_and_grad(peer.chi2, 0.02, theta), repeat=1 if args.smoke else 2, min_time=min_time)
    v_jax = next(r["chi2"] for r in rows if r["case"] == "coherent_csi_2017")
    rows.append(
        {
            "case": "numpy_csi_2017 (peer)",
            "bins": e17.n_bins,
            "nuisances": len(e17.nuisance_names),
            "chi2": round(float(v_np), 4),
            "compile_value_s": 0.0,
            "compile_grad_s": 0.0,
            "value_ms": round(t_np * 1e3, 4),
            "value_and_grad_ms": round(t_np_g * 1e3, 4),
        }
    )
    jax_row = next(r for r in rows if r["case"] == "coherent_csi_2017")
    summary = {
        "csi_2021_value_and_grad_ms": next(r["value_and_grad_ms"] for r in rows if r["case"] == "coherent_csi_2021"),
        "target_ms": 1.0,
        "numpy_vs_nsijax_chi2_rel_diff": float(abs(v_np - v_jax) / abs(v_jax)),
        "speedup_value_vs_numpy": float(t_np * 1e3 / jax_row["value_ms"]),
        "speedup_value_and_grad_vs_numpy_fd": float(t_np_g * 1e3 / jax_row["value_and_grad_ms"]),
        "smoke": bool(args.smoke),
    }
    cols = ["case", "bins", "nuisances", "chi2", "compile_value_s", "compile_grad_s", "value_ms", "value_and_grad_ms"]
    _common.print_table(rows, cols)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})
    name = "likelihood-smoke" if args.smoke else "likelihood"
    path = _common.write_json(name, {"rows": rows, "summary": summary})
    print("wrote", path)
    if not math.isfinite(v_np):
        raise SystemExit("peer value not finite")


if __name__ == "__main__":
    main()
