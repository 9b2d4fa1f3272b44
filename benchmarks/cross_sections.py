"""Benchmark: CEvNS cross sections in nsijax against a plain NumPy/SciPy implementation.

Cases (issue 2):
  grid      dsigma/dT on an n_E x n_T grid (default 10^4 x 10^3) for CsI with NSI, value and the
            gradient of the grid sum with respect to the 9 eps^u components + the Z' coupling;
            peer: the same formula vectorised in NumPy (gradient by central differences).
  folded    the pi-DAR flux-folded recoil spectrum at n_T recoil energies, value and gradient;
            peer: nested scipy.integrate.quad (E for each T), what users do today, gradient by
            central differences (2 evaluations per parameter).
Writes benchmarks/results/cross_sections-<platform>.json and prints a table with ratios.

    python benchmarks/cross_sections.py            # full sizes
    python benchmarks/cross_sections.py --smoke    # tiny sizes (CI)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import integrate
from scipy.special import spherical_jn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import nsijax  # noqa: E402
from nsijax import constants as c  # noqa: E402
from nsijax.physics.scattering import cevns
from nsijax.physics.scattering.targets import get_target  # noqa: E402
from nsijax.physics.sources import pion_dar as flux  # noqa: E402

CSI = get_target("CsI")


# ---------------- the NumPy/SciPy peer (written independently of nsijax's code) ----------------
def np_helm(q2, A):
    q = np.sqrt(q2) / c.HBARC_MEV_FM
    cc = 1.23 * A ** (1 / 3) - 0.60
    r0 = np.sqrt(cc**2 + 7 / 3 * np.pi**2 * 0.52**2 - 5 * 0.81)
    x = np.maximum(q * r0, 1e-12)
    return 3 * spherical_jn(1, x) / x * np.exp(-0.5 * (q * 0.9) ** 2)


def np_dsigma(E, T, eu, ed, g, mz, flavor=0):
    """CsI dsigma/dT (cm^2/MeV), NSI (9 components each) + universal Z', NumPy broadcasting."""
    E, T = np.broadcast_arrays(np.asarray(E, float), np.asarray(T, float))
    out = np.zeros(E.shape)
    gvp, gvn = 0.5 - 2 * c.SIN2_THETA_W, -0.5
    for Z, N, A, M, w in zip(CSI.Z, CSI.N, CSI.A, CSI.mass_mev, CSI.weight):
        q2 = 2 * M * T
        F = np_helm(q2, A)
        ez = g**2 / (math.sqrt(2) * c.G_F * (q2 + mz**2))
        gp = gvp + 2 * eu[flavor] + ed[flavor] + 3 * ez
        gn = gvn + eu[flavor] + 2 * ed[flavor] + 3 * ez
        q2w = ((gp * Z + gn * N) * F) ** 2
        for k in (3, 4, 5, 6):  # flavour e: emu and etau
            q2w += (((2 * eu[k] + ed[k]) * Z + (eu[k] + 2 * ed[k]) * N) * F) ** 2
        kin = 1 - M * T / (2 * E**2) - T / E
        tmax = 2 * E**2 / (M + 2 * E)
        val = c.G_F**2 * M / np.pi * np.clip(kin, 0, None) * q2w * c.HBARC2_MEV2_CM2
        out += w * np.where(T <= tmax, val, 0.0)
    return out


def np_folded(T_values, eu, ed, g, mz):
    """Nested quad: for each T, integral over E of the nu_e delayed spectrum times dsigma/dT."""
    mmu = c.M_MU
    res = []
    for T in T_values:
        f = lambda E: 192 / mmu * (E / mmu) ** 2 * (0.5 - E / mmu) * float(np_dsigma(E, T, eu, ed, g, mz))  # noqa: E731
        emins = sorted(0.5 * (T + math.sqrt(T**2 + 2 * M * T)) for M in CSI.mass_mev)  # kinks
        # epsabs=0: cross sections are ~1e-36, far below quad's default absolute tolerance
        res.append(integrate.quad(f, emins[0], mmu / 2, epsabs=0, epsrel=1e-10, limit=200, points=emins[1:])[0])
    return np.array(res)


def np_grad(fun, params, h=1e-6):
    """Central differences over every entry of a flat parameter vector."""
    g = np.zeros(len(params))
    for i in range(len(params)):
        p, m = params.copy(), params.copy()
        p[i] += h
        m[i] -= h
        g[i] = (np.sum(fun(p)) - np.sum(fun(m))) / (2 * h)
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    ap.add_argument("--n-energy", type=int, default=10_000)
    ap.add_argument("--n-recoil", type=int, default=1_000)
    ap.add_argument("--n-folded", type=int, default=100, help="recoil energies of the folded spectrum")
    ap.add_argument("--n-folded-peer", type=int, default=10, help="recoil energies timed for the quad peer")
    args = ap.parse_args()
    if args.smoke:
        args.n_energy, args.n_recoil, args.n_folded, args.n_folded_peer = 50, 20, 8, 2

    E = jnp.linspace(1.0, 52.8, args.n_energy)
    T = jnp.linspace(1e-4, 0.045, args.n_recoil)
    rng = np.random.default_rng(1)
    eu0, ed0 = rng.normal(0, 0.1, 9), rng.normal(0, 0.1, 9)
    g0, mz0 = 1e-5, 30.0
    theta0 = jnp.asarray(np.concatenate([eu0, [g0]]))

    def grid_value(theta):
        nsi = nsijax.NSI.from_components(u=theta[:9], d=jnp.asarray(ed0))
        return cevns.dsigma_dT(E[:, None], T[None, :], "CsI", flavor=0, nsi=nsi, zprime=nsijax.ZPrime(theta[9], mz0))

    jit_value = jax.jit(grid_value)
    jit_grad = jax.jit(jax.grad(lambda th: jnp.sum(grid_value(th)) * 1e36))
    rows = []
    compile_v, t_v = _common.time_jitted(jit_value, theta0, repeat=3)
    compile_g, t_g = _common.time_jitted(jit_grad, theta0, repeat=3)

    En, Tn = np.asarray(E)[:, None], np.asarray(T)[None, :]
    t0 = time.perf_counter()
    ref = np_dsigma(En, Tn, eu0, ed0, g0, mz0)
    t_np = time.perf_counter() - t0
    # near T_max the kinematic factor cancels, so compare with an absolute floor of 1e-12 x max
    np.testing.assert_allclose(np.asarray(jit_value(theta0)), ref, rtol=1e-10, atol=1e-12 * ref.max())
    t_np_grad = t_np * 2 * 10  # central differences over 10 parameters, each a full grid evaluation
    n_pts = args.n_energy * args.n_recoil
    rows.append(dict(case=f"grid {args.n_energy}x{args.n_recoil} value", nsijax_s=f"{t_v:.4g}", peer_s=f"{t_np:.4g}",
                     ratio=f"{t_np / t_v:.1f}", compile_s=f"{compile_v:.2f}", points_per_s=f"{n_pts / t_v:.3g}"))
    rows.append(dict(case="grid value+grad(10 params)", nsijax_s=f"{t_g:.4g}", peer_s=f"{t_np_grad:.4g} (FD est.)",
                     ratio=f"{t_np_grad / t_g:.1f}", compile_s=f"{compile_g:.2f}", points_per_s=f"{n_pts / t_g:.3g}"))

    Tf = jnp.linspace(1e-3, 0.03, args.n_folded)

    def folded(theta):
        nsi = nsijax.NSI.from_components(u=theta[:9], d=jnp.asarray(ed0))
        return flux.pion_dar_recoil_spectrum(Tf, "CsI", "nu_e", nsi=nsi, zprime=nsijax.ZPrime(theta[9], mz0))

    jf = jax.jit(folded)
    jfg = jax.jit(jax.grad(lambda th: jnp.sum(folded(th)) * 1e38))
    compile_f, t_f = _common.time_jitted(jf, theta0, repeat=3)
    compile_fg, t_fg = _common.time_jitted(jfg, theta0, repeat=3)
    Tp = np.asarray(Tf)[:: max(1, args.n_folded // args.n_folded_peer)][: args.n_folded_peer]
    t0 = time.perf_counter()
    ref_f = np_folded(Tp, eu0, ed0, g0, mz0)
    t_quad_per_T = (time.perf_counter() - t0) / len(Tp)
    mine = np.asarray(jf(theta0))[:: max(1, args.n_folded // args.n_folded_peer)][: args.n_folded_peer]
    max_rel = float(np.max(np.abs(mine / ref_f - 1)))
    t_quad = t_quad_per_T * args.n_folded
    t_quad_grad = t_quad * 2 * 10
    rows.append(dict(case=f"folded spectrum {args.n_folded} T value", nsijax_s=f"{t_f:.4g}", peer_s=f"{t_quad:.4g}",
                     ratio=f"{t_quad / t_f:.0f}", compile_s=f"{compile_f:.2f}", points_per_s=f"{args.n_folded / t_f:.3g}"))
    rows.append(dict(case="folded value+grad(10 params)", nsijax_s=f"{t_fg:.4g}", peer_s=f"{t_quad_grad:.4g} (FD est.)",
                     ratio=f"{t_quad_grad / t_fg:.0f}", compile_s=f"{compile_fg:.2f}", points_per_s=f"{args.n_folded / t_fg:.3g}"))

    _common.print_table(rows, ["case", "nsijax_s", "peer_s", "ratio", "compile_s", "points_per_s"])
    print(f"folded spectrum: max |nsijax/quad - 1| = {max_rel:.2e} over {len(Tp)} recoil energies")
    path = _common.write_json(
        "cross_sections" + ("-smoke" if args.smoke else ""),
        {"args": vars(args), "rows": rows, "folded_max_rel_diff_vs_quad": max_rel,
         "peer": "NumPy vectorised formula (grid) and nested scipy.integrate.quad (folded); gradients by central differences"},
    )
    print(f"wrote {path}")
    assert max_rel < 1e-9, "nsijax and the quad peer disagree"


if __name__ == "__main__":
    main()
