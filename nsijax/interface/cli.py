"""The ``nsijax`` command line.

    nsijax fit          the main job: COHERENT CsI 2021 + LAr 2020 SM fit, eps^u_ee / eps^d_ee profiles
                        and contour, B-L and universal Z' exclusion curves (JSON + PNG in --output)
    nsijax fit --joint  LMA versus LMA-Dark: solar + KamLAND alone and with COHERENT (theta12 profiles)
    nsijax fit --dune-nsi
                        DUNE (TDR GLoBES configuration) sensitivity to NSI in propagation, Asimov data
    nsijax fit --atmospheric-nsi
                        eps_mutau, eps_tautau - eps_mumu, |eps_emu|, |eps_etau| profiles from atmospheric data
                        (IceCube DeepCore 3-year sample B)
    nsijax fit --cevns-properties
                        magnetic moments, millicharge, charge radii, sin^2 theta_W and R_n(Cs) profiles from
                        COHERENT CsI 2021 + Dresden-II + XENONnT 8B
    nsijax scan         a profile scan of any parameters over any experiments
    nsijax sample       NUTS posterior of chosen parameters (uniform priors) with diagnostics; the
                        nuisance pulls are sampled with their N(0,1) priors (marginal posterior), or
                        profiled at each step with --profile-nuisances (not a Bayesian posterior)
    nsijax experiments  the bundled experiments
    nsijax demo         SM and NSI CEvNS recoil spectra for the COHERENT CsI detector
    nsijax targets      the known scattering targets

Settings come from flags or a TOML file (``--config``; table ``[fit]``, ``[joint]``, ``[dune_nsi]``,
``[atmospheric_nsi]``, ``[cevns_properties]``, ``[scan]`` or ``[sample]``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import jax.numpy as jnp
import numpy as np

from .. import __version__, constants, experiments
from ..errors import NsijaxError
from ..inference import profile_scan, profiled_chi2, run_nuts, stable_hash
from ..inference.sampling import LIKELIHOOD_LABELS, experiment_model
from ..parameters import NSI
from ..parameters.names import check_names
from ..physics.scattering import targets
from ..physics.sources import pion_dar as flux
from ..studies import atmospheric_nsi, cevns_properties, coherent_nsi, dune_nsi, lma_dark
from . import plotting

#: The bundled experiment whose exposure ``nsijax demo`` uses (COHERENT CsI[Na] 2017, Science 357 (2017) 1123).
_DEMO_EXPERIMENT = "coherent_csi_2017"


def _demo_detector() -> dict:
    """Target, mass, distance, POT, neutrinos per proton, form factor and couplings of the demo detector,
    read from the spec of :data:`_DEMO_EXPERIMENT` (its ``[source]`` table)."""
    src = experiments.spec(_DEMO_EXPERIMENT)["source"]
    return {"experiment": _DEMO_EXPERIMENT, "target": src["target"], "mass_kg": float(src["mass_kg"]),
            "distance_m": float(src["distance_m"]), "pot": float(src["protons_on_target"]),
            "nu_per_proton": float(src["nu_per_proton"]), "form_factor": src["form_factor"],
            "couplings": src["couplings"]}


def _demo(args: argparse.Namespace) -> int:
    det = _demo_detector()
    n_formula = det["mass_kg"] * 1e3 / targets.get_target(det["target"]).molar_mass_g * constants.N_AVOGADRO
    fluence = flux.flux_at(det["distance_m"], det["pot"], det["nu_per_proton"])
    T_kev = jnp.linspace(args.t_min_kev, args.t_max_kev, args.points)
    models = {
        "SM": None,
        f"eps^u_ee={args.eps_u_ee:g}": NSI(eps_u={"ee": args.eps_u_ee}),
        f"eps^d_ee={args.eps_d_ee:g}": NSI(eps_d={"ee": args.eps_d_ee}),
    }
    spectra = {}
    for name, nsi in models.items():
        s = flux.pion_dar_recoil_spectrum(T_kev * 1e-3, det["target"], nsi=nsi, form_factor=det["form_factor"],
                                          couplings=det["couplings"]) * fluence * n_formula * 1e-3
        spectra[name] = np.asarray(s)  # events per keVnr
    print(f"nsijax demo: CEvNS recoil spectra, {det['experiment']} exposure ({det['target']}, {det['mass_kg']:g} kg, "
          f"{det['distance_m']:g} m, {det['pot']:.3g} POT, {det['nu_per_proton']:g} nu per flavour per proton)")
    print(f"events per keVnr, all three pi-DAR flavours, form factor {det['form_factor']}, "
          f"couplings {det['couplings']} (from the spec)\n")
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
            "nsijax_version": __version__,
        }
        (out / "demo_spectra.json").write_text(json.dumps(result, indent=1, default=str))
        print(f"\nwrote {out / 'demo_spectra.json'}")
    return 0


def _targets(args: argparse.Namespace) -> int:
    for name in targets.available():
        t = targets.get_target(name)
        print(f"{name:6s} nuclei/formula={t.nuclei:5.2f} electrons={t.electrons:3d} molar mass={t.molar_mass_g:.3f} g/mol")
    return 0


def _read_config(path: str | None, table: str) -> dict:
    if not path:
        return {}
    p = Path(path)
    if not p.is_file():
        raise SystemExit(f"nsijax: config file {path!r} not found")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise SystemExit(f"nsijax: {path}: invalid TOML: {e}") from None
    extra = set(data) - {table}
    if extra:
        raise SystemExit(f"nsijax: {path}: unknown tables {sorted(extra)} for '{table}' (expected [{table}])")
    return dict(data.get(table, {}))


def _parse_axis(text: str) -> tuple[str, "object"]:
    """'name=lo:hi:n' (linear grid) or 'name=lo:hi' (bounds, for sample)."""
    try:
        name, rng = text.split("=", 1)
        parts = [float(x) for x in rng.split(":")]
    except ValueError:
        raise SystemExit(f"nsijax: --param {text!r}: expected name=lo:hi[:n]") from None
    if len(parts) == 3:
        n = int(parts[2])
        if n < 2 or not parts[0] < parts[1]:
            raise SystemExit(f"nsijax: --param {text!r}: need lo < hi and n >= 2")
        return name, np.linspace(parts[0], parts[1], n)
    if len(parts) == 2 and parts[0] < parts[1]:
        return name, (parts[0], parts[1])
    raise SystemExit(f"nsijax: --param {text!r}: expected name=lo:hi[:n] with lo < hi")


def _fit_joint(args: argparse.Namespace) -> int:
    if args.zprime:
        raise SystemExit("nsijax fit --joint: --zprime does not apply to the LMA-Dark study")
    base = lma_dark.LMADarkConfig.fast() if args.fast else lma_dark.LMADarkConfig()
    try:
        cfg = lma_dark.LMADarkConfig.from_mapping(_read_config(args.config, "joint"), base)
        if args.experiments:
            kinds = {n: _experiment_kind(n) for n in args.experiments}
            cfg = lma_dark.LMADarkConfig.from_mapping(
                {"oscillation": [n for n, k in kinds.items() if k == "oscillation"],
                 "scattering": [n for n, k in kinds.items() if k != "oscillation"]}, cfg)
        cfg.validate()
    except NsijaxError as e:
        raise SystemExit(f"nsijax fit --joint: {e}") from None
    out = Path(args.output)
    print(f"nsijax fit --joint: LMA / LMA-Dark study, writing results to {out}/", flush=True)
    summary = lma_dark.run(cfg, out, progress=not args.quiet, plots=_have_matplotlib())
    print()
    for quark, res in summary["results"].items():
        for label, d in res.items():
            print(f"{quark} quarks, {label:11s}: Delta chi2(dark - LMA) = {d['delta_chi2_dark']:6.2f} "
                  f"({d['significance_sigma']:.1f} sigma)")
    for ref, d in lma_dark.PUBLISHED.items():
        sig = d["lma_dark_excluded_sigma"]
        print(f"published ({ref}, {d['reference'].split(': ', 1)[1]}): {sig['u']} sigma (u), {sig['d']} sigma (d)")
    print(f"done in {summary['wall_time_s']:.1f} s; see {out / 'lma_dark.json'}")
    return 0


def _study_config(args: argparse.Namespace, cls, table: str, flag: str):
    """A study's settings: ``cls.fast()`` with --fast (else the defaults) updated from the ``[table]`` of
    --config, validated; a clear SystemExit naming ``flag`` otherwise."""
    base = cls.fast() if args.fast else cls()
    try:
        return cls.from_mapping(_read_config(args.config, table), base).validate()
    except NsijaxError as e:
        raise SystemExit(f"nsijax fit {flag}: {e}") from None


def _fit_dune_nsi(args: argparse.Namespace) -> int:
    if args.zprime or args.experiments or args.joint:
        raise SystemExit("nsijax fit --dune-nsi: --zprime, --experiments and --joint do not apply (set "
                         "'experiment' and 'couplings' in the [dune_nsi] table of --config)")
    cfg = _study_config(args, dune_nsi.DuneNSIConfig, "dune_nsi", "--dune-nsi")
    out = Path(args.output)
    print(f"nsijax fit --dune-nsi: DUNE NSI sensitivity ({cfg.experiment}, Asimov), writing results to {out}/", flush=True)
    summary = dune_nsi.run(cfg, out, progress=not args.quiet, plots=_have_matplotlib())
    print()
    for c, d in summary["results"].items():
        ivs = " U ".join(f"[{lo:+.3f}, {hi:+.3f}]" for lo, hi in d["interval_90cl"])
        print(f"{c:18s} 90% CL (1 dof): {ivs}")
        for b in d.get("bound_90cl_fixed_phase", []):
            txt = "beyond the grid" if b["bound"] is None else f"< {b['bound']:.3f}"
            print(f"{'':18s}   phase {b['phase_deg']:5.1f} deg: |eps| {txt}")
    print(f"done in {summary['wall_time_s']:.1f} s; see {out / 'dune_nsi.json'}")
    return 0


def _fit_atmospheric_nsi(args: argparse.Namespace) -> int:
    if args.zprime or args.experiments or args.joint or args.dune_nsi:
        raise SystemExit("nsijax fit --atmospheric-nsi: --zprime, --experiments, --joint and --dune-nsi do not apply "
                         "(set 'experiments' and 'couplings' in the [atmospheric_nsi] table of --config)")
    cfg = _study_config(args, atmospheric_nsi.AtmosphericNSIConfig, "atmospheric_nsi", "--atmospheric-nsi")
    out = Path(args.output)
    print(f"nsijax fit --atmospheric-nsi: NSI from {', '.join(cfg.experiments)}, writing results to {out}/", flush=True)
    summary = atmospheric_nsi.run(cfg, out, progress=not args.quiet, plots=_have_matplotlib())
    print()
    for c, d in summary["results"].items():
        ivs = " U ".join(f"[{lo:+.4f}, {hi:+.4f}]" for lo, hi in d["interval_90cl"])
        print(f"{c:18s} eps^{cfg.fermion} 90% CL (1 dof): {ivs}")
        if c in atmospheric_nsi.PUBLISHED:
            pub = atmospheric_nsi.PUBLISHED[c]
            print(f"{'':18s} published: {pub['interval_90cl']} ({pub['reference']})")
    print(f"done in {summary['wall_time_s']:.1f} s; see {out / 'atmospheric_nsi.json'}")
    return 0


def _fit_cevns_properties(args: argparse.Namespace) -> int:
    if args.zprime or args.experiments or args.joint or args.dune_nsi or args.atmospheric_nsi:
        raise SystemExit("nsijax fit --cevns-properties: --zprime, --experiments, --joint, --dune-nsi and --atmospheric-nsi "
                         "do not apply (set 'experiments', 'parameters' and 'ranges' in the [cevns_properties] table "
                         "of --config)")
    cfg = _study_config(args, cevns_properties.CEvNSPropertiesConfig, "cevns_properties", "--cevns-properties")
    out = Path(args.output)
    print(f"nsijax fit --cevns-properties: {', '.join(cfg.parameters)} from {', '.join(cfg.experiments)}, "
          f"writing results to {out}/", flush=True)
    summary = cevns_properties.run(cfg, out, progress=not args.quiet, plots=_have_matplotlib())
    print()
    for name, d in summary["results"].items():
        ivs = " U ".join(f"[{lo:+.4g}, {hi:+.4g}]" for lo, hi in d["interval_90cl"])
        print(f"{name:18s} best fit {d['best_fit']:+.4g}; 90% CL (1 dof): {ivs}")
    print(f"done in {summary['wall_time_s']:.1f} s; see {out / 'cevns_properties.json'}")
    return 0


def _experiment_kind(name: str) -> str:
    """The ``kind`` of a bundled experiment (a clear error for an unknown name)."""
    try:
        return experiments.spec(name)["kind"]
    except NsijaxError as e:  # unknown name: the message lists the available ones
        raise SystemExit(f"nsijax: {e}") from None


def _fit(args: argparse.Namespace) -> int:
    if args.cevns_properties:
        return _fit_cevns_properties(args)
    if args.atmospheric_nsi:
        return _fit_atmospheric_nsi(args)
    if args.dune_nsi:
        return _fit_dune_nsi(args)
    if args.joint:
        return _fit_joint(args)

    base = coherent_nsi.StudyConfig.fast() if args.fast else coherent_nsi.StudyConfig()
    try:
        cfg = coherent_nsi.StudyConfig.from_mapping(_read_config(args.config, "fit"), base)
        overrides = {k: v for k, v in {"experiments": args.experiments, "zprime_presets": args.zprime}.items() if v}
        if overrides:
            cfg = coherent_nsi.StudyConfig.from_mapping(overrides, cfg)
        cfg.validate()
    except NsijaxError as e:
        raise SystemExit(f"nsijax fit: {e}") from None
    out = Path(args.output)
    print(f"nsijax fit: writing results to {out}/", flush=True)
    summary = coherent_nsi.run(cfg, out, progress=not args.quiet, plots=_have_matplotlib())
    sm = summary["standard_model"]
    print(f"\nStandard Model chi2 = {sm['chi2']:.2f} ({sm['n_bins']} bins)")
    for name, d in summary["profiles_1d"].items():
        ivs = ", ".join(f"[{lo:+.3f}, {hi:+.3f}]" for lo, hi in d["interval_90cl"])
        print(f"{name}: 90% CL allowed {ivs}")
    for preset, d in summary["zprime"].items():
        pts = [f"{m:.3g} MeV: {g:.2e}" for m, g in zip(d["mass_mev"], d["g_excluded_90cl"]) if g is not None]
        print(f"Z' {preset}: g excluded above (90% CL) " + "; ".join(pts[:: max(1, len(pts) // 5)]))
    print(f"done in {summary['seconds']:.1f} s; see {out / 'summary.json'}")
    return 0


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed (pip install 'nsijax[plots]'): skipping plots", file=sys.stderr)
        return False
    return True


def _params_and_experiments(args: argparse.Namespace, command: str, usage: str):
    """--param axes and loaded experiments of ``nsijax scan`` / ``nsijax sample`` (flags over TOML)."""
    cfg = _read_config(args.config, command)
    params = args.param or cfg.get("param", [])
    exp_names = args.experiments or cfg.get("experiments", ["coherent_csi_2021"])
    if not params:
        raise SystemExit(f"nsijax {command}: give at least one --param {usage}")
    axes = dict(_parse_axis(p) for p in params)
    try:
        check_names(axes)
        exps = [experiments.load(n) for n in exp_names]
    except NsijaxError as e:
        raise SystemExit(f"nsijax {command}: {e}") from None
    return params, axes, exp_names, exps


def _scan(args: argparse.Namespace) -> int:
    params, grid, exp_names, exps = _params_and_experiments(args, "scan", "name=lo:hi:n")
    short = [p for p, (k, v) in zip(params, grid.items()) if isinstance(v, tuple)]
    if short:
        raise SystemExit(f"nsijax scan: --param {short[0]!r}: a scan needs name=lo:hi:n (the number of grid points)")
    charges = args.zprime_charges
    loss = profiled_chi2(exps, zprime_charges=charges)
    inputs = {"param": params, "experiments": exp_names, "zprime_charges": charges}
    # the checkpoint is keyed by the arguments and the experiments' data: another scan never reuses it
    key = stable_hash({"command": "scan", **inputs, "chunk_size": args.chunk_size}, exps)

    res = profile_scan(loss, {}, grid, chunk_size=args.chunk_size, checkpoint=Path(args.output) / "scan_checkpoint.npz",
                       checkpoint_key=key, progress=not args.quiet, refine_best=False)
    jp, _ = res.save(Path(args.output) / "scan", inputs=inputs)
    if len(res.names) == 1:
        print(f"{res.names[0]}: best fit {res.best_fit.get(res.names[0]):+.4f}, 90% CL {res.interval(2.706)}")
    if _have_matplotlib():
        if len(res.names) == 1:
            plotting.profile_1d(res, Path(args.output) / "scan.png")
        elif len(res.names) == 2:
            plotting.contour_2d(res, Path(args.output) / "scan.png")
    print(f"wrote {jp}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    import numpyro.distributions as dist

    params, bounds, exp_names, exps = _params_and_experiments(args, "sample", "name=lo:hi (uniform prior)")
    if any(not isinstance(b, tuple) for b in bounds.values()):
        raise SystemExit("nsijax sample: --param takes name=lo:hi (prior bounds), not a grid")
    profile = bool(args.profile_nuisances or _read_config(args.config, "sample").get("profile_nuisances", False))
    mode = "profile" if profile else "sample"
    try:
        model, sampled = experiment_model(exps, {k: dist.Uniform(lo, hi) for k, (lo, hi) in bounds.items()},
                                          nuisances=mode)
    except NsijaxError as e:
        raise SystemExit(f"nsijax sample: {e}") from None
    print(f"nsijax sample: likelihood {LIKELIHOOD_LABELS[mode]}"
          + (f"; {len(sampled)} nuisance pulls sampled: {', '.join(sampled)}" if sampled else ""), flush=True)
    samples, summary = run_nuts(model, num_warmup=args.warmup, num_samples=args.samples, num_chains=args.chains,
                                seed=args.seed, progress_bar=not args.quiet)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "samples.npz", **samples)  # every sample site, the sampled nuisance pulls included
    (out / "posterior_summary.json").write_text(json.dumps(
        {"inputs": {"param": params, "experiments": exp_names, "samples": args.samples, "warmup": args.warmup,
                    "chains": args.chains, "seed": args.seed, "profile_nuisances": profile},
         "likelihood": LIKELIHOOD_LABELS[mode], "sampled_nuisances": list(sampled), "summary": summary},
        indent=1, default=float))
    print(f"likelihood: {LIKELIHOOD_LABELS[mode]}")
    for k, d in summary.items():
        print(f"{k}: " + ", ".join(f"{kk}={vv:.4g}" for kk, vv in d.items() if isinstance(vv, (int, float))))
    if _have_matplotlib():
        plotting.corner({k: samples[k] for k in bounds}, out / "corner.png", title=" + ".join(exp_names))
    print(f"wrote {out / 'posterior_summary.json'}")
    return 0


def _experiments(args: argparse.Namespace) -> int:
    for name in experiments.available():
        paper = experiments.spec(name).get("paper", {})
        cite = paper.get("citation", "") if isinstance(paper, dict) else str(paper)
        arxiv = paper.get("arxiv", "") if isinstance(paper, dict) else ""
        print(f"{name:20s} {cite}" + (f" [arXiv:{arxiv}]" if arxiv else ""))
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

    f = sub.add_parser("fit", help="the main job on bundled COHERENT data (see nsijax fit --help)")
    f.add_argument("--output", default="nsijax-results", help="folder for JSON results and PNG plots (default nsijax-results)")
    f.add_argument("--joint", action="store_true",
                   help="run the joint oscillation + COHERENT LMA / LMA-Dark study instead (TOML table [joint])")
    f.add_argument("--dune-nsi", action="store_true",
                   help="run the DUNE NSI sensitivity study (Asimov data) instead (TOML table [dune_nsi])")
    f.add_argument("--atmospheric-nsi", action="store_true",
                   help="run the atmospheric NSI study (DeepCore data) instead (TOML table [atmospheric_nsi])")
    f.add_argument("--cevns-properties", action="store_true",
                   help="run the CEvNS electromagnetic / electroweak / nuclear study instead (TOML table [cevns_properties])")
    f.add_argument("--config", default=None, help="TOML file with a [fit] table (grid sizes, ranges, experiments, presets)")
    f.add_argument("--experiments", nargs="+", default=None, help="experiments to combine (default coherent_csi_2021 coherent_lar_2020)")
    f.add_argument("--zprime", nargs="+", default=None, help="Z' charge presets for exclusion curves (default B-L universal)")
    f.add_argument("--fast", action="store_true", help="small grids (a quick look)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=_fit)

    sc = sub.add_parser("scan", help="profile scan: nsijax scan --param eps_u_ee=-1:1:81 [--param ...]")
    sc.add_argument("--param", action="append", help="name=lo:hi:n (repeat for 2D)")
    sc.add_argument("--experiments", nargs="+", default=None)
    sc.add_argument("--zprime-charges", default=None, help="charge preset when scanning zprime_* parameters")
    sc.add_argument("--chunk-size", type=int, default=64)
    sc.add_argument("--output", default="nsijax-scan")
    sc.add_argument("--config", default=None, help="TOML file with a [scan] table")
    sc.add_argument("--quiet", action="store_true")
    sc.set_defaults(func=_scan)

    sa = sub.add_parser("sample", help="NUTS posterior: nsijax sample --param eps_u_ee=-0.5:0.5 [--param ...]")
    sa.add_argument("--param", action="append", help="name=lo:hi (uniform prior; repeat)")
    sa.add_argument("--profile-nuisances", action="store_true",
                    help="profile the nuisance pulls at each step instead of sampling them with their N(0,1) "
                         "priors (samples the profile likelihood: not a Bayesian posterior)")
    sa.add_argument("--experiments", nargs="+", default=None)
    sa.add_argument("--samples", type=int, default=1000)
    sa.add_argument("--warmup", type=int, default=500)
    sa.add_argument("--chains", type=int, default=2)
    sa.add_argument("--seed", type=int, default=0)
    sa.add_argument("--output", default="nsijax-posterior")
    sa.add_argument("--config", default=None, help="TOML file with a [sample] table")
    sa.add_argument("--quiet", action="store_true")
    sa.set_defaults(func=_sample)

    ex = sub.add_parser("experiments", help="list the bundled experiments")
    ex.set_defaults(func=_experiments)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and (args.points < 2 or not 0 <= args.t_min_kev < args.t_max_kev):
        parser.error("need --points >= 2 and 0 <= --t-min-kev < --t-max-kev")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
