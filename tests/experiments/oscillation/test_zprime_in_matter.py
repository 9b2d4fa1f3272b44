"""A Z' acts in oscillations through its NSI at q^2 = 0 (PHYSICS.md: coherent forward scattering has
zero momentum transfer), for every oscillation experiment: chi^2 with the Z' equals chi^2 with the
contact NSI ``zprime.nsi(0)`` it induces, and differs from the Standard Model.

B-3L_mu couples to quarks and nu_mu only (no electron): in SNO's nu-e elastic scattering it adds
nothing, so the identity is exact for SNO too. B-3L_e also couples to electrons; it is checked on the
experiments whose detection involves no neutrino-electron scattering (Borexino's P_ee points, the
KamLAND and Daya Bay IBD spectra, DUNE's CC samples, the gallium and chlorine captures). At Daya Bay's 0.5-2 km the matter effect itself is below
1e-3 in chi^2 (that is why it pins theta13 independently of NSI), so there only the identity is checked.
"""

import jax.numpy as jnp
import pytest

from nsijax import experiments
from nsijax.likelihood import chi2
from nsijax.parameters.params import Params
from nsijax.parameters.zprime import ZPrime

OSCILLATION = [n for n in experiments.available() if experiments.spec(n)["kind"] == "oscillation"]
NO_ES = ("borexino_2018", "kamland_2011", "dayabay_3158d", "dune_tdr", "gallium", "homestake", "sno_3phase")
#: Experiments where the Z' of these tests has no visible effect (matter effects are negligible; the solar model's
#: flux prior has no neutrino propagation at all).
NO_MATTER = ("dayabay_3158d", "solar_model_b23")


def test_every_oscillation_experiment_is_covered():
    assert set(OSCILLATION) == {
        "borexino_2018", "borexino_phase1", "borexino_phase2", "kamland_2011", "dayabay_3158d", "sno_3phase", "sno_d2o_2002",
        "dune_tdr", "gallium", "homestake", "solar_model_b23",
    }


def test_matter_nsi_is_contact_plus_zprime_at_zero_q2():
    zp = ZPrime(1e-5, 10.0, charges="B-3Le")
    p = Params(zprime=zp)
    m = p.matter_nsi()
    assert jnp.allclose(m.eL, zp.nsi(0.0).eL) and jnp.allclose(m.u, zp.nsi(0.0).u)
    sm = Params()
    assert sm.matter_nsi() is sm.nsi


@pytest.mark.parametrize(
    "name, preset",
    [(n, "B-3Lmu") for n in OSCILLATION] + [(n, "B-3Le") for n in NO_ES],
)
def test_chi2_with_zprime_equals_chi2_with_its_q2_zero_nsi(name, preset):
    exp = experiments.load(name)
    zp = ZPrime(1e-5, 10.0, charges=preset)
    with_z = float(chi2(Params(zprime=zp), exp, nuisances="profile"))
    with_nsi = float(chi2(Params(nsi=zp.nsi(0.0)), exp, nuisances="profile"))
    sm = float(chi2(Params(), exp, nuisances="profile"))
    assert with_z == pytest.approx(with_nsi, rel=1e-10, abs=1e-10)
    if name not in NO_MATTER:
        assert abs(with_z - sm) > 1e-3, (name, preset, with_z, sm)  # the Z' has a visible effect
