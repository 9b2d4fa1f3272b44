"""Build ``tables.npz`` of the shipped COHERENT experiments from the official release files in ``raw/``.

Run ``python -m nsijax.experiments.parsers.coherent_release`` after editing a spec or a raw file; the
tests check that the shipped tables equal a fresh build. Only NumPy is used; nothing here is needed at run time.

Each builder returns a dict of float64 arrays; their meaning is documented in the experiment's README.md.
"""

from __future__ import annotations

import pathlib

import numpy as np

from ...physics.sources.pion_dar import binned_time_pdf
from .spec import DATA_DIR, read_spec


def _hist2d(events: np.ndarray, x_edges, y_edges) -> np.ndarray:
    h, _, _ = np.histogram2d(events[:, 0], events[:, 1], bins=[np.asarray(x_edges), np.asarray(y_edges)])
    return h


def _csv_grid(path: pathlib.Path, n_pe: int, n_t: int) -> np.ndarray:
    """A COHERENT 2017 2D histogram file (PE centre, t centre, counts) as an array (n_pe, n_t)."""
    a = np.genfromtxt(path, delimiter=",", comments="#", invalid_raise=True)
    a = a[~np.isnan(a).any(axis=1)]  # drops the CSV header line of the beam-off files
    if a.shape != (n_pe * n_t, 3):
        raise ValueError(f"{path}: expected {n_pe * n_t} rows of 3 columns, got {a.shape}")
    return a[:, 2].reshape(n_pe, n_t)


def build_csi_2017(folder: pathlib.Path, spec: dict) -> dict[str, np.ndarray]:
    raw = folder / "raw"
    pe_edges = np.asarray(spec["binning"]["pe_edges"], float)
    t_edges = np.asarray(spec["binning"]["time_edges_us"], float)
    # release: 25 PE bins of 2 PE (0-50) x 24 time bins of 0.5 us (0-12 us)
    rel_pe = np.arange(0, 51, 2.0)
    rel_t = np.arange(0, 12.01, 0.5)
    sel_pe = (rel_pe[:-1] >= pe_edges[0] - 1e-9) & (rel_pe[1:] <= pe_edges[-1] + 1e-9)
    sel_t = (rel_t[:-1] >= t_edges[0] - 1e-9) & (rel_t[1:] <= t_edges[-1] + 1e-9)
    if not (np.allclose(rel_pe[np.r_[sel_pe, False]], pe_edges[:-1]) and np.allclose(rel_t[np.r_[sel_t, False]], t_edges[:-1])):
        raise ValueError("coherent_csi_2017: analysis edges must be a contiguous subset of the release's bins")
    grid = {}
    for key, fname in (
        ("observed", "data_coincidence_beamOn.txt"),
        ("ac_counts", "data_anticoincidence_beamOn.txt"),
        ("beam_off_c", "data_coincidence_beamOff.txt"),
        ("beam_off_ac", "data_anticoincidence_beamOff.txt"),
    ):
        grid[key] = _csv_grid(raw / fname, 25, 24)[np.ix_(sel_pe, sel_t)]
    time_pdf = []
    for fname in (
        "arrivalTimePDF_promptNeutrinos.txt",
        "arrivalTimePDF_delayedNeutrinos.txt",
        "arrivalTimePDF_promptNeutrons.txt",
    ):
        a = np.loadtxt(raw / fname, delimiter=",")
        time_pdf.append(a[:, 1][sel_t])
    prompt_pe = np.loadtxt(raw / "promptPDF.txt", comments="#", delimiter=",")
    exposure = float(spec["source"]["beam_exposure_gwhr"])
    return {
        **grid,
        "time_pdf": np.stack(time_pdf),  # (3, nt): prompt nu, delayed nu, prompt neutrons
        "brn_pe_1pe": prompt_pe[:, 1] * exposure,  # counts per 1-PE bin (centres 0.5...), no efficiency
        "brn_pe_centres": prompt_pe[:, 0],
    }


def _load_events(path: pathlib.Path) -> np.ndarray:
    return np.loadtxt(path, comments="#")


def _time_eff_2021(spec: dict):
    t0, lam = spec["detector"]["time_efficiency"]

    def eff(t_us):
        t_us = np.asarray(t_us, float)
        return np.where(t_us < t0, 1.0, np.exp(-lam * (t_us - t0)))

    return eff


def _rebin_density(centres: np.ndarray, weights: np.ndarray, edges: np.ndarray, eff=None) -> np.ndarray:
    """Rebin a histogram given at uniform bin centres into ``edges`` (linear in the overlap)."""
    width = centres[1] - centres[0]
    lo = centres - width / 2
    fine = np.linspace(lo[0], lo[-1] + width, 20 * centres.size + 1)
    mid = 0.5 * (fine[1:] + fine[:-1])
    idx = np.clip(((mid - lo[0]) // width).astype(int), 0, centres.size - 1)
    w = weights[idx] / 20.0
    if eff is not None:
        w = w * eff(mid)
    out, _ = np.histogram(mid, bins=edges, weights=w)
    return out


def build_csi_2021(folder: pathlib.Path, spec: dict) -> dict[str, np.ndarray]:
    raw = folder / "raw"
    pe_edges = np.asarray(spec["binning"]["pe_edges"], float)
    t_edges = np.asarray(spec["binning"]["time_edges_us"], float)
    on = _load_events(raw / "dataBeamOnC.txt")
    ac = _load_events(raw / "dataBeamOnAC.txt")
    eff_t = _time_eff_2021(spec)
    src = spec["source"]
    time_pdf = binned_time_pdf(t_edges, src["pulse_mean_ns"], src["pulse_width_ns"], eff_t)
    templates = {}
    for name in ("brn", "nin"):
        pe = np.loadtxt(raw / f"{name}PE.txt")
        tr = np.loadtxt(raw / f"{name}Trec.txt")
        # PE PDFs are normalised to 1 in 0-60 PE; the t_rec weights sum to the expected counts in the
        # full 0-250 PE range, so counts in the region = sum(t_rec) x PE fraction.
        pe_frac = np.histogram(pe[:, 0], bins=pe_edges, weights=pe[:, 1])[0] / pe[:, 1].sum()
        t_counts = _rebin_density(tr[:, 0], tr[:, 1], t_edges, eff_t)
        templates[name] = pe_frac[:, None] * t_counts[None, :]
    coeff = {}
    for key, fname, n in (("efficiency_sets", "effCoefficients.txt", 3), ("quenching_sets", "scintRespCoefficients.txt", 5)):
        a = np.loadtxt(raw / fname, comments="#")
        if a.shape != (n, 4):
            raise ValueError(f"{fname}: expected {n} coefficient sets of 4, got {a.shape}")
        coeff[key] = a
    return {
        "observed": _hist2d(on, pe_edges, t_edges),
        "ac_counts": _hist2d(ac, pe_edges, t_edges),
        "time_pdf": time_pdf,  # (2, nt): prompt, delayed, time efficiency included
        "brn": templates["brn"],
        "nin": templates["nin"],
        **coeff,
    }


def _read3d(path: pathlib.Path) -> np.ndarray:
    a = np.loadtxt(path)
    if a.shape != (960, 4):
        raise ValueError(f"{path}: expected 960 rows of 4 columns, got {a.shape}")
    return a[:, 3].reshape(12, 8, 10)


def build_lar_2020(folder: pathlib.Path, spec: dict) -> dict[str, np.ndarray]:
    raw = folder / "raw"
    t_edges = np.asarray(spec["binning"]["time_edges_us"], float)
    src = spec["source"]
    cevns = _read3d(raw / "cevnspdf.txt")
    e_marg = cevns.sum(axis=2)
    norm = e_marg.sum(axis=1, keepdims=True)
    f90 = np.where(norm > 0, e_marg / np.where(norm > 0, norm, 1.0), 1.0 / 8.0)
    eff = np.loadtxt(raw / "CENNS10AnlAEfficiency.txt")
    syst = raw / "SystErrors"

    def ratio(alt: np.ndarray, nom: np.ndarray) -> np.ndarray:
        return np.where(nom > 0, alt / np.where(nom > 0, nom, 1.0), 1.0)

    brn = _read3d(raw / "brnpdf.txt")
    curve = np.loadtxt(raw / "validation" / "official_fig8_analysisA_minus2dlnL_vs_Ncevns.csv", delimiter=",", skiprows=1)
    return {
        "observed": _read3d(raw / "datanobkgsub.txt"),
        "ssb": _read3d(raw / "bkgpdf.txt"),
        "brn": brn,
        "brn_delayed": _read3d(raw / "delbrnpdf.txt"),
        "official_cevns": cevns,
        "f90_shape": f90,  # (nE, nF90) CEvNS F90 distribution per energy bin, from cevnspdf.txt
        "time_pdf": binned_time_pdf(t_edges, src["pulse_mean_ns"], src["pulse_width_ns"]),
        "efficiency_kevee": eff[:, 0],
        "efficiency": eff[:, 2],
        # relative shape systematics (alternative / nominal), rows: +1 sigma, -1 sigma
        "cevns_f90_ratio": np.stack(
            [ratio(_read3d(syst / "cevnspdf+1sigF90.txt"), cevns), ratio(_read3d(syst / "cevnspdf-1sigF90.txt"), cevns)]
        ),
        "cevns_timing_ratio": ratio(_read3d(syst / "cevnspdfCEvNSTimingMeanSyst.txt"), cevns)[None],
        "brn_energy_ratio": np.stack(
            [ratio(_read3d(syst / "brnpdf+1sigEnergy.txt"), brn), ratio(_read3d(syst / "brnpdf-1sigEnergy.txt"), brn)]
        ),
        "brn_timing_mean_ratio": np.stack(
            [
                ratio(_read3d(syst / "brnpdf+1sigBRNTimingMean.txt"), brn),
                ratio(_read3d(syst / "brnpdf-1sigBRNTimingMean.txt"), brn),
            ]
        ),
        "brn_timing_width_ratio": ratio(_read3d(syst / "brnpdfBRNTimingWidthSyst.txt"), brn)[None],
        "official_curve": curve,  # (n, 2): N_CEvNS, -2 Delta lnL (Fig. 8, digitised)
    }


BUILDERS = {
    "coherent_csi_2017": build_csi_2017,
    "coherent_csi_2021": build_csi_2021,
    "coherent_lar_2020": build_lar_2020,
}


def build(name: str, data_dir: pathlib.Path = DATA_DIR) -> dict[str, np.ndarray]:
    """Tables of experiment ``name`` computed from its raw files (not written)."""
    folder = data_dir / name
    spec = read_spec(folder / "spec.toml")
    return {k: np.asarray(v, dtype=np.float64) for k, v in BUILDERS[name](folder, spec).items()}


def write(name: str, data_dir: pathlib.Path = DATA_DIR) -> pathlib.Path:
    """Build and write ``<data_dir>/<name>/tables.npz``; returns its path."""
    tables = build(name, data_dir)
    path = data_dir / name / "tables.npz"
    np.savez_compressed(path, **tables)
    return path


def main() -> None:  # pragma: no cover - developer tool
    for name in BUILDERS:
        print("wrote", write(name))


if __name__ == "__main__":  # pragma: no cover
    main()
