"""Long-baseline beam experiments from a GLoBES configuration (response ``"globes_beam"``; DUNE TDR).

The experiment definition (.glb + includes) is read by :mod:`nsijax.experiments.parsers.aedl` and turned, once,
in NumPy, into per-entry kernels (:func:`compile_config`; data tables read by
:func:`nsijax.experiments.parsers.tables.read_rows`); the likelihood then needs only the oscillation probabilities on the
sampling energies. Event rates follow GLoBES (source: ``glb_rate_engine.c``, ``glb_fluxes.c`` of
GLoBES 3.2; GLoBES manual, "Calculation of event rates"):

    N_c[i] = eff_post_c[i] sum_j R_c[i, j] ( Phi_c(E_j) sigma_c(E_j) P_c(E_j) eff_pre_c[j] dE_j + B_pre_c[j] )
             + B_post_c[i]

* E_j, dE_j: centres and widths of the sampling bins (``$sampling_min``, ``$sampling_stepsize``, or
  ``$sampling_points`` equal bins up to ``$sampling_max``; default: the reconstructed binning);
* Phi_c(E) = @norm x @time x @power x flux_table(E) / L^2 (L = sum of ``$lengthtab`` [km]), the table
  linearly interpolated in E and zero outside its energy range (GLoBES ``glb_get_flux``);
* sigma_c(E) = $target_mass x E x xsec_table(log10 E) (the table holds sigma/E in 1e-38 cm^2/GeV,
  linearly interpolated in log10 E, zero outside; GLoBES ``glb_get_xsec``); the flux column is the
  channel's initial flavour, the cross-section column its final flavour (GLoBES ``RatesXX``);
* P_c = P(initial -> final) in constant-density layers from ``$densitytab`` / ``$lengthtab``
  (``$profiletype = 3``) with :func:`nsijax.physics.oscillation.oscillation_probability`, Y_e from the spec
  (0.5) and Y_n from the spec (NSI weights, PHYSICS.md); ``NOSC_`` flavours are not oscillated
  (P = 1 if both flavours agree, else the channel is zero, as in GLoBES ``glb_calc_channel``);
* R_c: the channel's ``energy`` migration rows ``{lo, hi, m_lo..m_hi}``; eff/B: the channel's
  ``@pre/post_smearing_efficiencies/background`` (default 1 / 0).

Rules: the bins of rule r are those whose centre lies strictly inside ``@energy_window`` (GLoBES
``glb_set_energy_window``). Each signal/background entry k (``coef@#channel``) of a rule carries
its list of ``sys(#s)`` names from ``@sys_on_multiex_errors_sig/bg`` (``@sys_on_function =
"chiMultiExp"``); its counts are scaled by (1 + sum_s sigma_s theta_s) with standard-normal pulls
theta_s shared by every entry and rule naming s (GLoBES' multi-experiment correlated normalisation
errors). ``"chiNoSysSpectrum"`` rules carry no nuisances. The ``@sys_off_*`` settings are ignored
(nsijax profiles or fixes the pulls itself).

Experiment layout:
* ``observed``/``bin_shape``: (n_rules, n_window_bins) in rule order; every rule must have the same
  number of window bins (true for DUNE: 66 bins of 0.5-18 GeV per rule);
* ``labels``: one label ``"<rule>:<signal|background>:<channel>"`` per entry (the rows of
  :meth:`GlobesBeam.physics`), see :func:`rule_names` / :func:`entry_labels`;
* ``nuisance_names``: the systematics the rules use, in the order of their ``sys`` definitions.
* observed counts: the Asimov prediction at ``spec['data']['observed']`` = ``"asimov_nufit"``
  (NuFIT 6.0 NO, Standard Model, pulls 0); replace them with :func:`asimov` or ``equinox.tree_at``.
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics.oscillation import Layers, oscillation_probability
from ..base import AbstractExperiment, register
from ..parsers import aedl
from ..parsers.aedl import Ref, Symbol, Weighted
from ..parsers.spec import nuisance_names, number, string
from ..parsers.tables import read_rows

_FLAVOURS = {"e": 0, "m": 1, "t": 2}
_SYS_FUNCTIONS = {"chiMultiExp": True, "chiNoSysSpectrum": False}
_RULE_ATTRS = {
    "signal",
    "background",
    "sys_on_multiex_errors_sig",
    "sys_on_multiex_errors_bg",
    "sys_off_multiex_errors_sig",
    "sys_off_multiex_errors_bg",
    "sys_on_function",
    "sys_off_function",
    "errordim_sys_on",
    "errordim_sys_off",
    "energy_window",
}
_CHANNEL_ATTRS = {
    "channel",
    "pre_smearing_efficiencies",
    "post_smearing_efficiencies",
    "pre_smearing_background",
    "post_smearing_background",
}
_FLUX_ATTRS = {"flux_file", "time", "power", "norm"}
#: Observed-data choices of ``spec['data']['observed']``.
OBSERVED = ("asimov_nufit",)


# ----------------------------------------------------------------------------------------------
# data tables


def globes_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """GLoBES table interpolation: linear between support points, zero at or below the first point and
    above the last (``glb_get_flux`` / ``glb_get_xsec``: k = first index with xp[k] >= x; 0 if k = 0)."""
    y = np.interp(x, xp, fp)
    return np.where((x <= xp[0]) | (x > xp[-1]), 0.0, y)


# ----------------------------------------------------------------------------------------------
# configuration -> arrays


def _edges(cfg: aedl.AEDLFile, lo_key, step_key, count_key, hi_key, default=None) -> np.ndarray:
    lo = aedl.number(cfg.glob(lo_key, 0.0), cfg.glob_where(lo_key), f"${lo_key}")
    steps = cfg.glob(step_key)
    if steps is not None:
        w = np.asarray(aedl.numbers(steps, cfg.glob_where(step_key), f"${step_key}"))
        if np.any(w <= 0):
            raise InvalidSpecError(f"{cfg.glob_where(step_key)}: ${step_key} must be positive")
        edges = lo + np.concatenate([[0.0], np.cumsum(w)])
    elif cfg.glob(count_key) is not None:
        n = aedl.number(cfg.glob(count_key), cfg.glob_where(count_key), f"${count_key}")
        hi = aedl.number(cfg.glob(hi_key), cfg.glob_where(hi_key), f"${hi_key}")
        if n < 1 or n != int(n) or hi <= lo:
            raise InvalidSpecError(
                f"{cfg.glob_where(count_key)}: ${count_key} must be a positive integer below ${hi_key}"
            )
        edges = np.linspace(lo, hi, int(n) + 1)
    elif default is not None:
        return default
    else:
        raise InvalidSpecError(f"{cfg.path}: neither ${step_key} nor ${count_key} is given")
    hi = cfg.glob(hi_key)
    if hi is not None and abs(edges[-1] - float(hi)) > 1e-9 * max(1.0, abs(float(hi))):
        raise InvalidSpecError(f"{cfg.glob_where(hi_key)}: bins end at {edges[-1]}, not at ${hi_key} = {hi}")
    return edges


def _channel_tuple(env: aedl.Environment):
    where = env.where_of("channel")
    v = env.require("channel")
    ok = (
        isinstance(v, list)
        and len(v) == 6
        and isinstance(v[0], Ref)
        and isinstance(v[1], Symbol)
        and v[1].name in "+-"
        and isinstance(v[2], Symbol)
        and isinstance(v[3], Symbol)
        and isinstance(v[4], Ref)
        and isinstance(v[5], Ref)
    )
    if not ok:
        raise InvalidSpecError(f"{where}: @channel must be #flux : +|- : flavour : flavour : #cross : #energy")
    flav = []
    nosc = False
    for s in (v[2].name, v[3].name):
        base = s[5:] if s.startswith("NOSC_") else s
        nosc = nosc or s.startswith("NOSC_")
        if base not in _FLAVOURS:
            raise InvalidSpecError(f"{where}: unknown flavour {s!r} (e, m, t, optionally NOSC_)")
        flav.append(_FLAVOURS[base])
    return v[0].name, v[1].name == "-", flav[0], flav[1], nosc, v[4].name, v[5].name


def _per_bin(env: aedl.Environment, key: str, n: int, default: float) -> np.ndarray:
    """A channel's per-bin list attribute (efficiencies, backgrounds), ``default`` where absent."""
    value, where, what = env.get(key), env.where_of(key), f"@{key}"
    if value is None:
        return np.full(n, default)
    if isinstance(value, str):  # a %list bound to samplingbincenter()/bincenter()
        raise InvalidSpecError(f"{where}: {what} cannot be {value}()")
    arr = np.asarray(aedl.numbers(value, where, what))
    if arr.size != n:
        raise InvalidSpecError(f"{where}: {what} has {arr.size} values for {n} bins")
    return arr


def _smearing(env: aedl.Environment, n_reco: int, n_samp: int) -> np.ndarray:
    extra = set(env.attrs) - {"energy"}
    if extra:
        raise InvalidSpecError(
            f"{env.where_of(sorted(extra)[0])}: energy(#{env.name}): only explicit @energy rows are supported; "
            f"got @{', @'.join(sorted(extra))}"
        )
    if not env.attrs:
        raise InvalidSpecError(f"{env.where}: energy(#{env.name}) is declared but never defined")
    where = env.where_of("energy")
    rows = env.require("energy")
    if isinstance(rows, list) and rows and not isinstance(rows[0], list):
        rows = [rows]
    if not isinstance(rows, list) or len(rows) != n_reco:
        raise InvalidSpecError(
            f"{where}: energy(#{env.name}) needs one row per reconstructed bin ({n_reco}); got {len(rows) if isinstance(rows, list) else rows!r}"
        )
    mat = np.zeros((n_reco, n_samp))
    for i, row in enumerate(rows):
        vals = aedl.numbers(row, where, f"energy(#{env.name}) row {i}")
        if len(vals) < 2:
            raise InvalidSpecError(f"{where}: energy(#{env.name}) row {i} needs lo, hi and values")
        lo, hi = vals[0], vals[1]
        if lo != int(lo) or hi != int(hi) or not 0 <= lo <= hi < n_samp or len(vals) != int(hi - lo) + 3:
            raise InvalidSpecError(
                f"{where}: energy(#{env.name}) row {i}: expected {{lo, hi, {int(hi - lo) + 1 if hi >= lo else '?'} values}}"
                f" with 0 <= lo <= hi < {n_samp}; got lo={lo}, hi={hi} and {len(vals) - 2} values"
            )
        mat[i, int(lo) : int(hi) + 1] = vals[2:]
    return mat


def _window(env: aedl.Environment, centres: np.ndarray, emin: float, emax: float) -> tuple[int, int]:
    w = env.get("energy_window")
    lo, hi = emin, emax
    if w is not None:
        vals = aedl.numbers(w, env.where_of("energy_window"), "@energy_window")
        if len(vals) != 2:
            raise InvalidSpecError(f"{env.where_of('energy_window')}: @energy_window must be lo : hi")
        lo, hi = max(min(vals), emin), min(max(vals), emax)
    idx = np.nonzero((centres > lo) & (centres < hi))[0]
    if idx.size == 0:
        raise InvalidSpecError(f"{env.where}: rule(#{env.name}) has no bin inside its energy window")
    return int(idx[0]), int(idx[-1]) + 1


def compile_config(cfg: aedl.AEDLFile) -> dict[str, Any]:
    """Everything nuisance- and parameter-independent (see the module docstring): ``rules``, entry
    ``labels``, ``sys_names`` and ``sys_sigma`` of the systematics used, each rule's ``window_bins``
    (lo, hi) and ``arrays`` (NumPy) named as the fields of :class:`GlobesBeam`."""
    reco = _edges(cfg, "emin", "binsize", "bins", "emax")
    samp = _edges(cfg, "sampling_min", "sampling_stepsize", "sampling_points", "sampling_max", default=reco)
    centres, n_reco = 0.5 * (reco[1:] + reco[:-1]), reco.size - 1
    e_samp, de_samp, n_samp = 0.5 * (samp[1:] + samp[:-1]), np.diff(samp), samp.size - 1
    if np.any(e_samp <= 0):
        raise InvalidSpecError(f"{cfg.glob_where('sampling_min')}: sampling energies must be > 0")
    if cfg.glob("filter_state", 0) not in (0, 0.0):
        raise InvalidSpecError(
            f"{cfg.glob_where('filter_state')}: $filter_state = 1 (GLoBES' low-pass filter) is not supported"
        )
    ptype = cfg.glob("profiletype")
    if ptype != 3:
        raise InvalidSpecError(
            f"{cfg.glob_where('profiletype')}: only $profiletype = 3 ($densitytab / $lengthtab layers) is supported; got {ptype}"
        )
    dens = np.asarray(aedl.numbers(cfg.glob("densitytab"), cfg.glob_where("densitytab"), "$densitytab"))
    lens = np.asarray(aedl.numbers(cfg.glob("lengthtab"), cfg.glob_where("lengthtab"), "$lengthtab"))
    if dens.size != lens.size or dens.size == 0 or np.any(dens < 0) or np.any(lens <= 0):
        raise InvalidSpecError(
            f"{cfg.glob_where('lengthtab')}: $densitytab and $lengthtab need the same number (>0) of layers, "
            "densities >= 0, lengths > 0"
        )
    baseline = float(lens.sum())
    mass = aedl.number(cfg.glob("target_mass"), cfg.glob_where("target_mass"), "$target_mass")

    fluxes = {}
    for name, env in cfg.environments["nuflux"].items():
        bad = set(env.attrs) - _FLUX_ATTRS
        if bad:
            raise InvalidSpecError(f"{env.where_of(sorted(bad)[0])}: nuflux(#{name}): unsupported @{sorted(bad)[0]}")
        fname = env.require("flux_file")
        if not isinstance(fname, str):
            raise InvalidSpecError(f"{env.where_of('flux_file')}: @flux_file must be a string")
        scale = 1.0
        for key in ("time", "power", "norm"):
            scale *= aedl.number(env.get(key, 1.0), env.where_of(key), f"@{key}")
        path = aedl.resolve(fname, pathlib.Path(env.attrs["flux_file"].file), cfg.path)
        fluxes[name] = (read_rows(path, 7, where=env.where_of("flux_file"), min_rows=2, increasing=True), scale / baseline**2)
    xsecs = {}
    for name, env in cfg.environments["cross"].items():
        bad = set(env.attrs) - {"cross_file"}
        if bad:
            raise InvalidSpecError(f"{env.where_of(sorted(bad)[0])}: cross(#{name}): unsupported @{sorted(bad)[0]}")
        fname = env.require("cross_file")
        if not isinstance(fname, str):
            raise InvalidSpecError(f"{env.where_of('cross_file')}: @cross_file must be a string")
        path = aedl.resolve(fname, pathlib.Path(env.attrs["cross_file"].file), cfg.path)
        xsecs[name] = read_rows(path, 7, where=env.where_of("cross_file"), min_rows=2, increasing=True)
    smear_cache: dict[str, np.ndarray] = {}

    channels = {}  # name -> (kernel (n_reco, n_samp), const (n_reco,), prob row)
    for name, env in cfg.environments["channel"].items():
        bad = set(env.attrs) - _CHANNEL_ATTRS
        if bad:
            raise InvalidSpecError(f"{env.where_of(sorted(bad)[0])}: channel(#{name}): unsupported @{sorted(bad)[0]}")
        flux_n, anti, src, dst, nosc, xs_n, sm_n = _channel_tuple(env)
        where = env.where_of("channel")
        flux_tab, fscale = fluxes.get(flux_n, (None, None))
        if flux_tab is None:
            raise InvalidSpecError(f"{where}: unknown nuflux #{flux_n}")
        if xs_n not in xsecs:
            raise InvalidSpecError(f"{where}: unknown cross #{xs_n}")
        if sm_n not in smear_cache:
            smear_cache[sm_n] = _smearing(cfg.env("energy", sm_n, where), n_reco, n_samp)
        col = 1 + 3 * anti
        phi = globes_interp(e_samp, flux_tab[:, 0], flux_tab[:, col + src]) * fscale
        xt = xsecs[xs_n]
        sig = e_samp * globes_interp(np.log10(e_samp), xt[:, 0], xt[:, col + dst]) * mass
        pre_eff = _per_bin(env, "pre_smearing_efficiencies", n_samp, 1.0)
        pre_bkg = _per_bin(env, "pre_smearing_background", n_samp, 0.0)
        post_eff = _per_bin(env, "post_smearing_efficiencies", n_reco, 1.0)
        post_bkg = _per_bin(env, "post_smearing_background", n_reco, 0.0)
        smear = smear_cache[sm_n]
        base = phi * sig * pre_eff * de_samp
        if nosc and src != dst:
            base = np.zeros_like(base)  # GLoBES: a NOSC channel changing flavour has no events
        kernel = post_eff[:, None] * smear * base[None, :]
        const = post_eff * (smear @ pre_bkg) + post_bkg
        prob_row = 18 if nosc else 9 * anti + 3 * src + dst
        channels[name] = (kernel, const, prob_row)

    sys_sigma = {}
    for name, env in cfg.environments["sys"].items():
        bad = set(env.attrs) - {"error"}
        if bad:
            raise InvalidSpecError(f"{env.where_of(sorted(bad)[0])}: sys(#{name}): unsupported @{sorted(bad)[0]}")
        s = aedl.number(env.require("error"), env.where_of("error"), "@error")
        if s <= 0:
            raise InvalidSpecError(f"{env.where_of('error')}: @error must be > 0")
        sys_sigma[name] = s

    emin, emax = float(reco[0]), float(reco[-1])
    rules, windows, entries = [], [], []  # entries: (rule index, label, coef, channel, is_signal, [sys])
    for ri, (rname, env) in enumerate(cfg.environments["rule"].items()):
        bad = set(env.attrs) - _RULE_ATTRS
        if bad:
            raise InvalidSpecError(f"{env.where_of(sorted(bad)[0])}: rule(#{rname}): unsupported @{sorted(bad)[0]}")
        func = env.get("sys_on_function", "chiMultiExp")
        if func not in _SYS_FUNCTIONS:
            raise InvalidSpecError(
                f"{env.where_of('sys_on_function')}: rule(#{rname}): @sys_on_function {func!r} is not supported "
                f"(supported: {sorted(_SYS_FUNCTIONS)})"
            )
        rules.append(rname)
        windows.append(_window(env, centres, emin, emax))
        for part, key, skey in (
            ("signal", "signal", "sys_on_multiex_errors_sig"),
            ("background", "background", "sys_on_multiex_errors_bg"),
        ):
            items = env.get(key, [])
            items = items if isinstance(items, list) else [items]
            if key == "signal" and not items:
                raise InvalidSpecError(f"{env.where}: rule(#{rname}) has no @signal")
            if not all(isinstance(x, Weighted) for x in items):
                raise InvalidSpecError(f"{env.where_of(key)}: @{key} must be coef@#channel : coef@#channel ...")
            groups: list = [[] for _ in items]
            if _SYS_FUNCTIONS[func]:
                groups = env.get(skey, [])
                if items and groups and not isinstance(groups[0], list):
                    groups = [groups]
                if len(groups) != len(items) or not all(
                    isinstance(g, list) and all(isinstance(r, Ref) for r in g) for g in groups
                ):
                    raise InvalidSpecError(
                        f"{env.where_of(skey)}: rule(#{rname}): @{skey} needs one {{#sys, ...}} group per {key} channel "
                        f"({len(items)})"
                    )
            for w, g in zip(items, groups):
                if w.ref not in channels:
                    raise InvalidSpecError(f"{env.where_of(key)}: unknown channel #{w.ref}")
                names = []
                for r in g:
                    if r.name not in sys_sigma:
                        raise InvalidSpecError(f"{env.where_of(skey)}: unknown sys #{r.name}")
                    names.append(r.name)
                entries.append((ri, f"{rname}:{part}:{w.ref}", w.coef, w.ref, part == "signal", names))
    if not rules:
        raise InvalidSpecError(f"{cfg.path}: no rule defined")
    n_win = {b - a for a, b in windows}
    if len(n_win) != 1:
        raise InvalidSpecError(f"{cfg.path}: rules have different numbers of energy-window bins {sorted(n_win)}")
    used = [s for s in cfg.environments["sys"] if any(s in e[5] for e in entries)]
    n_e = len(entries)
    kernel = np.stack([e[2] * channels[e[3]][0][slice(*windows[e[0]])] for e in entries])
    const = np.stack([e[2] * channels[e[3]][1][slice(*windows[e[0]])] for e in entries])
    select = np.zeros((n_e, 19))
    rule_matrix = np.zeros((len(rules), n_e))
    sys_matrix = np.zeros((n_e, len(used)))
    signal = np.zeros(n_e)
    for k, (ri, _lab, _c, ch, is_sig, names) in enumerate(entries):
        select[k, channels[ch][2]] = 1.0
        rule_matrix[ri, k] = 1.0
        signal[k] = float(is_sig)
        for s in names:
            sys_matrix[k, used.index(s)] += 1.0
    return {
        "rules": tuple(rules),
        "labels": tuple(e[1] for e in entries),
        "sys_names": tuple(used),
        "sys_sigma": np.array([sys_sigma[s] for s in used]),
        "window_bins": tuple(windows),
        "arrays": {
            "energy_gev": e_samp,
            "sampling_width_gev": de_samp,
            "reco_edges_gev": reco,
            "length_km": lens,
            "density_gcc": dens,
            "kernel": kernel,
            "const": const,
            "prob_select": select,
            "rule_matrix": rule_matrix,
            "sys_matrix": sys_matrix,
            "signal_mask": signal,
        },
    }


# ----------------------------------------------------------------------------------------------
# the experiment


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)


@register
@final
class GlobesBeam(AbstractExperiment):
    """A beam experiment from a GLoBES AEDL configuration (DUNE TDR): Poisson terms per rule and window bin.

    Fields (n_rules rules, n_win window bins per rule, n_entries signal/background entries, n_samp
    sampling energies, nsys systematics):
        rules: rule names, the rows of ``observed`` (static).
        labels: ``"<rule>:<signal|background>:<channel>"`` of each entry (static).
        window_bins: (lo, hi) reconstructed-bin range of each rule's energy window (static).
        observed: counts (n_rules, n_win); Asimov at build time (:func:`asimov`).
        nuisance_sigma: the systematics' @error (nsys,).
        energy_gev, sampling_width_gev: sampling-bin centres and widths [GeV] (n_samp,).
        reco_edges_gev: reconstructed-energy bin edges [GeV] (n_reco + 1,).
        path: the baseline's constant-density layers ($lengthtab, $densitytab; Y_e, Y_n from the spec).
        kernel: counts per entry, window bin and sampling energy per unit probability (n_entries, n_win, n_samp).
        const: probability-independent counts per entry and window bin (n_entries, n_win).
        prob_select: which of the 19 probabilities (9 nu, 9 nu-bar P(a -> b), 1) each entry uses (n_entries, 19).
        rule_matrix: 0/1 entry -> rule (n_rules, n_entries).
        sys_matrix: how many times each entry names each systematic (n_entries, nsys).
        signal_mask: 1 for signal entries, 0 for backgrounds (n_entries,).
    """

    response: ClassVar[str] = "globes_beam"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    rules: tuple[str, ...] = eqx.field(static=True)
    labels: tuple[str, ...] = eqx.field(static=True)
    window_bins: tuple[tuple[int, int], ...] = eqx.field(static=True)
    observed: Float[Array, "n_rules n_win"]
    nuisance_sigma: Float[Array, " nsys"]
    energy_gev: Float[Array, " n_samp"]
    sampling_width_gev: Float[Array, " n_samp"]
    reco_edges_gev: Float[Array, " n_reco+1"]
    path: Layers
    kernel: Float[Array, "n_entries n_win n_samp"]
    const: Float[Array, "n_entries n_win"]
    prob_select: Float[Array, "n_entries 19"]
    rule_matrix: Float[Array, "n_rules n_entries"]
    sys_matrix: Float[Array, "n_entries nsys"]
    signal_mask: Float[Array, " n_entries"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        string(spec, "data.glb", where)
        string(spec, "data.observed", where, set(OBSERVED))
        number(spec, "propagation.ye", where, positive=True)
        number(spec, "propagation.yn", where, nonneg=True)
        if not 0 < float(spec["propagation"]["ye"]) <= 1:
            raise InvalidSpecError(f"{where}: propagation.ye must be in (0, 1]")
        nuisance_names(spec.get("nuisances", []), where)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> GlobesBeam:
        """Compile the spec's .glb (Asimov data at ``data.observed``)."""
        folder = pathlib.Path(folder)
        glb = folder / spec["data"]["glb"]
        if not glb.is_file():
            raise InvalidSpecError(f"{spec['name']}: data.glb file not found: {glb}")
        comp = compile_config(aedl.parse(glb))
        sys_names = comp["sys_names"]
        nuis = spec.get("nuisances", [])
        names = [n["name"] for n in nuis]
        if tuple(names) != sys_names:
            raise InvalidSpecError(
                f"{spec['name']}: nuisances must list the systematics of {glb.name} in order: {list(sys_names)}; got {names}"
            )
        for n, s in zip(nuis, comp["sys_sigma"]):
            if abs(float(n["sigma"]) - s) > 1e-12 * s:
                raise InvalidSpecError(f"{spec['name']}: nuisance {n['name']} has sigma {n['sigma']}; {glb.name} says {s}")
        a = comp["arrays"]
        lo, hi = comp["window_bins"][0]
        prop = spec["propagation"]
        exp = cls(
            name=spec["name"],
            nuisance_names=sys_names,
            rules=comp["rules"],
            labels=comp["labels"],
            window_bins=comp["window_bins"],
            observed=jnp.zeros((len(comp["rules"]), hi - lo)),
            nuisance_sigma=_f64(comp["sys_sigma"]),
            path=Layers(a["length_km"], a["density_gcc"], float(prop["ye"]), float(prop["yn"])),
            **{k: _f64(v) for k, v in a.items() if k not in ("length_km", "density_gcc")},
        )
        return asimov(exp, Params())

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def physics(self, params: Params) -> Float[Array, "n_entries n_win"]:
        """Oscillated, smeared, efficiency-weighted counts per rule entry and window bin, (n_entries, n_win)."""
        return probabilities_to_rates(self, *probabilities(params, self))

    def factors(self, pulls: Float[Array, " nsys"]) -> Float[Array, " n_entries"]:
        """1 + sum of sigma_s theta_s over the systematics each entry names."""
        if self.nuisance_sigma.shape[0] == 0:
            return jnp.ones(self.sys_matrix.shape[0])
        return 1.0 + self.sys_matrix @ (self.nuisance_sigma * pulls)

    def expected(self, params: Params, pulls: Float[Array, " nsys"], physics) -> Float[Array, "n_rules n_win"]:
        """Poisson means (n_rules, n_win): every entry scaled by :meth:`factors`, summed per rule."""
        return self.rule_matrix @ (physics * self.factors(pulls)[:, None])

    def components(self, params: Params, pulls: Float[Array, " nsys"], physics) -> dict[str, Array]:
        """``{"signal", "background"}`` counts (n_rules, n_win)."""
        scaled = physics * self.factors(pulls)[:, None]
        m = self.signal_mask[:, None]
        return {"signal": self.rule_matrix @ (scaled * m), "background": self.rule_matrix @ (scaled * (1.0 - m))}


def rule_names(exp: GlobesBeam) -> tuple[str, ...]:
    """Rule names of a ``globes_beam`` experiment, in the order of the rows of ``observed``."""
    return exp.rules


def entry_labels(exp: GlobesBeam) -> tuple[str, ...]:
    """``"<rule>:<signal|background>:<channel>"`` for each row of :meth:`GlobesBeam.physics`."""
    return exp.labels


def probabilities_to_rates(exp: GlobesBeam, p_nu, p_nubar):
    """Per-entry counts (n_entries, n_window_bins) for given probability matrices P[j, a, b] = P(a -> b)
    on the sampling energies, neutrinos and antineutrinos (pulls 0)."""
    n = exp.energy_gev.shape[0]
    rows = jnp.concatenate([p_nu.reshape(n, 9).T, p_nubar.reshape(n, 9).T, jnp.ones((1, n))], axis=0)
    probs = exp.prob_select @ rows
    return jnp.einsum("eij,ej->ei", exp.kernel, probs) + exp.const


def probabilities(params: Params, exp: GlobesBeam):
    """(P_nu, P_nubar) on the sampling energies, each (n_sampling, 3, 3) with P[j, a, b] = P(a -> b)."""
    osc = resolve_osc(params.osc)
    e = exp.energy_gev
    p_nu = oscillation_probability(osc, e, exp.path, nsi=params.matter_nsi(), antineutrino=False)
    p_nubar = oscillation_probability(osc, e, exp.path, nsi=params.matter_nsi(), antineutrino=True)
    return p_nu, p_nubar


def asimov(exp: GlobesBeam, params: Params) -> GlobesBeam:
    """``exp`` with ``observed`` replaced by the prediction at ``params`` (its pulls included)."""
    c = exp.components(params, exp.pulls(params), exp.physics(params))
    return eqx.tree_at(lambda e: e.observed, exp, c["signal"] + c["background"])
