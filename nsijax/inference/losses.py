"""Losses over flat named parameters: the chi^2 of experiments as a function of a dict ``name -> scalar``
(names of :mod:`nsijax.parameters.names`, mapped to :class:`~nsijax.Params` by
:func:`~nsijax.parameters.names.build_params`).

A loss is an :class:`AbstractLoss`, an :class:`equinox.Module` whose experiments (and other data) are
pytree fields. Fits, scans and exclusion curves take the loss as an argument of their jitted functions
(:func:`equinox.filter_jit`), so its arrays are traced: a new loss of the same structure (other data of
equal shapes, e.g. Asimov or toy data, other warm-start pulls) reuses the compiled programs, and no cache
of compiled functions is kept anywhere. Settings that change the program (names, charges, step counts)
are static fields.
"""

from __future__ import annotations

import abc

import equinox as eqx
from jaxtyping import Array, Float

from ..experiments.base import AbstractExperiment
from ..likelihood import as_experiments, chi2
from ..parameters.names import build_params
from ..parameters.params import Params


class AbstractLoss(eqx.Module):
    """A chi^2 that holds its data as pytree fields (see the module docstring).

    Hashed by identity (not by its arrays, which cannot be hashed), so ``jax.jit(loss)`` also works: it
    closes over the data as constants and compiles per loss object. Fits and scans pass the loss as an
    argument instead, and compile per structure."""

    __hash__ = object.__hash__

    @abc.abstractmethod
    def __call__(self, *args) -> Float[Array, ""]:
        """The chi^2."""


class ProfiledChi2(AbstractLoss):
    """``loss(theta)``: chi^2 of ``experiments`` at the named parameters ``theta`` with every nuisance
    profiled (Gauss-Newton from the pulls in ``base``; ``base`` also supplies the oscillation
    parameters and ``cevns_scale`` that ``theta`` does not name, see
    :func:`~nsijax.parameters.names.build_params`)."""

    experiments: tuple[AbstractExperiment, ...]
    base: Params | None
    zprime_charges: str | None = eqx.field(static=True)
    profile_steps: int = eqx.field(static=True)

    def __call__(self, theta: dict) -> Float[Array, ""]:
        p = build_params(theta, zprime_charges=self.zprime_charges, base=self.base)
        return chi2(p, self.experiments, nuisances="profile", profile_steps=self.profile_steps)


class ZPrimeChi2(AbstractLoss):
    """``f(log10_mass_mev, log10_g)``: a :class:`ProfiledChi2` with a Z' (mass in MeV), the signature of
    :func:`nsijax.inference.exclusion_limit`."""

    loss: ProfiledChi2

    def __call__(self, log10_mass_mev, log10_g) -> Float[Array, ""]:
        return self.loss({"zprime_log10_mass_mev": log10_mass_mev, "zprime_log10_g": log10_g})


def profiled_chi2(
    experiments, *, zprime_charges: str | None = None, base: Params | None = None, profile_steps: int = 12
) -> ProfiledChi2:
    """``loss(theta)``: chi^2 of ``experiments`` (one or a list) at the named parameters ``theta`` with
    every nuisance profiled (Gauss-Newton started from the pulls in ``base``) — the loss of scans, fits
    and the CLI. ``zprime_charges``: charge preset for ``zprime_*`` names."""
    return ProfiledChi2(as_experiments(experiments), base, zprime_charges, int(profile_steps))


def zprime_chi2(experiments, charges: str, *, base: Params | None = None, profile_steps: int = 4) -> ZPrimeChi2:
    """``f(log10_mass_mev, log10_g)``: profiled chi^2 with a Z' of preset ``charges``, the signature of
    :func:`nsijax.inference.exclusion_limit`. Pass ``base`` with the SM best-fit pulls as warm start: a few
    Gauss-Newton steps then suffice (4 steps reach 1e-7 in chi^2 on CsI 2021 + LAr 2020)."""
    return ZPrimeChi2(profiled_chi2(experiments, zprime_charges=charges, base=base, profile_steps=profile_steps))
