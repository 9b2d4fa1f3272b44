"""Expected binned event counts of an experiment: ``expected_counts(params, experiment)``.

CEvNS at a pion-decay-at-rest source (PHYSICS.md): for each of the three neutrino components
(prompt nu_mu, delayed nu_e, delayed anti-nu_mu) the recoil spectrum

    dN/dT = N_targets r N_POT / (4 pi L^2) x int dE phi(E) dsigma/dT(E, T)

is integrated by Gauss-Legendre quadrature above the kinematic threshold of every isotope (nodes built
once at load time, :mod:`nsijax.experiments.experiment`), with the cross sections of
:func:`nsijax.physics.scattering.cevns.dsigma_dT` (NSI, Z', magnetic moment and charge radius of ``params``). The
detector response (quenching, light yield, smearing, efficiencies, timing, binning) and the
backgrounds are applied by :mod:`nsijax.experiments.response`.

Oscillations are neglected (L ~ 20-30 m: Delta m^2 L / E < 1e-4 for the standard splittings).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from . import constants as c
from .errors import InvalidInputError
from .experiments import response as _response
from .experiments.experiment import Experiment
from .experiments.sources import COMPONENTS
from .parameters.params import Params
from .physics.scattering import cevns
from .physics.scattering.targets import get_target

#: Names of the CEvNS components returned by :func:`expected_counts`, in order.
CEVNS_COMPONENTS = tuple(f"cevns_{k}" for k in COMPONENTS)


def recoil_rates(params: Params, exp: Experiment) -> Float[Array, "3 nT"]:
    """Expected CEvNS events at each recoil quadrature node (quadrature weight included).

    Rows: prompt nu_mu, delayed nu_e, delayed anti-nu_mu (:data:`nsijax.experiments.sources.COMPONENTS`).
    Summing a row gives the number of recoils in [recoil_kev] before any detector effect.
    """
    T = exp.recoil_mev
    kw = dict(
        nsi=params.nsi,
        zprime=params.zprime,
        mu_nu=params.mu_nu,
        charge_radius=params.charge_radius,
        form_factor=exp.form_factor,
        couplings=exp.couplings,
    )
    out = jnp.zeros((3, T.shape[0]))
    for i, iso in enumerate(get_target(exp.target).isotopes()):
        prompt = cevns.dsigma_dT(c.E_NU_PROMPT, T, iso, flavor=1, **kw)
        E = exp.enu_mev[i]
        nue = cevns.dsigma_dT(E, T[:, None], iso, flavor=0, **kw)
        numubar = cevns.dsigma_dT(E, T[:, None], iso, flavor=1, antineutrino=True, **kw)
        w = exp.enu_weights[:, i]
        rows = jnp.stack([prompt, jnp.sum(nue * w[0], -1), jnp.sum(numubar * w[1], -1)])
        out = out + rows
    return out * exp.exposure * exp.recoil_weights


def expected_counts(params: Params, experiment: Experiment) -> dict[str, Float[Array, "..."]]:
    """Expected binned counts per component for ``experiment`` at ``params``.

    Returns a dict: ``"cevns_nu_mu"``, ``"cevns_nu_e"``, ``"cevns_nu_mu_bar"`` (each CEvNS
    component), ``"cevns"`` (their sum) and one entry per background of the experiment (e.g.
    ``"ssb"``, ``"brn"``, ``"nin"``, ``"brn_delayed"``); each array has ``experiment.bin_shape``.
    Gaussian experiments (CHARM, NuTeV) return ``{"prediction": predicted observables}``.
    """
    if not isinstance(experiment, Experiment):
        raise InvalidInputError(f"expected an nsijax Experiment; got {type(experiment).__name__}")
    if not isinstance(params, Params):
        raise InvalidInputError(f"params must be an nsijax.Params; got {type(params).__name__}")
    return _expected_counts(params, experiment)


@eqx.filter_jit
def _expected_counts(params: Params, exp: Experiment) -> dict[str, Array]:
    if exp.kind == "gaussian":
        return {"prediction": _response.gaussian_prediction(params, exp)}
    if exp.kind == "oscillation":
        from .experiments import oscillation_data as _osc

        return _osc.components(params, exp)
    theta = jnp.stack([params.nuisance(k) for k in exp.nuisance_keys])
    return _response.apply(exp, theta, recoil_rates(params, exp), params.cevns_scale)


def total_counts(params: Params, experiment: Experiment) -> Float[Array, "..."]:
    """Total expected counts per bin (CEvNS + backgrounds)."""
    comp = expected_counts(params, experiment)
    return _response.total(comp)
