"""Experiments as data: shipped specs + tables loaded into :class:`Experiment` pytrees.

>>> from nsijax import experiments
>>> experiments.available()
['borexino_2018', 'charm', 'coherent_csi_2017', 'coherent_csi_2021', 'coherent_lar_2020',
 'dune_tdr', 'kamland_2011', 'nutev', 'sno_d2o_2002']
>>> csi = experiments.load("coherent_csi_2021")
"""

from ..rates import expected_counts, total_counts
from .experiment import Experiment, available, from_files, from_spec, load, spec

__all__ = ["Experiment", "expected_counts", "total_counts", "available", "from_files", "from_spec", "load", "spec"]
