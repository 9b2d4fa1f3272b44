"""Build ``bins.npz`` of ``super_k_atm_2023`` from the Super-Kamiokande release's ROOT file in ``raw/``.

The release (Zenodo 10.5281/zenodo.8401262, arXiv:2311.05105) holds 22 ROOT trees of 930 entries, one per
analysis bin: ``BinInfoTree`` (sample name, log10 p edges, cos zenith edges), ``DataTree`` (observed counts)
and ``MC<channel><config>Tree`` for channel in Total, Nue, NueBar, Numu, NumuBar, Nutau, NC and config in
NO, IO, NoOsc (expected counts and the mean, RMS and 2.3/15.9/50/84.1/97.7 % quantiles of the true energy
[GeV] and true cos zenith of the bin's MC events). Run ``python -m nsijax.experiments.parsers.super_k_release``
after changing a raw file; the tests check that the shipped ``bins.npz`` equals a fresh build. Needs
``uproot`` (a test dependency); nothing here is needed at run time.

``bins.npz`` arrays: ``sample_name`` (930,) str; ``logp_lo``, ``logp_hi``, ``cosz_lo``, ``cosz_hi`` (930,)
as released (the three rows with ``cosz_hi < cosz_lo`` are patched by the experiment, not here);
``data`` (930,); ``mc_<config>_<channel>`` (930, 15) with the columns of :data:`MC_COLUMNS`.
"""

from __future__ import annotations

import pathlib

import numpy as np

from .spec import DATA_DIR

NAME = "super_k_atm_2023"
ROOT_FILE = "raw/sk_2023_data_mc_bins.root"
CHANNELS = ("Total", "Nue", "NueBar", "Numu", "NumuBar", "Nutau", "NC")
CONFIGS = ("NO", "IO", "NoOsc")
#: Columns of every MC tree, in the release's order.
MC_COLUMNS = (
    "Counts", "EnergyAvg", "EnergyRMS", "EnergyQuantile2.3Percent", "EnergyQuantile15.9Percent",
    "EnergyQuantile50.0Percent", "EnergyQuantile84.1Percent", "EnergyQuantile97.7Percent", "CosZAvg", "CosZRMS",
    "CosZQuantile2.3Percent", "CosZQuantile15.9Percent", "CosZQuantile50.0Percent", "CosZQuantile84.1Percent",
    "CosZQuantile97.7Percent",
)
N_BINS = 930


def build(folder: pathlib.Path | None = None) -> dict[str, np.ndarray]:
    """The arrays of ``bins.npz`` read from the release's ROOT file in ``folder`` (default: the shipped one)."""
    import uproot  # test/developer dependency only

    folder = pathlib.Path(folder) if folder is not None else DATA_DIR / NAME
    with uproot.open(folder / ROOT_FILE) as f:
        info = f["BinInfoTree"].arrays(library="np")
        out = {"sample_name": np.array([str(s) for s in info["SampleName"]])}
        for key, col in (("logp_lo", "LogP_lo"), ("logp_hi", "LogP_hi"), ("cosz_lo", "CosZ_lo"), ("cosz_hi", "CosZ_hi")):
            out[key] = np.asarray(info[col], dtype=float)
        out["data"] = np.asarray(f["DataTree"]["Counts"].array(library="np"), dtype=float)
        for config in CONFIGS:
            for channel in CHANNELS:
                tree = f[f"MC{channel}{config}Tree"]
                missing = [c for c in MC_COLUMNS if c not in tree.keys()]
                if missing:
                    raise ValueError(f"MC{channel}{config}Tree lacks columns {missing}")
                cols = tree.arrays(list(MC_COLUMNS), library="np")
                out[f"mc_{config}_{channel}"] = np.stack([np.asarray(cols[c], dtype=float) for c in MC_COLUMNS], axis=-1)
    bad = [k for k, v in out.items() if v.shape[0] != N_BINS]
    if bad:
        raise ValueError(f"{folder / ROOT_FILE}: expected {N_BINS} entries in every tree; not so for {bad}")
    return out


def main() -> None:  # pragma: no cover - developer tool
    arrays = build()
    path = DATA_DIR / NAME / "bins.npz"
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({len(arrays)} arrays)")


if __name__ == "__main__":  # pragma: no cover
    main()
