"""SNO's combined three-phase result as a polynomial survival probability (response ``sno_polynomial``; ``sno_3phase``).

Data: B. Aharmim et al. (SNO), PRC 88 (2013) 025501 (arXiv:1109.0763), Tables XXIV-XXV: the total active 8B flux
Phi_B8 and the coefficients of P_ee^day(E) = c0 + c1 (E - 10) + c2 (E - 10)^2 and of the day/night asymmetry
A_ee(E) = a0 + a1 (E - 10) (E in MeV), with their 6 x 6 correlation, fitted by SNO to all three phases; and Table XXVI,
the detectable spectra S(E_nu) (CC and ES on nu_e and on nu_mu,tau, day and night, no oscillation) that SNO's
prescription (Sec. VI B) needs to turn a model into the same six numbers.

Model (SNO's prescription, as Newtrinos.jl implements it):
* P_day(E), P_night(E): the 8B survival probability of ``params`` on the table energies, by day and at night through
  PREM for a year's night exposure at SNOLAB (46.475 N, 2.092 km), adiabatic in the Sun over the 8B production region
  with ``params.matter_nsi()`` (:class:`nsijax.experiments.oscillation.solar_rates.SolarSite`).
* Detected counts N = A P + B per energy bin, A = CC + ES_e - ES_mutau, B = ES_mutau (ES on nu_mu,tau sees 1 - P_ee).
* The six numbers: Phi_B8 = the model's 8B flux x ``params.solar_flux["8B"]`` [1e6 cm^-2 s^-1]; (c0, c1, c2, a0, a1)
  by weighted least squares of the polynomial model to P_day and P_night (weights A^2 / N: Poisson counts), with
  P_night = P_day (2 + A_ee) / (2 - A_ee), by ``gauss_newton_steps`` Gauss-Newton steps from the linear day fit
  (differentiable: a fixed number of linear solves).
* chi^2 = r^T V^-1 r, V = diag(sigma) C diag(sigma), sigma = sqrt(stat^2 + syst^2) (SNO's asymmetric errors as
  symmetrised by Newtrinos.jl). No pulls: the flux normalisation is the shared ``Params.solar_flux["8B"]``.
Not modelled: NSI at detection (nu-e, nu-d; the summary assumes SM detection), hep.
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ..base import register
from ..parsers.spec import integer, string
from ..parsers.tables import read_rows
from .solar_rates import AbstractGaussianRates, SolarSite, validate_site

#: The six numbers, in order.
PARAMETERS = ("phi_B8", "c0", "c1", "c2", "a0", "a1")
#: Reference energy of the polynomials [MeV].
E0_MEV = 10.0


def polynomial_fit(x, p_day, p_night, w_day, w_night, steps: int):
    """(c0, c1, c2, a0, a1) minimising sum w_d (P_day - poly)^2 + w_n (P_night - poly (2 + A)/(2 - A))^2 over the
    energies x = E - 10 MeV: the linear day fit, then ``steps`` Gauss-Newton steps on all five (Jacobian by forward-mode
    autodiff; JAX, differentiable)."""
    basis = jnp.stack([jnp.ones_like(x), x, x**2], axis=-1)  # (n, 3)
    wd = w_day[:, None]
    c = jnp.linalg.solve(basis.T @ (wd * basis), basis.T @ (w_day * p_day))
    theta = jnp.concatenate([c, jnp.zeros(2)])

    def residual(t):
        pd = basis @ t[:3]
        a = t[3] + t[4] * x
        pn = pd * (2.0 + a) / (2.0 - a)
        return jnp.concatenate([jnp.sqrt(w_day) * (p_day - pd), jnp.sqrt(w_night) * (p_night - pn)])

    for _ in range(steps):
        r, j = residual(theta), jax.jacfwd(residual)(theta)
        theta = theta - jnp.linalg.solve(j.T @ j, j.T @ r)
    return theta


@register
@final
class SNOPolynomial(AbstractGaussianRates):
    """SNO three-phase polynomial summary: Gaussian in (Phi_B8, c0, c1, c2, a0, a1), no pulls.

    Fields:
        observed: SNO's six numbers (6,); inv_cov: their inverse covariance (6, 6).
        site: the 8B component on the table energies, with SNOLAB's day/night exposure.
        a_day, a_night, b_day, b_night: A = CC + ES_e - ES_mutau and B = ES_mutau per energy bin (no oscillation).
        x: E - 10 MeV per bin; b8_flux: the model's 8B flux [1e6 cm^-2 s^-1].
    """

    response: ClassVar[str] = "sno_polynomial"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    gauss_newton_steps: int = eqx.field(static=True)
    observed: Float[Array, " 6"]
    nuisance_sigma: Float[Array, " 0"]
    inv_cov: Float[Array, "6 6"]
    site: SolarSite
    a_day: Float[Array, " n"]
    a_night: Float[Array, " n"]
    b_day: Float[Array, " n"]
    b_night: Float[Array, " n"]
    x: Float[Array, " n"]
    b8_flux: Float[Array, ""]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        for key in ("fit_file", "sensitivity_file"):
            string(spec, f"data.{key}", where)
        validate_site(spec, where)
        integer(spec, "site.night_nodes", where, 1, 40)
        integer(spec, "fit.gauss_newton_steps", where, 1, 50)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SNOPolynomial:
        folder = pathlib.Path(folder)
        d, site = spec["data"], spec["site"]
        fit_path = folder / d["fit_file"]
        rows = _read_fit(fit_path)
        obs = np.array([rows[k][0] for k in PARAMETERS])
        sig = np.array([np.hypot(rows[k][1], rows[k][2]) for k in PARAMETERS])
        corr = np.array([rows[k][3:] for k in PARAMETERS])
        if not np.allclose(corr, corr.T, atol=1e-6) or not np.allclose(np.diag(corr), 1.0) or np.any(np.linalg.eigvalsh(corr) <= 0):
            raise InvalidSpecError(f"{fit_path}: the correlation matrix must be symmetric, unit-diagonal and positive definite")
        sens_path = folder / d["sensitivity_file"]
        tab = read_rows(sens_path, 8, header="E_lo,E_hi,CC_day,CC_night,ESe_day,ESe_night,ESmt_day,ESmt_night")
        if np.any(tab[:, 2:] < 0) or np.any(tab[:, 1] <= tab[:, 0]):
            raise InvalidSpecError(f"{sens_path}: counts must be >= 0 and bins increasing")
        a_day, a_night = tab[:, 2] + tab[:, 4] - tab[:, 6], tab[:, 3] + tab[:, 5] - tab[:, 7]
        keep = (a_day > 0) & (a_night > 0)
        if keep.sum() < 6:
            raise InvalidSpecError(f"{sens_path}: fewer than 6 bins with CC or ES_e counts")
        tab, a_day, a_night = tab[keep], a_day[keep], a_night[keep]
        enu = 0.5 * (tab[:, 0] + tab[:, 1])
        model = str(spec["solar"]["model"])
        s = SolarSite.on_energies(
            "8B", enu, model=model, latitude_deg=float(site["latitude_deg"]), depth_km=float(site["depth_km"]),
            night_nodes=int(site["night_nodes"]),
        )  # fmt: skip
        cov = sig[:, None] * corr * sig[None, :]
        return cls(
            name=spec["name"],
            nuisance_names=(),
            gauss_newton_steps=int(spec["fit"]["gauss_newton_steps"]),
            observed=_f64(obs),
            nuisance_sigma=jnp.zeros((0,)),
            inv_cov=_f64(np.linalg.inv(cov)),
            site=s,
            a_day=_f64(a_day),
            a_night=_f64(a_night),
            b_day=_f64(tab[:, 6]),
            b_night=_f64(tab[:, 7]),
            x=_f64(enu - E0_MEV),
            b8_flux=_f64(float(s.flux[0]) * 1e-6),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def polynomial(self, p_day: Float[Array, " n"], p_night: Float[Array, " n"]) -> Float[Array, " 5"]:
        """SNO's (c0, c1, c2, a0, a1) of given day and night P_ee on the table energies (weights A^2 / N)."""
        w_day = self.a_day**2 / (self.a_day * p_day + self.b_day)
        w_night = self.a_night**2 / (self.a_night * p_night + self.b_night)
        return polynomial_fit(self.x, p_day, p_night, w_day, w_night, self.gauss_newton_steps)

    def physics(self, params: Params) -> Float[Array, " 6"]:
        """The model's six numbers (Phi_B8 [1e6 cm^-2 s^-1], c0, c1, c2, a0, a1)."""
        day, night = self.site.day_night(params)
        coeffs = self.polynomial(day[:, 0], night[:, 0])
        phi = self.b8_flux * params.solar_flux.get("8B", 1.0)
        return jnp.concatenate([jnp.reshape(phi, (1,)), coeffs])


def _read_fit(path: pathlib.Path) -> dict[str, list[float]]:
    """Rows ``parameter,best_fit,stat,syst,corr...`` of the fit file, by parameter name."""
    if not path.is_file():
        raise InvalidSpecError(f"data file not found: {path}")
    out = {}
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    for lineno, ln in enumerate(lines[1:], 2):
        parts = [p.strip() for p in ln.split(",")]
        try:
            vals = [float(v) for v in parts[1:]]
        except ValueError:
            raise InvalidSpecError(f"{path}: row {lineno}: expected a name and numbers; got {ln[:80]!r}") from None
        if len(vals) != 3 + len(PARAMETERS) or not all(np.isfinite(vals)):
            raise InvalidSpecError(f"{path}: row {lineno}: expected {3 + len(PARAMETERS)} finite numbers; got {ln[:80]!r}")
        out[parts[0]] = vals
    missing = [k for k in PARAMETERS if k not in out]
    if missing:
        raise InvalidSpecError(f"{path}: missing rows {missing}")
    return out


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)
