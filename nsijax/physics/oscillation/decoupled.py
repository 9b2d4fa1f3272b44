"""Earth crossing of solar neutrinos with nu_3 decoupled: closed-form SU(2) evolution of the (nu_1, nu_2)
block, layer by layer (used for the night spectra of SNO; valid where V << dm31 / 2E, i.e. in the Earth
for E up to ~100 MeV).

Units: energies in GeV, lengths in km, as in the rest of :mod:`nsijax.physics.oscillation`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from ...constants import KM_TO_INV_EV, V_CC_EV_PER_GCC
from ...parameters.nsi import NSI, components_to_matrix
from ...parameters.oscillation import OscParams, pmns
from .layers import Layers

#: dm^2/2E [km^-1] per (eV^2 / GeV), and V_CC [km^-1] per (g/cm^3 x Y_e).
_KIN_PER_GEV = KM_TO_INV_EV / 2.0e9
_VCC_PER_KM = V_CC_EV_PER_GCC * KM_TO_INV_EV


def earth_amplitudes(
    osc: OscParams, energy_gev: Float[Array, " E"], layers: Layers, *, nsi: NSI | None = None
) -> Complex[Array, "Z E 3 2"]:
    """Amplitudes A[z, e, a, i] = sum_j U_aj (S_m)_ji of mass state i = nu_1, nu_2 entering the Earth to
    be detected as flavour a, through each path z of ``layers`` (shape (Z, n), padded with zero-length
    layers), at energies ``energy_gev`` (E,).

    S_m is the evolution in the vacuum mass basis restricted to the (nu_1, nu_2) block: in the Earth
    V ~ 1e-3 km^-1 << dm31/2E ~ 0.6 km^-1, so nu_3 decouples; its coupling g_i = (U^dagger V U)_{i3}
    enters the block at second order (-g g^dagger / (dm31/2E)), the neglected nu_3 admixture is
    ~ V/(dm31/2E) ~ 1e-3 and its interference terms oscillate with dm31 L/2E. Against the full
    three-flavour :func:`nsijax.physics.oscillation.oscillation_amplitude`: night P_a within ~1e-4 (standard
    matter) to ~1e-3 (off-diagonal NSI ~ 0.3), SNO counts within 1e-4. Each layer is a closed-form SU(2)
    exponential (Cayley-Klein parameters), the layers a ``lax.scan`` over the padded path (zero-length
    layers are identities). Far cheaper than the 3x3 exponentials, in reverse mode above all. NSI
    (``params.matter_nsi()``) are weighted with each layer's Y_n. No argument checks (hot path of fits).
    """
    u = pmns(osc)
    lengths = layers.length_km  # (Z, n)
    vcc = _VCC_PER_KM * layers.density_gcc * layers.ye  # (Z, n) km^-1
    mat = jnp.zeros(lengths.shape + (3, 3), complex).at[..., 0, 0].set(1.0)
    if nsi is not None:
        mat = mat + components_to_matrix(nsi.matter_components(layers.yn))
    mm = jnp.einsum("ai,znab,bj->znij", jnp.conj(u), mat, u) * vcc[..., None, None]  # (Z, n, 3, 3) mass basis
    kin = osc.dm21 * _KIN_PER_GEV / energy_gev  # (E,)
    # second order in the nu_3 coupling g_i = mm[i, 3]: h_ij -> h_ij - g_i g_j^* / (dm31 / 2E)
    inv3 = energy_gev / (osc.dm31 * _KIN_PER_GEV)  # (E,)
    g1, g2 = mm[..., 0, 2, None], mm[..., 1, 2, None]
    d11 = jnp.real(mm[..., 0, 0, None]) - (jnp.real(g1) ** 2 + jnp.imag(g1) ** 2) * inv3
    d22 = jnp.real(mm[..., 1, 1, None]) - (jnp.real(g2) ** 2 + jnp.imag(g2) ** 2) * inv3
    # traceless block h = [[ha, hb], [hb*, -ha]] for every (z, layer, e)
    ha = 0.5 * (d11 - d22) - 0.5 * kin
    hb = mm[..., 0, 1, None] - g1 * jnp.conj(g2) * inv3
    w2 = ha**2 + jnp.real(hb) ** 2 + jnp.imag(hb) ** 2
    om = jnp.sqrt(jnp.maximum(w2, 1e-300))
    ln = lengths[..., None]
    cs, sn = jnp.cos(om * ln), jnp.sin(om * ln) / om
    al = cs - 1j * ha * sn  # (Z, n, E)
    be = -1j * hb * sn

    def step(s, w):
        sa, sb = s
        a2, b2 = w
        return (a2 * sa - b2 * jnp.conj(sb), a2 * sb + b2 * jnp.conj(sa)), None

    xs = (jnp.moveaxis(al, 1, 0), jnp.moveaxis(be, 1, 0))
    (sa, sb), _ = jax.lax.scan(step, (xs[0][0], xs[1][0]), (xs[0][1:], xs[1][1:]))
    # S_m = [[sa, sb], [-sb*, sa*]]; A[a, i] = U_a1 S_1i + U_a2 S_2i
    s1 = jnp.stack([sa, sb], axis=-1)  # row 1: (Z, E, i)
    s2 = jnp.stack([-jnp.conj(sb), jnp.conj(sa)], axis=-1)
    return u[None, None, :, 0, None] * s1[:, :, None, :] + u[None, None, :, 1, None] * s2[:, :, None, :]
