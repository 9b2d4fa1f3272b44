"""Oscillation probabilities: reference codes, independent matrix exponentials and exact identities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nsijax
from nsijax import NSI
from nsijax.constants import KM_TO_INV_EV, V_CC_EV_PER_GCC
from nsijax.physics.oscillation import Layers, OscParams, oscillation_amplitude, oscillation_probability
from tests.helpers import require
from tests.physics.oscillation.osc_reference import hamiltonian_np, pmns_np, prob_expm_np


def _random_osc(rng, ordering=1.0):
    return OscParams(
        theta12=rng.uniform(0.1, 1.4),
        theta13=rng.uniform(0.05, 0.5),
        theta23=rng.uniform(0.3, 1.3),
        delta_cp=rng.uniform(0, 2 * np.pi),
        dm21=rng.uniform(2e-5, 2e-4),
        dm31=ordering * rng.uniform(1e-3, 4e-3),
    )


def _random_nsi(rng, scale=0.5):
    def comp():
        return rng.normal(scale=scale, size=9)

    return NSI.from_components(eL=comp() / 2, eR=comp() / 2, u=comp() / 3, d=comp() / 3)


def _random_layers(rng, n):
    return Layers(
        rng.uniform(10, 3000, n), rng.uniform(0.5, 13, n), rng.uniform(0.45, 0.5, n), rng.uniform(0.9, 1.2, n)
    )


def test_vs_nuoscprobexact_constant_density_full_complex_nsi(rng):
    """Reference: NuOscProbExact (M. Bustamante, Comput. Phys. Commun. 2021, arXiv:1904.12391;
    PyPI `nuoscprobexact`), constant density, full complex NSI; |Delta P| <= 1e-10."""
    require("oscprob3nu")
    import hamiltonians3nu
    import oscprob3nu

    for trial in range(4):
        osc = _random_osc(rng, ordering=1.0 if trial % 2 == 0 else -1.0)
        nsi = _random_nsi(rng)
        length, rho, ye, yn = rng.uniform(100, 5000), rng.uniform(1, 13), 0.48, rng.uniform(0.9, 1.2)
        energy = np.geomspace(0.05, 50.0, 300)
        p = np.asarray(oscillation_probability(osc, energy, Layers.constant(length, rho, ye, yn), nsi=nsi))
        hv = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
            np.sin(float(osc.theta12)),
            np.sin(float(osc.theta23)),
            np.sin(float(osc.theta13)),
            float(osc.delta_cp),
            float(osc.dm21),
            float(osc.dm31),
        )
        eps = np.asarray(nsi.matter(yn))
        h = hamiltonians3nu.hamiltonian_3nu_nsi(
            hv, energy * 1e9, V_CC_EV_PER_GCC * rho * ye, [eps[0, 0], eps[0, 1], eps[0, 2], eps[1, 1], eps[1, 2], eps[2, 2]]
        )
        ref = np.asarray(oscprob3nu.probabilities_3nu(h, length * KM_TO_INV_EV)).reshape(-1, 3, 3)
        np.testing.assert_allclose(p, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("anti", [False, True])
def test_vs_scipy_expm_product_through_layers(rng, anti):
    """Reference: product of scipy.linalg.expm(-i H_k L_k) over the same layers (Pade, Al-Mohy & Higham
    2009), Hamiltonian written independently in the test; |Delta P| <= 1e-10."""
    for _ in range(3):
        osc = _random_osc(rng)
        nsi = _random_nsi(rng, 0.3)
        lay = _random_layers(rng, 7)
        energy = np.geomspace(0.1, 30.0, 25)
        p = np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi, antineutrino=anti))
        args = [np.asarray(a) for a in (lay.length_km, lay.density_gcc, lay.ye, lay.yn)]
        ref = np.stack([prob_expm_np(osc, e, *args, nsi=nsi, anti=anti) for e in energy])
        np.testing.assert_allclose(p, ref, rtol=0, atol=1e-10)


def test_generalized_mass_ordering_degeneracy_through_layers(rng):
    """Reference: Coloma & Schwetz, PRD 94 (2016) 055005, arXiv:1604.05772 (PHYSICS.md form):
    theta12 -> pi/2 - theta12, delta -> pi - delta, dm31 -> dm21 - dm31, eps -> -S eps^* S - 2 diag(1,0,0)
    leaves every P(a -> b) unchanged through several layers with a common Y_n; <= 1e-10."""
    s = np.diag([1.0, -1.0, -1.0])
    for anti in (False, True):
        osc = _random_osc(rng)
        yn = 1.07
        lay = Layers(rng.uniform(50, 2500, 6), rng.uniform(1, 13, 6), rng.uniform(0.45, 0.5, 6), yn)
        nsi = NSI(eps_d=np.asarray(_random_nsi(rng, 0.2).matter(yn)) / (1 + 2 * yn))  # eps = given matrix
        eps = np.asarray(nsi.matter(yn))
        eps2 = -s @ np.conj(eps) @ s - 2 * np.diag([1.0, 0.0, 0.0])
        nsi2 = NSI(eps_d=eps2 / (1 + 2 * yn))
        osc2 = OscParams(
            np.pi / 2 - osc.theta12, osc.theta13, osc.theta23, np.pi - osc.delta_cp, osc.dm21, osc.dm21 - osc.dm31
        )
        energy = np.geomspace(0.1, 20.0, 60)
        p1 = oscillation_probability(osc, energy, lay, nsi=nsi, antineutrino=anti)
        p2 = oscillation_probability(osc2, energy, lay, nsi=nsi2, antineutrino=anti)
        np.testing.assert_allclose(np.asarray(p1), np.asarray(p2), rtol=0, atol=1e-10)


def test_sm_image_couplings_reproduce_sm_in_any_medium(rng):
    """PHYSICS.md (Coloma & Schwetz): eps^u_ee = -4/3, eps^d_ee = 2/3 gives eps_ee = -2 for every Y_n, the
    exact image of the Standard Model under the degeneracy; layers with different Y_n."""
    osc = _random_osc(rng)
    lay = _random_layers(rng, 5)
    osc2 = OscParams(np.pi / 2 - osc.theta12, osc.theta13, osc.theta23, np.pi - osc.delta_cp, osc.dm21, osc.dm21 - osc.dm31)
    nsi = NSI(eps_u={"ee": -4.0 / 3.0}, eps_d={"ee": 2.0 / 3.0})
    energy = np.geomspace(0.2, 20.0, 40)
    np.testing.assert_allclose(
        np.asarray(oscillation_probability(osc, energy, lay)),
        np.asarray(oscillation_probability(osc2, energy, lay, nsi=nsi)),
        rtol=0,
        atol=1e-10,
    )


def test_unitarity_random(rng):
    """Identity (PHYSICS.md): rows and columns of P sum to 1, 0 <= P <= 1, S unitary."""
    osc = _random_osc(rng)
    nsi = _random_nsi(rng, 1.0)
    lay = _random_layers(rng, 12)
    energy = np.geomspace(0.01, 100.0, 200)
    p = np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi))
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-11)
    np.testing.assert_allclose(p.sum(-2), 1.0, atol=1e-11)
    assert p.min() > -1e-12 and p.max() < 1 + 1e-12
    s = np.asarray(oscillation_amplitude(osc, energy, lay, nsi=nsi))
    eye = np.einsum("...ab,...cb->...ac", s, np.conj(s))
    np.testing.assert_allclose(eye, np.broadcast_to(np.eye(3), eye.shape), atol=1e-11)


def test_two_flavour_vacuum_limit():
    """Reference: two-flavour vacuum formula P_mumu = 1 - sin^2(2 th23) sin^2(1.267 dm31 L / E)
    (e.g. PDG review of neutrino mixing, eq. 14.38 with 1.267 = 1/(4 hbar c) in these units) for
    theta12 = theta13 = 0, dm21 = 0."""
    osc = OscParams(0.0, 0.0, 0.7, 0.0, 0.0, 2.5e-3)
    energy = np.geomspace(0.1, 10, 100)
    length = 1300.0
    p = np.asarray(oscillation_probability(osc, energy, Layers.vacuum(length)))
    phase = 2.5e-3 * length * KM_TO_INV_EV / (4 * energy * 1e9)
    np.testing.assert_allclose(p[:, 1, 1], 1 - np.sin(1.4) ** 2 * np.sin(phase) ** 2, atol=1e-12)
    np.testing.assert_allclose(p[:, 0, 0], 1.0, atol=1e-14)


def test_two_flavour_msw_constant_density():
    """Reference: two-flavour MSW formula in constant matter (Wolfenstein 1978; Mikheev & Smirnov 1985):
    sin^2 2th_m = sin^2 2th / ((cos 2th - A)^2 + sin^2 2th), A = 2 E V / dm2, dm2_m = dm2 sqrt(...)."""
    th, dm2, rho, ye, length = 0.15, 2.5e-3, 3.0, 0.5, 2000.0
    osc = OscParams(0.0, th, 0.0, 0.0, 0.0, dm2)  # nu_e <-> nu_tau two-flavour system with theta13
    energy = np.geomspace(0.5, 30, 80)
    v = V_CC_EV_PER_GCC * rho * ye
    a = 2 * energy * 1e9 * v / dm2
    c, s = np.cos(2 * th), np.sin(2 * th)
    root = np.sqrt((c - a) ** 2 + s**2)
    pet = s**2 / root**2 * np.sin(dm2 * root * length * KM_TO_INV_EV / (4 * energy * 1e9)) ** 2
    p = np.asarray(oscillation_probability(osc, energy, Layers.constant(length, rho, ye)))
    np.testing.assert_allclose(p[:, 0, 2], pet, atol=1e-12)


def test_vacuum_three_flavour_closed_form(rng):
    """Reference: vacuum closed form P(a->b) = delta_ab - 4 sum_{i>j} Re(U U* U U*) sin^2 x_ij
    + 2 sum_{i>j} Im(...) sin 2x_ij (PDG review of neutrino mixing, eq. 14.11), U written in numpy."""
    osc = _random_osc(rng)
    u = pmns_np(float(osc.theta12), float(osc.theta13), float(osc.theta23), float(osc.delta_cp))
    m2 = np.array([0.0, float(osc.dm21), float(osc.dm31)])
    energy = np.geomspace(0.05, 10, 50)
    length = 800.0
    p = np.asarray(oscillation_probability(osc, energy, Layers.vacuum(length)))
    ref = np.zeros_like(p)
    for a in range(3):
        for b in range(3):
            val = np.full(energy.shape, float(a == b))
            for i in range(3):
                for j in range(i):
                    x = (m2[i] - m2[j]) * length * KM_TO_INV_EV / (4 * energy * 1e9)
                    q = np.conj(u[a, i]) * u[b, i] * u[a, j] * np.conj(u[b, j])
                    val += -4 * q.real * np.sin(x) ** 2 + 2 * q.imag * np.sin(2 * x)
            ref[:, a, b] = val
    np.testing.assert_allclose(p, ref, atol=1e-12)


def test_eps_proportional_to_identity_unobservable(rng):
    """Identity (PHYSICS.md): eps -> eps + c 1 changes H by a multiple of 1, so no probability changes."""
    osc = _random_osc(rng)
    lay = _random_layers(rng, 4)
    nsi = _random_nsi(rng, 0.3)
    shift = NSI(eps_e=np.eye(3) * 0.7, eps_d=np.eye(3) * -0.4)
    energy = np.geomspace(0.1, 20, 50)
    np.testing.assert_allclose(
        np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi)),
        np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi + shift)),
        atol=1e-11,
    )


def test_antineutrino_and_time_reversal_relations(rng):
    """T relation: S(H^*, reversed path) = S(H, path)^T, so P(a->b; H, path) = P(b->a; H^*, reversed path),
    with H^* obtained by delta -> -delta and eps -> eps^* (nuSQuIDS test/time_reversal idea). In vacuum,
    CPT: P(nubar_b -> nubar_a) = P(nu_a -> nu_b). Antineutrinos in matter are checked against the scipy
    reference in test_vs_scipy_expm_product_through_layers."""
    osc = _random_osc(rng)
    nsi = _random_nsi(rng, 0.3)
    lay = _random_layers(rng, 5)
    energy = np.geomspace(0.2, 20, 30)
    p = np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi))
    osc_c = OscParams(osc.theta12, osc.theta13, osc.theta23, -osc.delta_cp, osc.dm21, osc.dm31)
    flip = np.array([1, 1, 1, 1, -1, 1, -1, 1, -1])  # conjugate: imaginary parts change sign
    nsi_c = NSI.from_components(
        eL=np.asarray(nsi.eL) * flip, eR=np.asarray(nsi.eR) * flip, u=np.asarray(nsi.u) * flip, d=np.asarray(nsi.d) * flip
    )
    p_t = np.asarray(oscillation_probability(osc_c, energy, lay.reversed(), nsi=nsi_c))
    np.testing.assert_allclose(p, np.swapaxes(p_t, -1, -2), atol=1e-11)
    pv = np.asarray(oscillation_probability(osc, energy, Layers.vacuum(900.0)))
    pvb = np.asarray(oscillation_probability(osc, energy, Layers.vacuum(900.0), antineutrino=True))
    np.testing.assert_allclose(pv, np.swapaxes(pvb, -1, -2), atol=1e-12)


def test_zero_length_padding_is_identity(rng):
    """Zero-length layers are exact identities: padding a path changes nothing."""
    osc = _random_osc(rng)
    nsi = _random_nsi(rng, 0.3)
    lay = _random_layers(rng, 3)
    pad = Layers(
        np.concatenate([[0.0], np.asarray(lay.length_km), [0.0, 0.0]]),
        np.concatenate([[5.0], np.asarray(lay.density_gcc), [7.0, 0.0]]),
        np.concatenate([[0.5], np.asarray(lay.ye), [0.5, 0.5]]),
        np.concatenate([[1.0], np.asarray(lay.yn), [1.0, 1.0]]),
    )
    energy = np.geomspace(0.2, 20, 30)
    np.testing.assert_allclose(
        np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi)),
        np.asarray(oscillation_probability(osc, energy, pad, nsi=nsi)),
        atol=1e-13,
    )


def test_degenerate_spectra_values():
    """Degenerate Hamiltonians (vacuum with dm21 = 0, all dm = 0, E -> large) give exact values."""
    osc = OscParams(0.6, 0.15, 0.8, 1.0, 0.0, 2.5e-3)
    energy = np.geomspace(0.1, 10, 20)
    p = np.asarray(oscillation_probability(osc, energy, Layers.vacuum(500.0)))
    ref = np.stack([prob_expm_np(osc, e, [500.0], [0.0], [0.5], [1.0]) for e in energy])
    np.testing.assert_allclose(p, ref, atol=1e-12)
    osc0 = OscParams(0.6, 0.15, 0.8, 1.0, 0.0, 0.0)
    p0 = np.asarray(oscillation_probability(osc0, energy, Layers.vacuum(500.0)))
    np.testing.assert_allclose(p0, np.broadcast_to(np.eye(3), p0.shape), atol=1e-15)


def test_jit_vmap_and_batched_layers(rng):
    """jit == eager, vmap over energies / paths / parameter points == loops, batched Layers == vmap."""
    osc = _random_osc(rng)
    nsi = _random_nsi(rng, 0.2)
    lays = [_random_layers(rng, 4) for _ in range(3)]
    stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *lays)
    energy = jnp.geomspace(0.3, 10, 7)
    loop = np.stack([np.asarray(oscillation_probability(osc, energy, lay, nsi=nsi)) for lay in lays])
    batched = np.asarray(oscillation_probability(osc, energy, stacked, nsi=nsi))
    vm = np.asarray(jax.vmap(lambda lay: oscillation_probability(osc, energy, lay, nsi=nsi))(stacked))
    jitted = np.asarray(jax.jit(lambda o, e: oscillation_probability(o, e, lays[0], nsi=nsi))(osc, energy))
    np.testing.assert_allclose(batched, loop, atol=1e-14)
    np.testing.assert_allclose(vm, loop, atol=1e-14)
    np.testing.assert_allclose(jitted, loop[0], atol=1e-14)
    # vmap over parameter points and over energies (2-D energy arrays keep their shape)
    th = jnp.array([0.5, 0.6, 0.7])
    f = lambda t: oscillation_probability(  # noqa: E731
        OscParams(t, osc.theta13, osc.theta23, osc.delta_cp, osc.dm21, osc.dm31), energy, lays[0]
    )
    np.testing.assert_allclose(
        np.asarray(jax.vmap(f)(th)), np.stack([np.asarray(f(t)) for t in th]), atol=1e-14
    )
    p2 = oscillation_probability(osc, energy.reshape(7, 1) * jnp.ones((1, 2)), lays[0])
    assert p2.shape == (7, 2, 3, 3)


def test_no_retrace_across_parameter_values(rng):
    """One compilation serves new parameter values and new layer values of the same shape."""
    import equinox as eqx

    f = eqx.debug.assert_max_traces(
        lambda o, e, lay: oscillation_probability(o, e, lay), max_traces=1
    )
    f = jax.jit(f)
    energy = jnp.geomspace(0.3, 10, 5)
    for _ in range(3):
        f(_random_osc(rng), energy, _random_layers(rng, 4))


def test_presets():
    """NuFIT 6.0 preset (Esteban et al., JHEP 12 (2024) 216, Table: NO with SK)."""
    osc = OscParams.nufit()
    np.testing.assert_allclose(np.sin(float(osc.theta12)) ** 2, 0.308, rtol=1e-4)
    np.testing.assert_allclose(float(osc.dm31), 2.513e-3)
    io = OscParams.nufit("inverted", version="5.2")
    assert float(io.dm31) < 0
    with pytest.raises(nsijax.errors.InvalidParamsError):
        OscParams.nufit(version="0.1")
    u = np.asarray(osc.pmns())
    np.testing.assert_allclose(u @ np.conj(u).T, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(
        u, pmns_np(float(osc.theta12), float(osc.theta13), float(osc.theta23), float(osc.delta_cp)), atol=1e-15
    )


def test_hamiltonian_reference_helper_consistency():
    """The test's own Hamiltonian has the documented V_CC prefactor (7.63e-14 eV per g/cm^3 Y_e)."""
    osc = OscParams(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    h = hamiltonian_np(osc, 1.0, 1.0, 1.0, np.zeros((3, 3)))
    np.testing.assert_allclose(h[0, 0], 7.63e-14, rtol=2e-3)
