"""Experiments: one class per response model behind one interface (:mod:`.base`), built from a spec
(``spec.toml``) and its data files by the loader (:mod:`.catalogue`).

Families: :mod:`.scattering` (pi-DAR CEvNS: COHERENT CsI and LAr; reactor CEvNS: Dresden-II; Gaussian
measurements: CHARM, NuTeV)
and :mod:`.oscillation` (solar P_ee: Borexino; reactor spectrum: KamLAND; reactor near/far: Daya Bay; SNO D2O; solar
rates: Borexino Phases I/II, gallium, Homestake and the solar model's fluxes; GLoBES beams: DUNE)
and :mod:`.atmospheric` (IceCube DeepCore, Super-Kamiokande).
Importing this package registers every class (:data:`.base.RESPONSES`).

>>> from nsijax import experiments
>>> experiments.available()
['borexino_2018', 'charm', 'coherent_csi_2017', 'coherent_csi_2021', 'coherent_lar_2020',
 'deepcore_2019_sample_b', 'dresden_ii_2022', 'dune_tdr', 'kamland_2011', 'nutev', 'sno_d2o_2002',
 'super_k_atm_2023']
>>> csi = experiments.load("coherent_csi_2021")
>>> solar = experiments.load_set("solar")      # named sets: experiments.SETS
"""

from . import atmospheric, base, catalogue, oscillation, scattering, systematics
from .base import RESPONSES, AbstractExperiment, Terms, expected_counts, register, total_counts
from .catalogue import SETS, available, experiment_class, from_files, from_spec, load, load_set, spec, validate

__all__ = [
    "RESPONSES",
    "SETS",
    "AbstractExperiment",
    "atmospheric",
    "Terms",
    "available",
    "base",
    "catalogue",
    "expected_counts",
    "experiment_class",
    "from_files",
    "from_spec",
    "load",
    "load_set",
    "oscillation",
    "register",
    "scattering",
    "spec",
    "systematics",
    "total_counts",
    "validate",
]
