"""Oscillation-engine benchmark: nsijax vs NuOscProbExact, nuSQuIDS and jaxnu on the same machine.

Cases (nsijax timings are of a jitted call, as inside a likelihood; compile time reported separately):
  const    constant density, full complex NSI, 1e4..1e6 energies      -> probability matrices / s
  chord17  a 17-layer PREM chord (cos z = -0.9), 1e5 energies           -> matrices / s
  grid     atmospheric grid 200 energies x 200 zeniths (PREM, 28 padded segments per path)
  grad     value_and_grad of sum(w * P) w.r.t. 15 parameters (6 oscillation + 9 NSI components of eps^e)
  memory   XLA buffer sizes of each compiled nsijax case (compiled.memory_analysis()) and process max RSS

Usage: python benchmarks/oscillation.py [--smoke] [--device LABEL] [--repeat N]
Writes benchmarks/results/oscillation-<device>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nsijax  # noqa: E402
from nsijax import NSI
from nsijax.constants import KM_TO_INV_EV, V_CC_EV_PER_GCC  # noqa: E402
from nsijax.physics.oscillation import (  # noqa: E402
    Layers,
    OscParams,
    earth,  # noqa: E402
    oscillation_probability,
)

OSC = OscParams.nufit()
EPS = {"ee": 0.3, "mumu": -0.2, "tautau": 0.1, "emu": 0.1 + 0.05j, "etau": -0.2 + 0.1j, "mutau": 0.05 - 0.03j}
NSI_E = NSI(eps_e=EPS)
L_CONST, RHO_CONST, YE_CONST, YN_CONST = 1300.0, 2.8, 0.5, 1.05


def _timeit(fn, repeat):
    """(first-call seconds, best steady-state seconds) of fn() with block_until_ready."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return first, best


def _mem(jitted, *args):
    try:
        m = jitted.lower(*args).compile().memory_analysis()
        return int(m.temp_size_in_bytes + m.output_size_in_bytes + m.argument_size_in_bytes)
    except Exception:  # noqa: BLE001 - memory analysis is optional per backend
        return None


def _chord17():
    """17 segments of equal length along the cos z = -0.9 chord, PREM chord-averaged densities."""
    lay = earth.prem_layers(-0.9, atmosphere_km=0.0, n_quad=4)
    total = float(lay.total_length_km)
    edges = np.linspace(0.0, total, 18)
    mids = 0.5 * (edges[1:] + edges[:-1])
    rd = earth.R_EARTH_KM
    c = -0.9
    # radius at distance s from the far end of the chord
    t = total - mids
    r = np.sqrt(rd**2 + t**2 + 2 * t * rd * c)
    rho = np.asarray(earth.prem_density(jnp.asarray(r)))
    ye = np.where(r < earth.R_CMB_KM, earth.YE_CORE, earth.YE_MANTLE)
    return Layers(np.diff(edges), rho, ye, (1 - ye) / ye)


def bench_nsijax(sizes, repeat, out):
    w_nsi = NSI_E
    const = Layers.constant(L_CONST, RHO_CONST, YE_CONST, YN_CONST)
    f_const = jax.jit(lambda o, e, n: oscillation_probability(o, e, const, nsi=n))
    for n in sizes["const"]:
        e = jnp.geomspace(0.1, 20.0, n)
        first, best = _timeit(lambda: f_const(OSC, e, w_nsi), repeat)
        out.append(dict(code="nsijax", case="const", n=n, rate=n / best, run_s=best, compile_s=first - best,
                        mem_bytes=_mem(f_const, OSC, e, w_nsi)))
    chord = _chord17()
    f_chord = jax.jit(lambda o, e: oscillation_probability(o, e, chord))
    n = sizes["chord"]
    e = jnp.geomspace(0.5, 50.0, n)
    first, best = _timeit(lambda: f_chord(OSC, e), repeat)
    out.append(dict(code="nsijax", case="chord17", n=n, rate=n / best, run_s=best, compile_s=first - best,
                    mem_bytes=_mem(f_chord, OSC, e)))
    ne, nz = sizes["grid"]
    cz = jnp.linspace(-1.0, 1.0, nz)
    e = jnp.geomspace(1.0, 100.0, ne)
    f_grid = jax.jit(lambda o, e, c: oscillation_probability(o, e, earth.prem_layers(c)))
    first, best = _timeit(lambda: f_grid(OSC, e, cz), repeat)
    out.append(dict(code="nsijax", case=f"grid{ne}x{nz}", n=ne * nz, rate=ne * nz / best, run_s=best,
                    compile_s=first - best, mem_bytes=_mem(f_grid, OSC, e, cz)))
    n = sizes["grad"]
    e = jnp.geomspace(0.1, 20.0, n)
    wts = jnp.asarray(np.random.default_rng(0).normal(size=(n, 3, 3)))

    def loss(theta):
        o = OscParams(*[theta[i] for i in range(6)])
        nsi = NSI.from_components(eL=0.5 * theta[6:], eR=0.5 * theta[6:])
        return jnp.sum(wts * oscillation_probability(o, e, const, nsi=nsi))

    theta0 = jnp.concatenate([jnp.stack([OSC.theta12, OSC.theta13, OSC.theta23, OSC.delta_cp, OSC.dm21, OSC.dm31]),
                              NSI_E.eL + NSI_E.eR])
    g = jax.jit(jax.value_and_grad(loss))
    first, best = _timeit(lambda: g(theta0), repeat)
    out.append(dict(code="nsijax", case="grad15", n=n, rate=n / best, run_s=best, compile_s=first - best,
                    mem_bytes=_mem(g, theta0)))


def _nuosc_h(energy):
    import hamiltonians3nu

    hv = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
        np.sin(float(OSC.theta12)), np.sin(float(OSC.theta23)), np.sin(float(OSC.theta13)),
        float(OSC.delta_cp), float(OSC.dm21), float(OSC.dm31))
    eps = np.asarray(NSI_E.matter(YN_CONST))
    return hv, hamiltonians3nu.hamiltonian_3nu_nsi(
        hv, energy * 1e9, V_CC_EV_PER_GCC * RHO_CONST * YE_CONST,
        [eps[0, 0], eps[0, 1], eps[0, 2], eps[1, 1], eps[1, 2], eps[2, 2]])


def bench_nuoscprobexact(sizes, repeat, out):
    try:
        import hamiltonians3nu
        import oscprob3nu
        import slabs
    except ImportError as exc:
        out.append(dict(code="NuOscProbExact", case="all", note=f"not installed: {exc}"))
        return
    for n in sizes["const"]:
        e = np.geomspace(0.1, 20.0, n)
        _, h = _nuosc_h(e)
        first, best = _timeit(lambda: oscprob3nu.probabilities_3nu(h, L_CONST * KM_TO_INV_EV), repeat)
        out.append(dict(code="NuOscProbExact", case="const", n=n, rate=n / best, run_s=best, compile_s=first - best))
    chord = _chord17()
    hv, _ = _nuosc_h(np.array([1.0]))
    vcc = V_CC_EV_PER_GCC * np.asarray(chord.density_gcc) * np.asarray(chord.ye)
    widths = np.asarray(chord.length_km) * KM_TO_INV_EV
    m = min(sizes["chord"], 300)
    es = np.geomspace(0.5, 50.0, m)

    def run():
        for en in es:
            hs = np.stack([hamiltonians3nu.hamiltonian_3nu_matter(hv, en * 1e9, v) for v in vcc])
            slabs.probabilities_3nu_slabs(hs, widths)

    first, best = _timeit(run, max(1, repeat // 2))
    out.append(dict(code="NuOscProbExact", case="chord17", n=m, rate=m / best, run_s=best, compile_s=first - best,
                    note="python loop over energies (slabs API is per energy)"))


def bench_nusquids(sizes, repeat, out):
    try:
        import nuSQuIDS as nsq
    except ImportError as exc:
        out.append(dict(code="nuSQuIDS", case="all", note=f"not installed: {exc}"))
        return
    units = nsq.Const()
    for n in sizes["nusquids"]:
        def run():
            nus = nsq.nuSQUIDS(nsq.linspace(0.1, 20.0, n) * units.GeV, 3, nsq.NeutrinoType.neutrino, False)
            nus.Set_MixingAngle(0, 1, float(OSC.theta12))
            nus.Set_MixingAngle(0, 2, float(OSC.theta13))
            nus.Set_MixingAngle(1, 2, float(OSC.theta23))
            nus.Set_SquareMassDifference(1, float(OSC.dm21))
            nus.Set_SquareMassDifference(2, float(OSC.dm31))
            nus.Set_CPPhase(0, 2, float(OSC.delta_cp))
            nus.Set_Body(nsq.ConstantDensity(RHO_CONST, YE_CONST))
            nus.Set_Track(nsq.ConstantDensity.Track(L_CONST * units.km))
            nus.Set_rel_error(1e-9)
            nus.Set_abs_error(1e-9)
            ini = np.zeros((n, 3))
            ini[:, 1] = 1.0
            nus.Set_initial_state(ini, nsq.Basis.flavor)
            nus.EvolveState()
            return np.array([nus.EvalFlavorAtNode(1, i) for i in range(n)])

        first, best = _timeit(run, 1)
        out.append(dict(code="nuSQuIDS", case="const", n=n, rate=n / best, run_s=best, compile_s=0.0,
                        note="standard matter only (no NSI binding); ODE rel/abs error 1e-9; one flavour row"))


def bench_jaxnu(sizes, repeat, out):
    try:
        import jaxnu
    except ImportError as exc:
        out.append(dict(code="jaxnu", case="all", note=f"not installed: {exc}"))
        return
    p = jaxnu.OscParams(OSC.theta12, OSC.theta13, OSC.theta23, OSC.delta_cp, OSC.dm21, OSC.dm31)
    jn = jaxnu.NSI(EPS["ee"], EPS["mumu"], EPS["tautau"], EPS["emu"], EPS["etau"], EPS["mutau"])
    eps = np.asarray(NSI_E.matter(YN_CONST))
    jn = jaxnu.NSI(eps[0, 0].real, eps[1, 1].real, eps[2, 2].real, eps[0, 1], eps[0, 2], eps[1, 2])
    f = jax.jit(lambda e: jaxnu.probability_constant(p, e, L_CONST, RHO_CONST, YE_CONST, nsi=jn))
    for n in sizes["const"]:
        e = jnp.geomspace(0.1, 20.0, n)
        first, best = _timeit(lambda: f(e), repeat)
        out.append(dict(code="jaxnu", case="const", n=n, rate=n / best, run_s=best, compile_s=first - best))
    chord = _chord17()
    fc = jax.jit(lambda e: jaxnu.probability_profile(p, e, chord.density_gcc, chord.ye, chord.length_km))
    n = sizes["chord"]
    e = jnp.geomspace(0.5, 50.0, n)
    first, best = _timeit(lambda: fc(e), repeat)
    out.append(dict(code="jaxnu", case="chord17", n=n, rate=n / best, run_s=best, compile_s=first - best))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    ap.add_argument("--device", default=None, help="label for the results file (default: jax device kind)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.smoke:
        sizes = dict(const=[1000], chord=500, grid=(10, 10), grad=500, nusquids=[20])
        repeat = 1
    else:
        sizes = dict(const=[10_000, 100_000, 1_000_000], chord=100_000, grid=(200, 200), grad=100_000,
                     nusquids=[200])
        repeat = args.repeat
    dev = jax.devices()[0]
    label = args.device or f"{dev.platform}"
    rows: list[dict] = []
    bench_nsijax(sizes, repeat, rows)
    if not args.no_peers:
        for peer in (bench_nuoscprobexact, bench_jaxnu, bench_nusquids):
            try:
                peer(sizes, repeat, rows)
            except Exception as exc:  # noqa: BLE001 - a peer failing must not stop the run
                rows.append(dict(code=peer.__name__.replace("bench_", ""), case="all", note=f"failed: {exc!r}"))
    meta = dict(
        date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        jax=jax.__version__, nsijax=nsijax.__version__, device=str(dev), device_kind=dev.device_kind,
        platform=platform.platform(), cpu_count=os.cpu_count(), x64=bool(jax.config.read("jax_enable_x64")),
        smoke=args.smoke, max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    print(f"# oscillation benchmark  jax {jax.__version__}  device {dev}  {meta['date']}")
    print(f"{'code':16s} {'case':14s} {'n':>9s} {'rate [1/s]':>12s} {'run [s]':>10s} {'compile [s]':>11s} {'XLA mem [MB]':>12s}")
    for r in rows:
        if "rate" not in r:
            print(f"{r['code']:16s} {r['case']:14s} {r.get('note', '')}")
            continue
        mem = r.get("mem_bytes")
        print(f"{r['code']:16s} {r['case']:14s} {r['n']:9d} {r['rate']:12.3e} {r['run_s']:10.4f} "
              f"{r['compile_s']:11.2f} {(mem / 2**20 if mem else float('nan')):12.1f}")
    print(f"process max RSS: {meta['max_rss_mb']:.0f} MB")
    out = Path(args.out) if args.out else Path(__file__).resolve().parent / "results" / f"oscillation-{label}.json"
    if args.smoke and not args.out:
        out = out.with_name(out.stem + "-smoke.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(meta=meta, results=rows), indent=1, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
