"""The ``nsijax`` command line.

``nsijax demo`` prints Standard-Model and NSI CEvNS recoil spectra for the COHERENT CsI detector
(the main job until ``nsijax fit`` lands). ``nsijax targets`` lists the known targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# COHERENT CsI[Na] 2017 (Akimov et al., Science 357, 1123 (2017)): 14.57 kg at 19.3 m, 1.76e23 POT,
# 0.08 neutrinos of each flavour per proton.
_CSI_2017 = {"mass_kg": 14.57, "distance_m": 19.3, "pot": 1.76e23, "nu_per_proton": 0.08}


def _demo(args: argparse.Namespace) -> int:
    import jax.numpy as jnp
    import numpy as np

    import nsijax
    from nsijax import constants as c
    from nsijax import flux

    det = _CSI_2017
    n_formula = det["mass_kg"] * 1e3 / nsijax.targets.get_target("CsI").molar_mass_g * c.N_AVOGADRO
    fluence = flux.flux_at(det["distance_m"], det["pot"], det["nu_per_proton"])
    T_kev = jnp.linspace(args.t_min_kev, args.t_max_kev, args.points)
    models = {
        "SM": None,
        f"eps^u_ee={args.eps_u_ee:g}": nsijax.NSI(eps_u={"ee": args.eps_u_ee}),
        f"eps^d_ee={args.eps_d_ee:g}": nsijax.NSI(eps_d={"ee": args.eps_d_ee}),
    }
    spectra = {}
    for name, nsi in models.items():
        s = flux.pion_dar_recoil_spectrum(T_kev * 1e-3, "CsI", nsi=nsi) * fluence * n_formula * 1e-3
        spectra[name] = np.asarray(s)  # events per keVnr
    print("nsijax demo: CEvNS recoil spectra, COHERENT CsI[Na] 2017 exposure (14.57 kg, 19.3 m, 1.76e23 POT)")
    print("events per keVnr, all three pi-DAR flavours, Helm form factor, tree-level couplings\n")
    header = f"{'T [keVnr]':>10}" + "".join(f"{k:>18}" for k in spectra)
    print(header)
    for i, t in enumerate(np.asarray(T_kev)):
        print(f"{t:10.2f}" + "".join(f"{v[i]:18.4f}" for v in spectra.values()))
    width = float(T_kev[1] - T_kev[0]) if args.points > 1 else 0.0
    totals = {k: float(np.trapezoid(v, dx=width)) for k, v in spectra.items()}
    print("\n" + f"{'total':>10}" + "".join(f"{v:18.2f}" for v in totals.values()))
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        result = {
            "inputs": {**vars(args), "detector": det},
            "T_kev": np.asarray(T_kev).tolist(),
            "events_per_kev": {k: v.tolist() for k, v in spectra.items()},
            "totals": totals,
            "nsijax_version": nsijax.__version__,
        }
        (out / "demo_spectra.json").write_text(json.dumps(result, indent=1, default=str))
        print(f"\nwrote {out / 'demo_spectra.json'}")
    return 0


def _targets(args: argparse.Namespace) -> int:
    from nsijax import targets

    for name in targets.available():
        t = targets.get_target(name)
        print(f"{name:6s} nuclei/formula={t.nuclei:5.2f} electrons={t.electrons:3d} molar mass={t.molar_mass_g:.3f} g/mol")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nsijax", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="print SM and NSI CEvNS recoil spectra for the COHERENT CsI detector")
    d.add_argument("--eps-u-ee", type=float, default=0.2, help="eps^u_ee of the first NSI model (default 0.2)")
    d.add_argument("--eps-d-ee", type=float, default=-0.2, help="eps^d_ee of the second NSI model (default -0.2)")
    d.add_argument("--t-min-kev", type=float, default=1.0, help="lowest recoil energy, keVnr")
    d.add_argument("--t-max-kev", type=float, default=30.0, help="highest recoil energy, keVnr")
    d.add_argument("--points", type=int, default=30, help="number of recoil energies")
    d.add_argument("--output", default=None, help="folder for demo_spectra.json (optional)")
    d.set_defaults(func=_demo)
    t = sub.add_parser("targets", help="list the known scattering targets")
    t.set_defaults(func=_targets)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "points", 2) < 2 or (hasattr(args, "t_min_kev") and not 0 <= args.t_min_kev < args.t_max_kev):
        parser.error("need --points >= 2 and 0 <= --t-min-kev < --t-max-kev")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
