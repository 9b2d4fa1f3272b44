"""The experiment interface: one abstract class every experiment implements, and its registry.

An experiment is an ``equinox.Module`` (abstract/final pattern, as diffrax's ``AbstractSolver``): its data
(observed counts, templates, quadrature nodes, detector coefficients) are typed array fields, i.e. pytree
leaves, and its names and sizes are static fields, so two experiments of one class with equal shapes share
one compiled likelihood and new data values never recompile. The likelihood
(:mod:`nsijax.likelihood`) sees only this interface, in two phases:

    phys  = exp.physics(params)                 once per parameter point (oscillations, cross sections)
    mu    = exp.expected(params, pulls, phys)   cheap; iterated by the nuisance profiler
    terms = exp.terms(params, pulls, phys)      (log L, chi^2, pull chi^2); Poisson / Baker-Cousins by
                                                default, Gaussian-measurement experiments override it

plus ``components`` (the prediction split by source, for plots and :func:`expected_counts`) and
``resample`` (pseudo-data with the statistics its terms assume, for toys). ``from_spec(spec, folder)``
builds an instance from a validated spec (``spec.toml``) and the files beside it. :func:`register` adds
a class to :data:`RESPONSES` under the spec ``response`` it implements; nothing else needs to know it.

Nuisances are standard-normal pulls theta (order ``nuisance_names``), stored in
:attr:`nsijax.Params.nuisances` under ``"<experiment>.<nuisance>"``.
"""

from __future__ import annotations

import abc
import pathlib
from typing import Any, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from ..errors import InvalidInputError, InvalidParamsError
from ..parameters.params import Params
from ..physics.scattering.targets import check_elements
from ..statistics import terms as stats


class Terms(NamedTuple):
    """One experiment's contribution at given pulls: Poisson (or Gaussian) log-likelihood without the
    pull priors, the matching chi^2 = -2 (log L - log L_saturated), and the pulls' chi^2 (sum theta^2)."""

    log_likelihood: Float[Array, ""]
    chi2: Float[Array, ""]
    pull_chi2: Float[Array, ""]


class AbstractExperiment(eqx.Module):
    """One data set and its prediction model (see the module docstring for the two-phase interface).

    Fields every experiment has:
        name: the experiment's name (static), prefix of its nuisance keys.
        nuisance_names: its nuisances, in the order of the pulls theta (static).
        observed: observed counts per bin (Gaussian experiments: measured values).
        nuisance_sigma: the 1-sigma size of each nuisance's effect (model-specific units).
    Class constants: ``response`` (the spec's response model) and ``kind`` (its family: ``"coherent"``,
    ``"gaussian"``, ``"oscillation"`` or ``"atmospheric"``; descriptive only, the code never branches on it).
    """

    name: eqx.AbstractVar[str]
    nuisance_names: eqx.AbstractVar[tuple[str, ...]]
    observed: eqx.AbstractVar[Float[Array, "..."]]
    nuisance_sigma: eqx.AbstractVar[Float[Array, " nnuis"]]
    response: eqx.AbstractClassVar[str]
    kind: eqx.AbstractClassVar[str]

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        """Check the response-specific part of a spec (raises :class:`~nsijax.errors.InvalidSpecError`
        naming the field). The common part (schema version, name, kind, citation) is checked before."""

    @classmethod
    @abc.abstractmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> AbstractExperiment:
        """Build the experiment from a validated spec and the folder holding its data files."""

    # --- prediction -------------------------------------------------------------------------------

    @abc.abstractmethod
    def physics(self, params: Params) -> PyTree:
        """The nuisance-independent part of the prediction, computed once per parameter point."""

    @abc.abstractmethod
    def expected(self, params: Params, pulls: Float[Array, " nnuis"], physics: PyTree) -> Float[Array, "..."]:
        """The prediction compared with ``observed`` (same shape) at pulls ``pulls``: Poisson means per
        bin, or the predicted measured values. Cheap: the profiler iterates it at fixed ``physics``."""

    @abc.abstractmethod
    def components(self, params: Params, pulls: Float[Array, " nnuis"], physics: PyTree) -> dict[str, Array]:
        """The prediction by named component (signal channels, backgrounds), each shaped like ``observed``."""

    # --- statistics -------------------------------------------------------------------------------

    def terms(self, params: Params, pulls: Float[Array, " nnuis"], physics: PyTree) -> Terms:
        """Poisson log L and Baker-Cousins chi^2 of ``observed`` given :meth:`expected`, plus the pulls' chi^2."""
        mu = self.expected(params, pulls, physics)
        return Terms(
            stats.poisson_log_likelihood(self.observed, mu),
            stats.baker_cousins_chi2(self.observed, mu),
            stats.pull_penalty(pulls),
        )

    def chi2_derivatives(self, prediction: Float[Array, "..."]) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
        """Per bin, d chi^2 / d prediction and the Fisher curvature d^2 chi^2 / d prediction^2 at the data's
        expectation (Gauss-Newton weights of the nuisance profiler). Baker-Cousins: 2 (1 - n / mu) and
        2 n / mu^2 (mu floored at :data:`nsijax.statistics.terms.MU_FLOOR`, as the chi^2 itself)."""
        n = self.observed
        mu_s = jnp.maximum(prediction, stats.MU_FLOOR)
        return 2.0 * (1.0 - n / mu_s) * (prediction > stats.MU_FLOOR), 2.0 * n / mu_s**2

    def resample(self, key: jax.Array, expectation: Float[Array, "..."]) -> Float[Array, "..."]:
        """One pseudo-data set around ``expectation`` with the statistics :meth:`terms` assumes (Poisson)."""
        lam = jnp.asarray(expectation, dtype=float)
        return jax.random.poisson(key, lam, shape=lam.shape).astype(float)

    def check_params(self, params: Params) -> None:
        """Eager checks of ``params`` beyond the nuisance keys (e.g. the type of ``params.osc``)."""

    # --- nuisances --------------------------------------------------------------------------------

    def pulls(self, params: Params) -> Float[Array, " nnuis"]:
        """This experiment's pulls in ``params`` (missing = 0), in the order of ``nuisance_names``."""
        if not self.nuisance_names:
            return jnp.zeros((0,))
        return jnp.stack([jnp.asarray(params.nuisance(k), dtype=float) for k in self.nuisance_keys])

    def nuisance_key(self, nuisance: str) -> str:
        """Key of a nuisance of this experiment in :attr:`nsijax.Params.nuisances`."""
        if nuisance not in self.nuisance_names:
            raise InvalidInputError(
                f"{self.name} has no nuisance {nuisance!r}; its nuisances are {list(self.nuisance_names)}"
            )
        return f"{self.name}.{nuisance}"

    @property
    def nuisance_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{n}" for n in self.nuisance_names)

    @property
    def bin_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.observed.shape)

    @property
    def n_bins(self) -> int:
        return int(np.prod(self.bin_shape))


#: The experiment classes by the spec ``response`` they implement (filled by :func:`register`).
RESPONSES: dict[str, type[AbstractExperiment]] = {}

_E = TypeVar("_E", bound=type[AbstractExperiment])


def register(cls: _E) -> _E:
    """Class decorator: make ``cls`` the implementation of specs with ``response = cls.response``."""
    if cls.response in RESPONSES and RESPONSES[cls.response] is not cls:
        raise ValueError(f"response {cls.response!r} is already implemented by {RESPONSES[cls.response].__name__}")
    RESPONSES[cls.response] = cls
    return cls


def check_params(params: Params, experiment: AbstractExperiment) -> None:
    """Eager checks at the API boundary: types, nuisance keys of ``experiment``, its own checks."""
    if not isinstance(experiment, AbstractExperiment):
        raise InvalidInputError(f"expected an nsijax experiment; got {type(experiment).__name__}")
    if not isinstance(params, Params):
        raise InvalidInputError(f"params must be an nsijax.Params; got {type(params).__name__}")
    prefix = experiment.name + "."
    for key in params.nuisances:
        if key.startswith(prefix) and key[len(prefix):] not in experiment.nuisance_names:
            raise InvalidParamsError(f"unknown nuisance {key!r}; {experiment.name} has {list(experiment.nuisance_keys)}")
        if jnp.ndim(params.nuisances[key]) != 0:
            raise InvalidParamsError(f"nuisance {key!r} must be a scalar pull")
    check_elements(params.neutron_radius, InvalidParamsError)
    experiment.check_params(params)


def expected_counts(params: Params, experiment: AbstractExperiment) -> dict[str, Float[Array, "..."]]:
    """The prediction of ``experiment`` at ``params`` (pulls from ``params``, missing = 0) by component.

    Each array is shaped like ``experiment.observed``. π-DAR CEvNS: ``"cevns_nu_mu"``, ``"cevns_nu_e"``,
    ``"cevns_nu_mu_bar"``, their sum ``"cevns"`` and each background (``"ssb"``, ``"brn"``, ...);
    Gaussian measurements: ``{"prediction": ...}``; oscillation experiments: their channels and
    backgrounds (see each class).
    """
    check_params(params, experiment)
    return _components(params, experiment)


def total_counts(params: Params, experiment: AbstractExperiment) -> Float[Array, "..."]:
    """The total prediction per bin (what the likelihood compares with ``observed``)."""
    check_params(params, experiment)
    return _total(params, experiment)


@eqx.filter_jit
def _components(params: Params, exp: AbstractExperiment) -> dict[str, Array]:
    return exp.components(params, exp.pulls(params), exp.physics(params))


@eqx.filter_jit
def _total(params: Params, exp: AbstractExperiment) -> Array:
    return exp.expected(params, exp.pulls(params), exp.physics(params))
