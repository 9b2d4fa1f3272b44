"""Non-standard neutral-current interactions: the ``NSI`` parameter pytree.

Convention (PHYSICS.md; e.g. Farzan & Tortola, Front. Phys. 6, 10 (2018)):

    L_NSI = -2 sqrt(2) G_F eps^{fP}_{ab} [nu_a gamma^mu P_L nu_b] [f gamma_mu P f],

for f = e, u, d and P = L, R. Vector couplings eps^{fV} = eps^{fL} + eps^{fR} enter CEvNS and
oscillations; neutrino-electron scattering needs the electron's chiral couplings separately.

Storage: each of eps^{eL}, eps^{eR}, eps^u (= eps^{uV}), eps^d (= eps^{dV}) is a real vector of nine
components in the order :data:`COMPONENTS`, Hermitian by construction and smooth at eps = 0 (real and
imaginary parts, not modulus and phase), so gradients, optimisers and samplers see nine independent
real numbers per fermion.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from .._checks import check, is_concrete
from ..errors import InvalidParamsError

#: Order of the nine real components of a Hermitian 3x3 coupling matrix.
#: ``emu_re + 1j * emu_im`` is eps_{e mu} (row e, column mu); eps_{mu e} is its conjugate.
COMPONENTS = (
    "ee",
    "mumu",
    "tautau",
    "emu_re",
    "emu_im",
    "etau_re",
    "etau_im",
    "mutau_re",
    "mutau_im",
)

_UPPER = ((0, 1), (0, 2), (1, 2))


def components_to_matrix(v: Float[Array, "... 9"]) -> Complex[Array, "... 3 3"]:
    """Hermitian 3x3 matrix from its nine real components (order :data:`COMPONENTS`)."""
    v = jnp.asarray(v)
    diag = v[..., :3]
    off = v[..., 3::2] + 1j * v[..., 4::2]  # emu, etau, mutau
    z = jnp.zeros(v.shape[:-1], dtype=off.dtype)
    row0 = jnp.stack([diag[..., 0] + z, off[..., 0], off[..., 1]], axis=-1)
    row1 = jnp.stack([jnp.conj(off[..., 0]), diag[..., 1] + z, off[..., 2]], axis=-1)
    row2 = jnp.stack([jnp.conj(off[..., 1]), jnp.conj(off[..., 2]), diag[..., 2] + z], axis=-1)
    return jnp.stack([row0, row1, row2], axis=-2)


def matrix_to_components(m: Complex[Array, "... 3 3"]) -> Float[Array, "... 9"]:
    """Nine real components of a Hermitian matrix (upper triangle and real diagonal)."""
    m = jnp.asarray(m)
    parts = [jnp.real(m[..., i, i]) for i in range(3)]
    for a, b in _UPPER:
        parts += [jnp.real(m[..., a, b]), jnp.imag(m[..., a, b])]
    return jnp.stack(parts, axis=-1)


def _to_components(x, name: str) -> Float[Array, "... 9"]:
    """Accept None, a (..., 3, 3) Hermitian matrix or a (..., 9) real component vector."""
    if x is None:
        return jnp.zeros(9, dtype=jnp.result_type(float))
    if isinstance(x, dict):
        unknown = set(x) - set(COMPONENTS) - {"emu", "etau", "mutau"}
        if unknown:
            raise InvalidParamsError(
                f"{name}: unknown components {sorted(unknown)}; use {COMPONENTS} "
                "or complex 'emu', 'etau', 'mutau'"
            )
        m = jnp.zeros((3, 3), dtype=jnp.result_type(complex))
        idx = {"ee": (0, 0), "mumu": (1, 1), "tautau": (2, 2)}
        for key, (a, b) in idx.items():
            if key in x:
                m = m.at[a, b].set(x[key])
        for key, (a, b) in zip(("emu", "etau", "mutau"), _UPPER):
            val = x.get(key, 0.0) + x.get(key + "_re", 0.0) + 1j * x.get(key + "_im", 0.0)
            m = m.at[a, b].set(val).at[b, a].set(jnp.conj(val))
        return matrix_to_components(m)
    arr = jnp.asarray(x)
    if arr.ndim >= 2 and arr.shape[-2:] == (3, 3):
        scale = jnp.max(jnp.abs(arr), axis=(-2, -1))
        asym = jnp.max(jnp.abs(arr - jnp.conj(jnp.swapaxes(arr, -1, -2))), axis=(-2, -1))
        arr = check(
            arr,
            ~jnp.isfinite(scale) | (asym > 1e-12 * (1.0 + scale)),
            f"{name} must be a finite Hermitian 3x3 matrix (eps_ab = conj(eps_ba)); "
            "got a non-Hermitian or non-finite one",
            InvalidParamsError,
        )
        return matrix_to_components(arr)
    if arr.ndim >= 1 and arr.shape[-1] == 9:
        if jnp.iscomplexobj(arr):
            raise InvalidParamsError(f"{name}: a 9-component vector must be real, got {arr.dtype}")
        arr = arr.astype(jnp.result_type(float))
        return check(arr, ~jnp.isfinite(arr), f"{name} must be finite", InvalidParamsError)
    raise InvalidParamsError(
        f"{name} must be None, a Hermitian (..., 3, 3) matrix, a (..., 9) real vector in the "
        f"order {COMPONENTS}, or a dict of components; got shape {arr.shape}"
    )


class NSI(eqx.Module):
    """NSI couplings eps^{eL}, eps^{eR}, eps^u, eps^d (dimensionless, relative to G_F).

    Args:
        eps_e: electron vector coupling eps^{eV} = eps^{eL} + eps^{eR}. Given alone it is split
            equally between chiralities (pure vector, no axial part).
        eps_u, eps_d: up- and down-quark vector couplings eps^{uV}, eps^{dV}.
        eps_eL, eps_eR: the electron's chiral couplings (keyword-only; exclusive with ``eps_e``).

    Each argument is None (zero), a Hermitian (..., 3, 3) array (complex off-diagonals), a real
    (..., 9) vector in the order :data:`COMPONENTS`, or a dict such as ``{"ee": 0.1, "emu": 0.05j}``.
    Leading dimensions batch parameter points (for ``vmap``).

    Example:
        >>> nsi = NSI(eps_u={"ee": 0.1}, eps_d=jnp.diag(jnp.array([0.0, -0.2, 0.0])))
    """

    eL: Float[Array, "... 9"]
    eR: Float[Array, "... 9"]
    u: Float[Array, "... 9"]
    d: Float[Array, "... 9"]

    def __init__(self, eps_e=None, eps_u=None, eps_d=None, *, eps_eL=None, eps_eR=None):
        if eps_e is not None and (eps_eL is not None or eps_eR is not None):
            raise InvalidParamsError("give either eps_e (vector) or eps_eL/eps_eR (chiral), not both")
        if eps_e is not None:
            half = 0.5 * _to_components(eps_e, "eps_e")
            self.eL = half
            self.eR = half
        else:
            self.eL = _to_components(eps_eL, "eps_eL")
            self.eR = _to_components(eps_eR, "eps_eR")
        self.u = _to_components(eps_u, "eps_u")
        self.d = _to_components(eps_d, "eps_d")

    # -- matrices ----------------------------------------------------------------------------
    @property
    def eps_eL(self) -> Complex[Array, "... 3 3"]:
        return components_to_matrix(self.eL)

    @property
    def eps_eR(self) -> Complex[Array, "... 3 3"]:
        return components_to_matrix(self.eR)

    @property
    def eps_e(self) -> Complex[Array, "... 3 3"]:
        """Electron vector coupling eps^{eV} = eps^{eL} + eps^{eR}."""
        return components_to_matrix(self.eL + self.eR)

    @property
    def eps_u(self) -> Complex[Array, "... 3 3"]:
        return components_to_matrix(self.u)

    @property
    def eps_d(self) -> Complex[Array, "... 3 3"]:
        return components_to_matrix(self.d)

    def matter_components(self, yn) -> Float[Array, "... 9"]:
        """Components of the matter NSI seen by oscillations in neutral matter with Y_n = N_n/N_e.

        eps_ab = eps^e_ab + (2 + Y_n) eps^u_ab + (1 + 2 Y_n) eps^d_ab (PHYSICS.md).
        ``yn`` broadcasts against the parameter batch dimensions.
        """
        yn = jnp.asarray(yn)[..., None]
        return (self.eL + self.eR) + (2.0 + yn) * self.u + (1.0 + 2.0 * yn) * self.d

    def matter(self, yn) -> Complex[Array, "... 3 3"]:
        """Matter NSI matrix eps_ab for oscillations at Y_n (see :meth:`matter_components`)."""
        return components_to_matrix(self.matter_components(yn))

    def __add__(self, other: NSI) -> NSI:
        if not isinstance(other, NSI):
            return NotImplemented
        return _from_components(self.eL + other.eL, self.eR + other.eR, self.u + other.u, self.d + other.d)

    @staticmethod
    def from_components(eL=None, eR=None, u=None, d=None) -> NSI:
        """Build from real (..., 9) component vectors (no validation beyond shape)."""
        z = jnp.zeros(9, dtype=jnp.result_type(float))
        comp = [z if c is None else jnp.asarray(c) for c in (eL, eR, u, d)]
        return _from_components(*comp)

    def is_zero(self) -> bool:
        """True if every coupling is exactly zero (concrete values only)."""
        leaves = (self.eL, self.eR, self.u, self.d)
        if not all(is_concrete(x) for x in leaves):
            return False
        return all(not np.any(np.asarray(x)) for x in leaves)


def _from_components(eL, eR, u, d) -> NSI:
    obj = object.__new__(NSI)
    object.__setattr__(obj, "eL", eL)
    object.__setattr__(obj, "eR", eR)
    object.__setattr__(obj, "u", u)
    object.__setattr__(obj, "d", d)
    return obj
