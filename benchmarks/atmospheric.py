"""Atmospheric-neutrino benchmark: the zenith-grid propagation and each atmospheric likelihood, value and gradient.

Cases (timings of jitted calls after compilation; compile + first call reported separately):
  grid_sm        P(nu_a -> nu_b) for nu and nu-bar on the 200 E (log, 1-1000 GeV) x 200 cos z grid through
                 PREM (standard matter): nsijax ``grid_probabilities`` vs NuFast-Earth (P. Denton,
                 arXiv:2511.04735; C++, single thread) built from its sources when NUFAST_EARTH_DIR points to
                 a checkout and a C++ compiler is present (benchmarks/peers/nufast_earth_grid.cpp), and jaxnu
                 where installed
  grid_nsi       the same with complex NSI (no peer: NuFast-Earth and jaxnu have no NSI)
  grid_grad      value_and_grad of a weighted sum of the grid w.r.t. 6 oscillation + 9 NSI components
  <exp>_chi2     chi^2 of each bundled atmospheric experiment at given pulls: 6 osc + 9 eps^d + its pulls (13 for
                 DeepCore sample B, 25 for Super-K); _grad: value_and_grad w.r.t. all of them;
                 _profile_grad: value_and_grad w.r.t. the 15 physics parameters with the pulls profiled

Usage: python benchmarks/atmospheric.py [--smoke] [--repeat N] [--min-time S]
Writes benchmarks/results/atmospheric-<platform>.json (nothing with --smoke) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _common  # noqa: E402

from nsijax.experiments import available, load, spec  # noqa: E402
from nsijax.experiments.atmospheric.true_grid import resized  # noqa: E402
from nsijax.likelihood import chi2  # noqa: E402
from nsijax.parameters.nsi import NSI  # noqa: E402
from nsijax.parameters.params import Params  # noqa: E402
from nsijax.physics.oscillation import OscParams  # noqa: E402
from nsijax.physics.oscillation.atmospheric import ZenithGrid, grid_probabilities  # noqa: E402

OSC = OscParams.nufit()
_EPS_D = [0.01, -0.02, 0.03, 0.01, 0.005, -0.01, 0.0, 0.004, 0.002]  # eps^d, nsijax.parameters.nsi.COMPONENTS order
X0 = jnp.array([OSC.theta12, OSC.theta13, OSC.theta23, OSC.delta_cp, OSC.dm21, OSC.dm31, *_EPS_D])
PEER = Path(__file__).resolve().parent / "peers" / "nufast_earth_grid.cpp"


def _params(x, exp=None):
    pulls = {} if exp is None else {k: x[15 + i] for i, k in enumerate(exp.nuisance_keys)}
    return Params(osc=OscParams(*x[:6]), nsi=NSI(eps_d=x[6:15]), nuisances=pulls)


def _nufast_earth(n: int, repeat: int) -> dict | None:
    """Build and run the NuFast-Earth driver; None (with the reason printed) if it cannot be built."""
    src = os.environ.get("NUFAST_EARTH_DIR")
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if not src or not cxx:
        print(f"NuFast-Earth skipped: {'set NUFAST_EARTH_DIR to a checkout' if not src else 'no C++ compiler'}")
        return None
    src = Path(src)
    sources = [p for p in (src / "src").glob("*.cpp") if p.name != "main.cpp"]
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "nufast_earth_grid"
        cmd = [cxx, "-O3", "-march=native", "-std=c++17", f"-I{src / 'include'}", str(PEER), *map(str, sources), "-o", str(exe)]
        build = subprocess.run(cmd, capture_output=True, text=True)
        if build.returncode != 0:
            print("NuFast-Earth build failed:\n" + build.stderr[-2000:])
            return None
        out = subprocess.run([str(exe), str(n), str(n), str(repeat)], capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return rows[0] if rows else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small grids, short timing loops (CI)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timing round")
    args = ap.parse_args(argv)
    repeat, min_time = (1, 0.0) if args.smoke else (args.repeat, args.min_time)
    n = 20 if args.smoke else 200
    rows = []

    def add(case, code, fn, *a):
        first, best = _common.time_jitted(fn, *a, repeat=repeat, min_time=min_time)
        rows.append({"case": case, "code": code, "compile_s": round(first - best, 3), "time_ms": round(1e3 * best, 3)})
        return rows[-1]

    grid = ZenithGrid.regular(1.0, 1000.0, n, n, detector_depth_km=2.0)
    sm = jax.jit(lambda x: grid_probabilities(OscParams(*x[:6]), grid))
    _common.time_jitted(sm, X0, repeat=1, min_time=min_time)  # warm-up: the first timed case ran ~2x slow
    row = add("grid_sm", "nsijax", sm, X0)
    row["grid"] = f"{n}x{n} nu+nubar"
    nsi = jax.jit(lambda x: grid_probabilities(OscParams(*x[:6]), grid, NSI(eps_d=x[6:15])))
    add("grid_nsi", "nsijax", nsi, X0)
    w = jnp.linspace(0.5, 1.5, n)
    vg = jax.jit(jax.value_and_grad(lambda x: jnp.sum(nsi(x)[..., 1, :] * w[:, None])))
    add("grid_grad", "nsijax", vg, X0)["params"] = 15
    peer = None if args.smoke else _nufast_earth(n, max(repeat, 3))
    if peer is not None:
        rows.append({"case": "grid_sm", "code": "NuFast-Earth (1 thread)", "time_ms": round(1e3 * peer["seconds_per_grid"], 3),
                     "grid": f"{n}x{n} nu+nubar", "ratio": round(peer["seconds_per_grid"] / (rows[0]["time_ms"] * 1e-3), 2)})
    try:
        import jaxnu  # noqa: F401
    except ImportError:
        print("jaxnu not installed: its row is skipped")

    for name in available():
        if spec(name)["kind"] != "atmospheric":
            continue
        exp = load(name, overrides=resized(spec(name), n, n) if args.smoke else None)
        x = jnp.concatenate([X0, jnp.zeros(len(exp.nuisance_names))])
        f = jax.jit(lambda x, exp=exp: chi2(_params(x, exp), exp))
        add(f"{name}_chi2", "nsijax", f, x)["chi2"] = round(float(f(x)), 4)
        add(f"{name}_grad", "nsijax", jax.jit(jax.value_and_grad(lambda x, exp=exp: chi2(_params(x, exp), exp))), x)["params"] = int(x.size)
        fp = jax.jit(jax.value_and_grad(lambda x, exp=exp: chi2(_params(x), exp, nuisances="profile")))
        row = add(f"{name}_profile_grad", "nsijax", fp, X0)
        row["params"], row["chi2"] = 15, round(float(fp(X0)[0]), 4)

    _common.print_table(rows, ["case", "code", "grid", "compile_s", "time_ms", "ratio", "chi2", "params"])
    if not args.smoke:
        path = _common.write_json("atmospheric", {"rows": rows, "nufast_earth": peer})
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
