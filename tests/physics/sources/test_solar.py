"""Solar-neutrino fluxes, spectra and the Sun's annual path seen from a site (:mod:`nsijax.physics.sources.solar`)."""

import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.experiments.parsers.spec import DATA_DIR
from nsijax.experiments.parsers.tables import read_rows
from nsijax.physics.sources import solar


def test_model_fluxes_are_the_b23_table():
    """B23 / SF-III GS98 (nsijax/data/solar/fluxes_SF3_GS98.dat): pp 5.960e10, 7Be 4.854e9, 8B 5.025e6 cm^-2 s^-1, 8B
    fractional error 12.55 %, corr(pp, 7Be) = -0.9634; the covariance is positive definite."""
    flux, frac, corr = solar.model_fluxes("GS98")
    i = {c: k for k, c in enumerate(solar.COMPONENTS)}
    assert flux[i["pp"]] == 5.960e10 and flux[i["7Be"]] == 4.854e9 and flux[i["8B"]] == 5.025e6
    assert frac[i["8B"]] == pytest.approx(0.1255)
    assert corr[i["pp"], i["7Be"]] == pytest.approx(-0.9634)
    assert np.all(np.linalg.eigvalsh(frac[:, None] * corr * frac[None, :]) > 0)
    with pytest.raises(InvalidInputError, match="unknown solar model"):
        solar.model_fluxes("B16")


@pytest.mark.parametrize(
    "comp, end", [("pp", 0.4234), ("hep", 18.79), ("8B", 15.3), ("13N", 1.199), ("15O", 1.732), ("17F", 1.740)]
)
def test_spectra_are_normalised_with_the_known_endpoints(comp, end):
    """Endpoints [MeV] as in Bahcall's tables (pp 0.4234, hep 18.79, 13N 1.199, 15O 1.732, 17F 1.740); the 8B table of
    Winter et al. (2006) has its last non-zero entry (3 decimals of 1000/MeV) at 15.3 MeV (endpoint ~16.5); unit area."""
    e, f = solar.spectrum(comp)
    assert np.trapezoid(f, e) == pytest.approx(1.0)
    assert solar.endpoint(comp) == pytest.approx(end, abs=0.25 if comp in ("8B", "hep") else 0.01)
    with pytest.raises(InvalidInputError, match="is a line"):
        solar.spectrum("7Be")


def test_lines_and_components():
    assert sum(br for _, br in solar.LINES["7Be"]) == pytest.approx(1.0)
    assert solar.endpoint("7Be") == 0.8613 and solar.endpoint("pep") == 1.442
    with pytest.raises(InvalidInputError, match="unknown solar flux component"):
        solar.check_component("CNO")


def test_annual_exposure_geometry():
    """Half of every year is night at any latitude (the declination is symmetric); at the pole the Sun never sinks
    below -23.44 deg (cos z >= -0.398); at the equator it reaches the nadir."""
    for lat in (0.0, 42.45, 66.0, 90.0):
        day, night = solar.annual_exposure(lat, 100)
        assert day == pytest.approx(0.5, abs=1e-3) and night.sum() == pytest.approx(0.5, abs=1e-3)
    _, pole = solar.annual_exposure(90.0, 100)
    assert pole[:60].sum() == 0 and pole[60] > 0
    _, eq = solar.annual_exposure(0.0, 100)
    assert eq[0] > 0
    with pytest.raises(InvalidInputError, match="latitude"):
        solar.annual_exposure(95.0)


def test_annual_exposure_matches_sno_night_livetime():
    """SNO's released night livetime in cos(zenith) (SnoCosZenithNight.dat, D2O phase, Sudbury 46.475 N) against
    the geometric annual exposure: the same shape to a Kolmogorov distance of 0.05 and a mean cos z within 0.03
    (SNO's livetime is not uniform over the year: mean -0.467 against our -0.441)."""
    live = read_rows(DATA_DIR / "sno_d2o_2002" / "raw" / "SnoCosZenithNight.dat", 1)[:, 0]
    _, ours = solar.annual_exposure(46.475, live.size)
    a, b = live / live.sum(), ours / ours.sum()
    c = -1 + (np.arange(live.size) + 0.5) / live.size
    assert np.abs(np.cumsum(a) - np.cumsum(b)).max() < 0.05
    assert abs((c * a).sum() - (c * b).sum()) < 0.03
