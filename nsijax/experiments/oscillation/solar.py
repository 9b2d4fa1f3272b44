"""Solar nu_e survival probabilities measured per flux (response ``solar_pee``; Borexino 2018).

Gaussian terms on measured P_ee values, each predicted at the measurement's energy as
:func:`nsijax.physics.oscillation.sun.survival_probability` (adiabatic; daytime, no Earth crossing),
averaged over the production region of its flux (pp, 7Be, pep, 8B) in the B23/SF-III profile of the
spec's ``data.solar_model`` (GS98 or AGSS09). The production nodes (weights, n_e, Y_n) are computed at
build time and stored padded, shape (measurements, nodes) (:func:`~nsijax.physics.oscillation.sun.stacked_production_nodes`);
the prediction is :func:`~nsijax.physics.oscillation.sun.survival_probability_at_nodes` with the matter NSI
``params.matter_nsi()`` (contact NSI plus a Z' at q^2 = 0) and ``params.osc`` (None = NuFIT 6.0 NO).

Asymmetric errors are handled explicitly: sigma = err_up where the prediction exceeds the value,
err_down otherwise (continuous; the shipped Borexino errors are symmetric); pseudo-data follow the split
normal with that density. No nuisances: Borexino's P_ee errors already include the SSM flux
uncertainties it assumed. Data: ``data.file`` (CSV: source, energy_MeV, Pee, err_up, err_down, note),
rows chosen by ``data.use`` (labels "<source>" or "<source> <first word of note>", e.g. "8B HER").
"""

from __future__ import annotations

import csv
import math
import pathlib
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ...errors import InvalidSpecError
from ...parameters.oscillation import resolve_osc
from ...parameters.params import Params
from ...physics.oscillation.sun import FLUXES, stacked_production_nodes, survival_probability_at_nodes
from ..base import AbstractExperiment, Terms, register
from ..parsers.spec import nuisance_names, string


def _read_borexino(path: pathlib.Path) -> list[dict[str, Any]]:
    """Rows of the Borexino P_ee table (CSV with a header naming its columns), with errors naming the
    file and line."""
    if not path.is_file():
        raise InvalidSpecError(f"data file not found: {path}")
    out = []
    with path.open(encoding="utf-8") as fh:
        lines = [(i, ln) for i, ln in enumerate(fh, 1) if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InvalidSpecError(f"{path}: no data rows")
    header = next(csv.reader([lines[0][1]]))
    for lineno, ln in lines[1:]:
        row = dict(zip(header, next(csv.reader([ln]))))
        try:
            rec = {k: float(row[k]) for k in ("energy_MeV", "Pee", "err_up", "err_down")}
        except (KeyError, ValueError, TypeError):
            raise InvalidSpecError(
                f"{path}, line {lineno}: expected source,energy_MeV,Pee,err_up,err_down; got {ln.strip()!r}"
            ) from None
        if not all(math.isfinite(v) for v in rec.values()) or rec["err_up"] <= 0 or rec["err_down"] <= 0:
            raise InvalidSpecError(f"{path}, line {lineno}: values must be finite and errors > 0; got {ln.strip()!r}")
        if rec["energy_MeV"] <= 0:
            raise InvalidSpecError(f"{path}, line {lineno}: energy must be > 0; got {ln.strip()!r}")
        src = row.get("source", "").strip()
        note = (row.get("note") or "").strip()
        label = src if not note else f"{src} {note.split()[0]}"
        rec.update(source=src, label=label, line=lineno)
        out.append(rec)
    return out


def _f64(x) -> Array:
    return jnp.asarray(x, dtype=float)


def _split_normal(key, mean, sigma_below, sigma_above):
    """Draws with density prop. to exp(-(x - mean)^2 / (2 s^2)), s = sigma_below for x < mean, sigma_above
    above (normalised: P(x < mean) = sigma_below / (sigma_below + sigma_above))."""
    k_side, k_size = jax.random.split(key)
    z = jnp.abs(jax.random.normal(k_size, mean.shape))
    below = jax.random.uniform(k_side, mean.shape) < sigma_below / (sigma_below + sigma_above)
    return jnp.where(below, mean - sigma_below * z, mean + sigma_above * z)


@register
@final
class SolarPee(AbstractExperiment):
    """Measured solar P_ee per flux (Borexino 2018): Gaussian terms with side-dependent errors.

    Fields:
        fluxes: the solar flux of each measurement (static), e.g. ("pp", "7Be", "pep", "8B").
        observed: measured P_ee (n,).
        energy_gev: neutrino energy of each measurement [GeV] (n,).
        sigma_up, sigma_down: 1-sigma errors above / below the value (n,).
        sun_weight, sun_ne, sun_yn: production nodes of each measurement's flux (n, R): normalised
            weights (0 = padding), n_e [mol/cm^3], Y_n.
    """

    response: ClassVar[str] = "solar_pee"
    kind: ClassVar[str] = "oscillation"

    name: str = eqx.field(static=True)
    nuisance_names: tuple[str, ...] = eqx.field(static=True)
    fluxes: tuple[str, ...] = eqx.field(static=True)
    observed: Float[Array, " n"]
    nuisance_sigma: Float[Array, " 0"]
    energy_gev: Float[Array, " n"]
    sigma_up: Float[Array, " n"]
    sigma_down: Float[Array, " n"]
    sun_weight: Float[Array, "n R"]
    sun_ne: Float[Array, "n R"]
    sun_yn: Float[Array, "n R"]

    @classmethod
    def validate_spec(cls, spec: dict[str, Any], where: str) -> None:
        string(spec, "data.file", where)
        string(spec, "data.solar_model", where, {"GS98", "AGSS09"})
        use = spec.get("data", {}).get("use")
        if not isinstance(use, list) or not use or not all(isinstance(u, str) for u in use):
            raise InvalidSpecError(f"{where}: data.use must be a non-empty list of row labels (e.g. 'pp', '8B HER')")
        nuisance_names(spec.get("nuisances", []), where, expected=(), response=cls.response)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], folder: pathlib.Path) -> SolarPee:
        folder = pathlib.Path(folder)
        d = spec["data"]
        rows = _read_borexino(folder / d["file"])
        by_label = {r["label"]: r for r in rows}
        chosen = []
        for lab in d["use"]:
            if lab not in by_label:
                raise InvalidSpecError(
                    f"{spec['name']}: data.use names {lab!r}, not a row of {folder / d['file']}; rows: {sorted(by_label)}"
                )
            chosen.append(by_label[lab])
        for r in chosen:
            if r["source"] not in FLUXES:
                raise InvalidSpecError(
                    f"{folder / d['file']}, line {r['line']}: unknown solar flux {r['source']!r}; known: {FLUXES}"
                )
        # production region of each measurement's flux in the spec's solar model, padded to common length
        w_sun, ne_sun, yn_sun = stacked_production_nodes(d["solar_model"], [r["source"] for r in chosen])
        return cls(
            name=spec["name"],
            nuisance_names=(),
            fluxes=tuple(r["source"] for r in chosen),
            observed=_f64([r["Pee"] for r in chosen]),
            nuisance_sigma=jnp.zeros((0,)),
            energy_gev=_f64([r["energy_MeV"] * 1e-3 for r in chosen]),
            sigma_up=_f64([r["err_up"] for r in chosen]),
            sigma_down=_f64([r["err_down"] for r in chosen]),
            sun_weight=_f64(w_sun),
            sun_ne=_f64(ne_sun),
            sun_yn=_f64(yn_sun),
        )

    def check_params(self, params: Params) -> None:
        resolve_osc(params.osc)

    def physics(self, params: Params) -> Float[Array, " n"]:
        """Predicted P_ee per measurement, shape (n,)."""
        osc, nsi = resolve_osc(params.osc), params.matter_nsi()
        # one call per measurement (4 points, each with its own production region), not one batched (n, R)
        # eigh: in vmapped fits on CPU the batched form hangs XLA:CPU's thread pool (README, Known issues;
        # reproduced with benchmarks/joint.py --smoke), the per-measurement form does not
        return jnp.stack([
            survival_probability_at_nodes(
                osc, self.energy_gev[j], self.sun_weight[j], self.sun_ne[j], self.sun_yn[j], nsi=nsi
            )
            for j in range(len(self.fluxes))
        ])

    def expected(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, " n"]) -> Float[Array, " n"]:
        return physics

    def components(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, " n"]) -> dict[str, Array]:
        """``{"prediction": P_ee}``."""
        return {"prediction": self.expected(params, pulls, physics)}

    def sigma(self, prediction: Float[Array, " n"]) -> Float[Array, " n"]:
        """The error on the side of the value where ``prediction`` lies: sigma_up above, sigma_down below."""
        return jnp.where(prediction > self.observed, self.sigma_up, self.sigma_down)

    def terms(self, params: Params, pulls: Float[Array, " 0"], physics: Float[Array, " n"]) -> Terms:
        """Gaussian chi^2 = sum ((pred - value) / sigma)^2 with the side-dependent sigma; log L = -chi^2 / 2."""
        pred = self.expected(params, pulls, physics)
        g = jnp.sum(((pred - self.observed) / self.sigma(pred)) ** 2)
        return Terms(-0.5 * g, g, jnp.zeros(()))

    def chi2_derivatives(self, prediction: Float[Array, " n"]) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        """2 (pred - value) / sigma^2 and 2 / sigma^2, sigma on the prediction's side."""
        s2 = self.sigma(prediction) ** 2
        return 2.0 * (prediction - self.observed) / s2, 2.0 / s2

    def resample(self, key: jax.Array, expectation: Float[Array, " n"]) -> Float[Array, " n"]:
        """The split normal whose density is exp(-chi^2/2) of :meth:`terms`: values below the prediction
        with width sigma_up (probability sigma_up / (sigma_up + sigma_down)), above with sigma_down; for
        equal errors (the shipped data) N(prediction, sigma^2)."""
        lam = jnp.asarray(expectation, dtype=float)
        return _split_normal(key, lam, self.sigma_up, self.sigma_down)
