"""Measured neutrino-quark couplings as Gaussian terms: CHARM R_e and NuTeV g_L^2, g_R^2 (``kind = "gaussian"``).

Each ``[[measurements]]`` entry of the spec (observable, value, sigma, q2_gev2) is one Gaussian term
((prediction - value) / sigma)^2; the prediction (:meth:`GaussianMeasurements.expected`) follows
Davidson et al., JHEP 03 (2003) 011 with the quark NSI of ``params.nsi``, a Z' at the measurement's
momentum transfer and the SM couplings moved by ``params.sin2_theta_w`` at their tree-level slopes. No nuisances: the quoted errors include the systematics.
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ... import constants as c
from ...errors import InvalidSpecError
from ...parameters.params import Params
from ...statistics import terms as stats
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import field, nuisance_names, number, string

#: Known observables: flavour index a of the neutrino beam (0 = e, 1 = mu) and the weights of the
#: left-handed, right-handed and off-diagonal terms of the prediction (see ``GaussianMeasurements.expected``).
OBSERVABLES: dict[str, tuple[int, float, float, float]] = {
    "charm_Re": (0, 1.0, 1.0, 0.5),
    "nutev_gL2": (1, 1.0, 0.0, 0.25),
    "nutev_gR2": (1, 0.0, 1.0, 0.25),
}
#: Components (of :data:`nsijax.parameters.nsi.COMPONENTS`: re, im of e-mu, e-tau / e-mu, mu-tau) of the
#: off-diagonal NSI touching flavour e (0) or mu (1).
_OFF = {0: (3, 4, 5, 6), 1: (3, 4, 7, 8)}
_SM_COUPLINGS = ("gL_u", "gL_d", "gR_u", "gR_d")


@register
@final
class GaussianMeasurements(AbstractExperiment):
    """Measured effective couplings with Gaussian errors (CHARM, NuTeV).

    Fields:
        observables: the observable of each measurement (static), keys of :data:`OBSERVABLES`.
        observed: measured values (n,); sigma: their 1-sigma errors (n,).
        q2_mev2: momentum transfer of each measurement (n,), MeV^2 (spec ``q2_gev2``).
        sm_couplings: (4,) SM g_L^u, g_L^d, g_R^u, g_R^d (spec ``[sm_couplings]``).
        nuisance_sigma: empty (no nuisances).
    """

    response: ClassVar[str] = "gaussian"
    kind: ClassVar[str] = "gaussian"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    observables: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " n"]
    nuisance_sigma: Float[Array, " 0"]
    sigma: Float[Array, " n"]
    q2_mev2: Float[Array, " n"]
    sm_couplings: Float[Array, " 4"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        """``[[measurements]]`` (name, known observable, value, sigma > 0, q2_gev2 >= 0), ``[sm_couplings]``."""
        ms = field(spec, "measurements", where)
        if not isinstance(ms, list) or not ms:
            raise InvalidSpecError(f"{where}: measurements must be a non-empty list of tables")
        for i, m in enumerate(ms):
            w = f"{where} measurements[{i}]"
            string(m, "name", w)
            obs = string(m, "observable", w)
            if obs not in OBSERVABLES:
                raise InvalidSpecError(f"{w}: unknown observable {obs!r}; known: {sorted(OBSERVABLES)}")
            number(m, "value", w)
            number(m, "sigma", w, positive=True)
            number(m, "q2_gev2", w, nonneg=True)
        sm = spec.get("sm_couplings", {})
        try:
            [float(sm[k]) for k in _SM_COUPLINGS]
        except (KeyError, TypeError, ValueError):
            raise InvalidSpecError(f"{where}: sm_couplings must give numbers gL_u, gL_d, gR_u, gR_d") from None
        nuisance_names(spec.get("nuisances", []), where, expected=(), response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> GaussianMeasurements:
        """Build from a validated spec (the measurements are in the spec itself; ``folder`` is unused)."""
        ms = spec["measurements"]
        return cls(
            name=spec["name"],
            nuisance_names=(),
            observables=tuple(m["observable"] for m in ms),
            observed=jnp.asarray([m["value"] for m in ms], dtype=float),
            nuisance_sigma=jnp.zeros((0,)),
            sigma=jnp.asarray([m["sigma"] for m in ms], dtype=float),
            q2_mev2=jnp.asarray([m["q2_gev2"] * 1e6 for m in ms], dtype=float),
            sm_couplings=jnp.asarray([float(spec["sm_couplings"][k]) for k in _SM_COUPLINGS], dtype=float),
        )

    def physics(self, params: Params) -> None:
        """Nothing to precompute: :meth:`expected` is cheap."""
        return None

    def expected(self, params: Params, pulls: Float[Array, " 0"], physics: None) -> Float[Array, " n"]:
        """Predicted CHARM R_e and NuTeV g_L^2, g_R^2 with NSI and a Z' (Davidson et al., JHEP 03 (2003) 011).

        The quark NSI are vector couplings; the chiral ones are taken as eps^{qL} = eps^{qR} = eps^{qV}/2.
            R_e   = sum_q [(g_L^q + eps^q_ee/2)^2 + (g_R^q + eps^q_ee/2)^2] + sum_{a != e} |eps^q_ae|^2 / 2,
            g_L^2 = sum_q (g_L^q + eps^q_mumu/2)^2 + sum_{a != mu} |eps^q_amu|^2 / 4, and g_R^2 alike.
        A Z' enters through eps(q^2) at the measurement's momentum transfer (spec ``q2_gev2``).
        """
        n = len(self.observables)
        coef = np.array([OBSERVABLES[o] for o in self.observables])  # (n, 4): a, left, right, off weights
        flav = coef[:, 0].astype(int)
        off_idx = np.array([_OFF[a] for a in flav])  # (n, 4)
        eu, ed = params.nsi.u[..., None, :], params.nsi.d[..., None, :]  # (..., 1, 9)
        if params.zprime is not None:
            zn = params.zprime.nsi(self.q2_mev2)  # leaves (n, 9)
            eu, ed = eu + zn.u, ed + zn.d
        shape = jnp.broadcast_shapes(eu.shape, ed.shape, (n, 9))
        eu, ed = jnp.broadcast_to(eu, shape), jnp.broadcast_to(ed, shape)
        rows = np.arange(n)
        u_aa, d_aa = eu[..., rows, flav], ed[..., rows, flav]  # (..., n)
        off = jnp.sum(eu[..., rows[:, None], off_idx] ** 2 + ed[..., rows[:, None], off_idx] ** 2, axis=-1)
        # a weak mixing angle away from the reference shifts the SM couplings by their tree-level slopes
        # (g_L^u = 1/2 - 2/3 s^2, g_L^d = -1/2 + 1/3 s^2, g_R^u = -2/3 s^2, g_R^d = 1/3 s^2)
        ds2 = params.sin2_theta_w - c.SIN2_THETA_W
        gl_u, gl_d, gr_u, gr_d = (self.sm_couplings[i] + k * ds2 for i, k in enumerate((-2 / 3, 1 / 3, -2 / 3, 1 / 3)))
        left = (gl_u + u_aa / 2) ** 2 + (gl_d + d_aa / 2) ** 2
        right = (gr_u + u_aa / 2) ** 2 + (gr_d + d_aa / 2) ** 2
        return coef[:, 1] * left + coef[:, 2] * right + coef[:, 3] * off

    def components(self, params: Params, pulls: Float[Array, " 0"], physics: None) -> dict[str, Array]:
        """``{"prediction": predicted values}``."""
        return {"prediction": self.expected(params, pulls, physics)}

    def terms(self, params: Params, pulls: Float[Array, " 0"], physics: None) -> Terms:
        """Gaussian chi^2 = sum ((pred - value) / sigma)^2; log L = -chi^2 / 2; no pulls."""
        g = stats.gaussian_chi2(self.expected(params, pulls, physics), self.observed, self.sigma)
        return Terms(-0.5 * g, g, jnp.zeros(()))

    def chi2_derivatives(self, prediction: Float[Array, " n"]) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        """2 (pred - value) / sigma^2 and 2 / sigma^2."""
        s2 = self.sigma**2
        return 2.0 * (prediction - self.observed) / s2, 2.0 / s2

    def resample(self, key: jax.Array, expectation: Float[Array, " n"]) -> Float[Array, " n"]:
        """Values ~ N(expectation, sigma^2), the statistics :meth:`terms` assumes."""
        lam = jnp.asarray(expectation, dtype=float)
        return lam + self.sigma * jax.random.normal(key, lam.shape)
