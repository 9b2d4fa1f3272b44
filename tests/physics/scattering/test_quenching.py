"""Quenching of nuclear recoils (:mod:`nsijax.physics.scattering.quenching`)."""

import jax
import numpy as np
import pytest

from nsijax.errors import InvalidInputError
from nsijax.physics.scattering import quenching


def test_lindhard_germanium_values():
    """Lindhard with k = 0.133 Z^(2/3) A^(-1/2) = 0.157 for Ge: Y(1 keVnr) = 0.171, Y(10 keVnr) = 0.234, the values of
    the standard curve used for Ge (e.g. CONUS, arXiv:2011.00210, Fig. 1 of its quenching discussion: k = 0.16)."""
    assert 0.133 * 32 ** (2 / 3) * 72.63**-0.5 == pytest.approx(quenching.LINDHARD_K_GE, abs=5e-4)
    y = np.asarray(quenching.lindhard(np.array([1.0, 10.0]), quenching.LINDHARD_K_GE, 32.0))
    np.testing.assert_allclose(y, [0.171, 0.234], atol=1e-3)
    # Y grows with T and with k, and stays in (0, 1)
    t = np.geomspace(1e-3, 100, 200)
    yt = np.asarray(quenching.lindhard(t, 0.157, 32.0))
    assert np.all(np.diff(yt) > 0) and np.all((yt > 0) & (yt < 1))
    assert float(jax.grad(lambda k: quenching.lindhard(1.0, k, 32.0))(0.157)) > 0


def test_tabulated_reads_the_collar_tables():
    """The Fef / YBe columns of QF_Fef_YBe.txt (Collar et al., PRD 103 (2021) 122003): at 0.5 / 1.0 / 2.0 keVnr
    Fef 0.340 / 0.244 / 0.188, YBe 0.248 / 0.194 / 0.185 (the shared data README)."""
    from nsijax.experiments.parsers.spec import DATA_DIR

    tab = np.loadtxt(DATA_DIR / "dresden_ii_2022" / "QF_Fef_YBe.txt")
    t = np.array([0.5, 1.0, 2.0])
    fef = np.asarray(quenching.tabulated(t, tab[:, 0], tab[:, 1]))
    ybe = np.asarray(quenching.tabulated(t, tab[:, 0], tab[:, 2]))
    np.testing.assert_allclose(fef, [0.340, 0.244, 0.188], atol=1.5e-3)
    np.testing.assert_allclose(ybe, [0.248, 0.194, 0.185], atol=1.5e-3)
    # constant beyond the table's ends
    assert float(quenching.tabulated(10.0, tab[:, 0], tab[:, 1])) == pytest.approx(tab[-1, 1])


@pytest.mark.parametrize(
    ("t", "y", "match"),
    [([0.0], [0.2], ">= 2"), ([0.0, 0.0], [0.2, 0.2], "increasing"), ([0.0, 1.0], [0.2, 1.5], r"\(0, 1\]")],
)
def test_bad_table(t, y, match):
    with pytest.raises(InvalidInputError, match=match):
        quenching.check_table(t, y, "test")
