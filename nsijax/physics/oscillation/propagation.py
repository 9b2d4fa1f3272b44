"""Three-flavour propagation through layers of constant density (standard matter + NSI)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from ..._checks import finite, positive
from ...constants import KM_TO_INV_EV, V_CC_EV_PER_GCC
from ...errors import InvalidInputError, InvalidParamsError
from ...parameters.nsi import NSI
from ...parameters.oscillation import OscParams, mass_matrix_flavour
from . import _kernel as kern
from .layers import Layers

#: Vacuum term: U M U^dagger / (2E) with E in GeV, M in eV^2, converted to km^-1.
_KIN_PER_GEV = KM_TO_INV_EV / 2.0e9
#: Matter term: V_CC in km^-1 per (g/cm^3 * Y_e).
_VCC_PER_KM = V_CC_EV_PER_GCC * KM_TO_INV_EV


def _kinetic(osc: OscParams, antineutrino: bool) -> kern.Herm:
    """Traceless part of U diag(0, dm21, dm31) U^dagger / 2 [km^-1 GeV] (conjugated for anti-nu)."""
    a = mass_matrix_flavour(osc) * _KIN_PER_GEV
    if antineutrino:
        a = jnp.conj(a)
    return kern.Herm.from_matrix(a).traceless()


def _matter(layers: Layers, nsi: NSI | None, antineutrino: bool) -> kern.Herm:
    """Traceless part of V_CC [diag(1,0,0) + eps(Y_n)] per layer [km^-1] (minus its conjugate for anti-nu)."""
    v = _VCC_PER_KM * layers.density_gcc * layers.ye
    if nsi is None:
        z = jnp.zeros_like(v)
        m = kern.Herm(v, z, z, z + 0j, z + 0j, z + 0j)
    else:
        e = nsi.matter_components(layers.yn)  # (..., n, 9)
        m = kern.Herm(
            v * (1.0 + e[..., 0]),
            v * e[..., 1],
            v * e[..., 2],
            v * jax.lax.complex(e[..., 3], e[..., 4]),
            v * jax.lax.complex(e[..., 5], e[..., 6]),
            v * jax.lax.complex(e[..., 7], e[..., 8]),
        )
    if antineutrino:
        m = kern.Herm(-m.d0, -m.d1, -m.d2, -jnp.conj(m.x), -jnp.conj(m.y), -jnp.conj(m.z))
    return m.traceless()


#: Elements (energy x path pairs) per chunk: the per-layer working set of a chunk stays in cache, which
#: on CPU is ~2.5x faster than streaming whole arrays through XLA's separate fusions. A chunk is laid
#: out as (CHUNK_ROWS, n / CHUNK_ROWS) so that XLA:CPU can split each fusion over threads.
CHUNK = 16384
#: Chunk for multi-layer paths: the scan carry (9 complex per element) must stay in L2.
CHUNK_LAYERED = 4096
CHUNK_ROWS = 4


def _chunk_size(total: int, target: int = CHUNK) -> int:
    """A chunk size near ``target`` that divides ``total`` (no padding, no output copy), else target.

    Chunking is a CPU cache optimisation; on accelerators the whole batch is one chunk.
    """
    if total <= target or jax.default_backend() != "cpu":
        return total
    for d in range(0, target // 2):
        for c in (target - d, target + d):
            if total % c == 0 and c % CHUNK_ROWS == 0:
                return c
    return target


def _chunk_amplitude(kin, energy, layer_xs, layer_fn):
    """S (9-tuple of arrays shaped like ``energy``) through the layers of a chunk.

    ``layer_xs`` is a pytree with a leading layer axis, scanned over; ``layer_fn(x)`` turns one layer's
    slice into (matter SoA, length) broadcastable against ``energy`` (a gather for path batches).
    """
    inv_e = 1.0 / energy
    k = kin.scale(inv_e)
    n_layers = jax.tree_util.tree_leaves(layer_xs)[0].shape[0]
    if n_layers == 1:
        m, length = layer_fn(jax.tree_util.tree_map(lambda a: a[0], layer_xs))
        return kern.expm_herm(k + kern.Herm(*m), length)

    def step(s, x):
        m, length = layer_fn(x)
        w = kern.expm_herm(k + kern.Herm(*m), length)
        return kern.matmul(w, s), None

    s, _ = jax.lax.scan(step, kern.identity9(inv_e), layer_xs)
    return s


def _evolve(osc, energy, layers, nsi, antineutrino, out_fn):
    """Apply ``out_fn`` to S for every (path, energy) pair, chunked; returns (n_paths, n_energies, ...)."""
    kin = _kinetic(osc, antineutrino)
    mat = _matter(layers, nsi, antineutrino)  # arrays (..., n)
    n_layers = layers.n_layers
    mat = tuple(m.reshape(-1, n_layers) for m in mat)
    lengths = layers.length_km.reshape(-1, n_layers)
    n_paths, n_e = lengths.shape[0], energy.shape[0]
    total = n_paths * n_e
    chunk = _chunk_size(total, CHUNK if n_layers == 1 else CHUNK_LAYERED)
    n_chunks = -(-total // chunk)
    rows = CHUNK_ROWS if chunk % CHUNK_ROWS == 0 else 1

    def body(start):
        idx = start + jnp.arange(chunk).reshape(rows, chunk // rows)
        idx = jnp.minimum(idx, total - 1)  # padding repeats the last element
        p, j = idx // n_e, idx % n_e
        e = energy[j]
        layer_xs = (tuple(x.T for x in mat), lengths.T)  # (n_layers, n_paths)
        if n_paths == 1:
            layer_fn = lambda x: (tuple(v[0] for v in x[0]), x[1][0])  # noqa: E731
        else:
            layer_fn = lambda x: (tuple(v[p] for v in x[0]), x[1][p])  # noqa: E731
        amp = _chunk_amplitude(kin, e, layer_xs, layer_fn)
        out = out_fn(amp)
        return out.reshape((chunk,) + out.shape[2:])

    if n_chunks == 1:
        out = body(0)
    else:
        # rematerialise each chunk in the backward pass: its residuals stay in cache instead of being
        # written for all elements (reverse mode is memory-bound otherwise)
        out = jax.lax.map(jax.checkpoint(body), jnp.arange(n_chunks) * chunk)
        out = out.reshape((n_chunks * chunk,) + out.shape[2:])[:total]
    return out.reshape((n_paths, n_e) + out.shape[1:])


def _validate(osc, energy_gev, layers, nsi):
    if not isinstance(osc, OscParams):
        raise InvalidParamsError(f"osc must be an OscParams, got {type(osc).__name__}")
    if not isinstance(layers, Layers):
        raise InvalidInputError(f"layers must be a nsijax Layers, got {type(layers).__name__}")
    if nsi is not None and not isinstance(nsi, NSI):
        raise InvalidParamsError(
            f"nsi must be None or an nsijax.NSI (which checks Hermiticity), got {type(nsi).__name__}"
        )
    energy = positive(energy_gev, "energy_gev", "GeV")
    osc = jax.tree_util.tree_map(lambda x: finite(x, "OscParams"), osc)
    if nsi is not None:
        nsi = jax.tree_util.tree_map(lambda x: finite(x, "NSI couplings", InvalidParamsError), nsi)
    return osc, energy, layers.validated(), nsi


def _probs_from_s(s):
    # P[a, b] = |S[b, a]|^2
    return jnp.stack([kern._abs2(s[3 * b + a]) for a in range(3) for b in range(3)], axis=-1)


def _amps_from_s(s):
    return jnp.stack(s, axis=-1)


def _batched(out_fn, osc, energy, layers, nsi, antineutrino):
    """Flatten energies and path batches, evolve, restore ``batch + energy.shape + (3, 3)``."""
    out = _evolve(osc, energy.reshape(-1), layers, nsi, antineutrino, out_fn)
    return out.reshape(layers.length_km.shape[:-1] + energy.shape + (3, 3))


@eqx.filter_jit
def _probability_jit(osc, energy, layers, nsi, antineutrino):
    return _batched(_probs_from_s, osc, energy, layers, nsi, antineutrino)


@eqx.filter_jit
def _amplitude_jit(osc, energy, layers, nsi, antineutrino):
    return _batched(_amps_from_s, osc, energy, layers, nsi, antineutrino)


def oscillation_probability(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    layers: Layers,
    *,
    nsi: NSI | None = None,
    antineutrino: bool = False,
) -> Float[Array, "*B *E 3 3"]:
    """Flavour-transition probabilities through a layered matter path.

    H = U diag(0, dm21, dm31) U^dagger / 2E + V_CC [diag(1,0,0) + eps(Y_n)] in each layer, with
    eps = eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d (PHYSICS.md); antineutrinos use U^* and
    -V_CC [diag(1,0,0) + eps^*]. Each layer's exp(-i H L) is a closed form (see
    :mod:`nsijax.physics.oscillation._kernel`); the layers multiply in crossing order.

    Args:
        osc: oscillation parameters (radians, eV^2).
        energy_gev: neutrino energies [GeV], any shape, > 0.
        layers: the path (:class:`Layers`); leading dimensions of its arrays are path batches.
        nsi: :class:`~nsijax.NSI` couplings, or None for the Standard Model.
        antineutrino: static flag.

    Returns:
        ``layers batch shape + energy_gev.shape + (3, 3)`` with ``P[..., a, b] = P(nu_a -> nu_b)``
        (0 = e, 1 = mu, 2 = tau).

    Raises:
        InvalidInputError / InvalidParamsError eagerly, or an equinox runtime error under ``jit``,
        for non-positive energies, negative lengths or densities, Y_e outside [0, 1], non-finite
        parameters.
    """
    osc, energy, layers, nsi = _validate(osc, energy_gev, layers, nsi)
    return _probability_jit(osc, energy, layers, nsi, bool(antineutrino))


def oscillation_amplitude(
    osc: OscParams,
    energy_gev: Float[Array, "*E"],
    layers: Layers,
    *,
    nsi: NSI | None = None,
    antineutrino: bool = False,
) -> Complex[Array, "*B *E 3 3"]:
    """Evolution matrix S with S[..., b, a] = <nu_b | S | nu_a>, up to a global phase per path.

    Same arguments as :func:`oscillation_probability`; ``|S[..., b, a]|^2 = P(nu_a -> nu_b)``. The
    overall phase (trace of H, and a scalar per layer) is dropped: it never changes a probability.
    """
    osc, energy, layers, nsi = _validate(osc, energy_gev, layers, nsi)
    return _amplitude_jit(osc, energy, layers, nsi, bool(antineutrino))
