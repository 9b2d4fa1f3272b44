"""Closed-form exponential of 3x3 Hermitian matrices, structure-of-arrays, with finite derivatives.

A Hermitian matrix is held as six arrays (SoA): real diagonal ``d0, d1, d2`` and complex upper
off-diagonals ``x = T01, y = T02, z = T12``. Every function here is elementwise over those arrays, so
XLA fuses a whole layer (Hamiltonian, eigenvalue, exponential, product) into one loop.

Method (for the traceless part T of H; the trace and one more scalar phase are dropped, since a
scalar factor per layer is a global phase of the amplitude and never changes a probability):

* invariants c1 = tr(T^2)/2 >= 0 and c0 = det T, so that T^3 = c1 T + c0 (Cayley-Hamilton);
* the *isolated* eigenvalue lambda1 (the one farthest from the other two) by the trigonometric
  Cardano formula, lambda1 = sgn(r) 2 s cos(acos|r| / 3), s = sqrt(c1/3), r = c0 / (2 s^3), with a
  custom JVP from the implicit-function theorem, d lambda1 = (lambda1 dc1 + dc0) / (3 lambda1^2 - c1),
  whose denominator is >= 2 c1 > 0 for the isolated root (acos' is singular at r = +-1, this is not);
* the other pair only through its mean m = -lambda1/2 and half-splitting squared
  delta^2 = c1 - 3 lambda1^2 / 4 >= 0 (smooth where lambda1 is isolated, even at a degenerate pair);
* Newton interpolation of f(x) = exp(-i L x) on the nodes (m + delta, m - delta, lambda1), written with
  entire functions of w = (L delta)^2: C(w) = cos(sqrt w), S(w) = sin(sqrt w)/sqrt w (Taylor series
  near w = 0), so that

      exp(-i L T) = e^{-i L m} [ (C - G delta^2) I - i L S T' + G T'^2 ],   T' = T - m I,
      G = (e^{-i L D} + i L D S - C) / (D^2 - delta^2),   D = lambda1 - m = 3 lambda1 / 2

  (G is the second divided difference f[m+delta, m-delta, lambda1] e^{i L m}; D^2 - delta^2 =
  (lambda1 - lambda2)(lambda1 - lambda3) >= 3 s^2 > 0);
* where L s < THRESH (nearly triple-degenerate spectrum, vacuum with dm = 0, zero-length padding
  layers) the exponential is the Taylor series in X = L T reduced by Cayley-Hamilton,
  exp(-iX) = sum_n (-i)^n / n! (alpha_n + beta_n X + gamma_n X^2), a polynomial: smooth everywhere.
  It is evaluated under a batch-level ``lax.cond`` (only when some element needs it).

Speed: no acos/cos (the Cardano cosine is a degree-8 polynomial fit refined by two Newton steps) and
sin/cos by a fused polynomial (:func:`sincos`), since XLA:CPU's transcendental functions are scalar
calls; everything else is multiply-add on structure-of-arrays.

Both branches are exact to round-off and every derivative is finite: no eigenvectors are formed and
no quantity whose derivative is singular at a degeneracy is differentiated. This is the
Cayley-Hamilton / Sylvester form used by Ohlsson & Snellman, J. Math. Phys. 41 (2000) 2768, made
stable at degenerate spectra with confluent divided differences.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

#: Below this L*s (s = spectral radius / 2) the Taylor branch is used.
THRESH = 0.2
#: Number of Taylor terms: (2 * THRESH)^N / N! < 1e-18 for N = 15.
N_TAYLOR = 15
#: Below this w = (L delta)^2 the series for cos(sqrt w) and sin(sqrt w)/sqrt w are used.
W_SERIES = 0.05


class Herm(NamedTuple):
    """3x3 Hermitian matrices as structure of arrays (real diagonal, complex upper triangle)."""

    d0: jax.Array
    d1: jax.Array
    d2: jax.Array
    x: jax.Array  # (0, 1)
    y: jax.Array  # (0, 2)
    z: jax.Array  # (1, 2)

    def __add__(self, other):  # type: ignore[override]
        return Herm(*(a + b for a, b in zip(self, other)))

    def scale(self, f) -> Herm:
        return Herm(*(f * a for a in self))

    def traceless(self) -> Herm:
        t = (self.d0 + self.d1 + self.d2) / 3.0
        return Herm(self.d0 - t, self.d1 - t, self.d2 - t, self.x, self.y, self.z)

    def conj(self) -> Herm:
        return Herm(self.d0, self.d1, self.d2, jnp.conj(self.x), jnp.conj(self.y), jnp.conj(self.z))

    @staticmethod
    def from_matrix(m) -> Herm:
        m = jnp.asarray(m)
        return Herm(
            jnp.real(m[..., 0, 0]),
            jnp.real(m[..., 1, 1]),
            jnp.real(m[..., 2, 2]),
            m[..., 0, 1],
            m[..., 0, 2],
            m[..., 1, 2],
        )


def _abs2(v):
    return jnp.real(v) ** 2 + jnp.imag(v) ** 2


def invariants(t: Herm):
    """c1 = tr(T^2)/2 and c0 = det T of a traceless Hermitian T (real arrays)."""
    ax, ay, az = _abs2(t.x), _abs2(t.y), _abs2(t.z)
    c1 = 0.5 * (t.d0 * t.d0 + t.d1 * t.d1 + t.d2 * t.d2) + ax + ay + az
    xz = t.x * t.z
    re_xzy = jnp.real(xz) * jnp.real(t.y) + jnp.imag(xz) * jnp.imag(t.y)
    c0 = t.d0 * t.d1 * t.d2 + 2.0 * re_xzy - t.d0 * az - t.d1 * ay - t.d2 * ax
    return c0, c1


def _cardano_poly_coeffs(deg: int = 8) -> tuple[float, ...]:
    """Monomial coefficients of a Chebyshev fit of g(t) = cos(acos(t)/3) on [0, 1] (rel. err 2e-9).

    g is analytic on [0, 1] (its nearest singularity is t = -1), so a degree-8 fit plus one Newton
    step on the cubic gives the root to round-off without acos/cos (which XLA:CPU evaluates slowly).
    """
    u = np.cos(np.linspace(0.0, np.pi, 257))
    cheb = np.polynomial.chebyshev.chebfit(u, np.cos(np.arccos(0.5 * (u + 1.0)) / 3.0), deg)
    mono = np.polynomial.Polynomial(np.polynomial.chebyshev.cheb2poly(cheb))(
        np.polynomial.Polynomial([-1.0, 2.0])
    )
    return tuple(float(c) for c in mono.coef)


_G_COEFFS = _cardano_poly_coeffs()


@jax.custom_jvp
def _iso_root(c0, c1):
    """Root of x^3 - c1 x - c0 farthest from the other two (c1 > 0 required).

    Trigonometric Cardano, x = sgn(r) 2 s cos(acos|r| / 3) with s = sqrt(c1/3), r = c0/(2 s^3);
    cos(acos(t)/3) from a polynomial fit, refined by two Newton steps on the cubic.
    """
    s = jnp.sqrt(c1 / 3.0)
    r = jnp.clip(0.5 * c0 / (s * s * s), -1.0, 1.0)
    t = jnp.abs(r)
    g = jnp.zeros_like(t)
    for coef in reversed(_G_COEFFS):
        g = g * t + coef
    lam = 2.0 * s * jnp.where(r >= 0.0, g, -g)
    for _ in range(2):
        lam = lam - (lam * (lam * lam - c1) - c0) / (3.0 * lam * lam - c1)
    return lam


@_iso_root.defjvp
def _iso_root_jvp(primals, tangents):
    c0, c1 = primals
    dc0, dc1 = tangents
    lam = _iso_root(c0, c1)
    return lam, (lam * dc1 + dc0) / (3.0 * lam * lam - c1)


# fdlibm's three-part pi/2 (each of the first two has 33 significant bits, so k * part is exact).
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21


@jax.custom_jvp
def sincos(x):
    """(sin x, cos x) with a vectorisable polynomial (|x| < 1e6 to ~1 ulp of the reduced angle).

    Cody-Waite reduction by pi/2 and Taylor polynomials on [-pi/4, pi/4] (truncation < 1e-19).
    XLA:CPU's sin/cos are several times slower than this fused polynomial.
    """
    k = jnp.round(x * (2.0 / np.pi))
    r = ((x - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    r2 = r * r
    ps = jnp.zeros_like(r2)
    pc = jnp.zeros_like(r2)
    for n in range(9, -1, -1):
        ps = ps * r2 + (-1.0) ** n / math.factorial(2 * n + 1)
        pc = pc * r2 + (-1.0) ** n / math.factorial(2 * n)
    sr = ps * r
    q = k - 4.0 * jnp.floor(0.25 * k)
    swap = (q == 1.0) | (q == 3.0)
    s_ = jnp.where(swap, pc, sr)
    c_ = jnp.where(swap, sr, pc)
    s_ = jnp.where(q >= 2.0, -s_, s_)
    c_ = jnp.where((q == 1.0) | (q == 2.0), -c_, c_)
    return s_, c_


@sincos.defjvp
def _sincos_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    s, c = sincos(x)
    return (s, c), (c * dx, -s * dx)


def _series_cs(w):
    """cos(sqrt w) and sin(sqrt w)/sqrt(w) for w >= 0, smooth (with derivatives) at w = 0."""
    small = w < W_SERIES
    ws = jnp.where(small, 1.0, w)
    r = jnp.sqrt(ws)
    sr, c_dir = sincos(r)
    s_dir = sr / r
    wt = jnp.where(small, w, 0.0)
    # cos: sum (-w)^k/(2k)!, sinc: sum (-w)^k/(2k+1)!, k = 0..6 (Horner)
    c_ser = jnp.zeros_like(wt)
    s_ser = jnp.zeros_like(wt)
    for k in range(6, -1, -1):
        c_ser = c_ser * (-wt) + 1.0 / math.factorial(2 * k)
        s_ser = s_ser * (-wt) + 1.0 / math.factorial(2 * k + 1)
    return jnp.where(small, c_ser, c_dir), jnp.where(small, s_ser, s_dir)


def _taylor_coeffs(c0l, c1l):
    """Coefficients (a0, a1, a2) with exp(-iX) = a0 + a1 X + a2 X^2, X^3 = c1l X + c0l (series)."""
    al, be, ga = jnp.ones_like(c1l), jnp.zeros_like(c1l), jnp.zeros_like(c1l)
    r0, r1, r2 = al, be, ga  # real parts (n even)
    i0, i1, i2 = jnp.zeros_like(c1l), be, ga  # imaginary parts (n odd)
    for n in range(1, N_TAYLOR + 1):
        al, be, ga = c0l * ga / n, (al + c1l * ga) / n, be / n
        ph = [1.0, -1.0j, -1.0, 1.0j][n % 4]
        if ph.imag == 0:
            r0, r1, r2 = r0 + ph.real * al, r1 + ph.real * be, r2 + ph.real * ga
        else:
            i0, i1, i2 = i0 + ph.imag * al, i1 + ph.imag * be, i2 + ph.imag * ga
    return jax.lax.complex(r0, i0), jax.lax.complex(r1, i1), jax.lax.complex(r2, i2)


def expm_coefficients(t: Herm, length):
    """exp(-i L T) up to a scalar phase, as b0 I + b1 T' + b2 T'^2 with T' = T + h I.

    Args:
        t: traceless Hermitian T (SoA arrays, any common broadcast shape); units 1/length.
        length: L, broadcastable against ``t``'s arrays (L >= 0).

    Returns:
        (b0, b1, b2, h): complex coefficients and the real diagonal shift h.
    """
    c0, c1 = invariants(t)
    length = jnp.asarray(length, dtype=c1.dtype)
    l2 = length * length
    small = l2 * c1 < 3.0 * THRESH * THRESH
    # zero-length layers (padding): exp = I - i L T to first order, i.e. exactly I with the exact
    # first derivatives (d/dL = -i T, d/dT = 0); the Taylor branch is then needed only for 0 < L s < THRESH
    zero = length == 0.0
    taylor = small & ~zero
    # --- closed form (isolated eigenvalue + symmetric pair), at safe values elsewhere
    c1s = jnp.where(small, 1.0, c1)
    c0s = jnp.where(small, 0.0, c0)
    lam = _iso_root(c0s, c1s)
    delta2 = jnp.maximum(c1s - 0.75 * lam * lam, 0.0)
    dd = 1.5 * lam
    cw, sw = _series_cs(l2 * delta2)
    ld = length * dd
    sld, cld = sincos(ld)
    inv = 1.0 / (dd * dd - delta2)
    g = jax.lax.complex((cld - cw) * inv, (ld * sw - sld) * inv)
    b0 = cw - g * delta2
    b1 = jax.lax.complex(jnp.zeros_like(sw), -length * sw)
    b2 = g
    h = jnp.where(zero, 0.0, 0.5 * lam)
    b0 = jnp.where(zero, 1.0 + 0.0j, b0)
    b1 = jnp.where(zero, jax.lax.complex(jnp.zeros_like(length), -length), b1)
    b2 = jnp.where(zero, 0.0j, b2)

    # --- Taylor branch in X = L T, only evaluated when some element of the batch needs it
    def with_taylor(args):
        b0, b1, b2, h = args
        c1t = jnp.where(taylor, l2 * c1, 0.0)
        c0t = jnp.where(taylor, l2 * length * c0, 0.0)
        t0, t1, t2 = _taylor_coeffs(c0t, c1t)
        return (
            jnp.where(taylor, t0, b0),
            jnp.where(taylor, t1 * length, b1),
            jnp.where(taylor, t2 * l2, b2),
            jnp.where(taylor, 0.0, h),
        )

    b0, b1, b2, h = jnp.broadcast_arrays(b0, b1, b2, h.astype(b0.dtype))
    b0, b1, b2, h = jax.lax.cond(jnp.any(taylor), with_taylor, lambda a: a, (b0, b1, b2, h))
    h = jnp.real(h)
    return b0, b1, b2, h


def expm_herm(t: Herm, length):
    """exp(-i L T) (up to a scalar phase) of traceless Hermitian T as 9 complex arrays (row-major)."""
    b0, b1, b2, h = expm_coefficients(t, length)
    a, b, c = t.d0 + h, t.d1 + h, t.d2 + h
    x, y, z = t.x, t.y, t.z
    ax, ay, az = _abs2(x), _abs2(y), _abs2(z)
    # T'^2 (Hermitian)
    s00 = a * a + ax + ay
    s11 = ax + b * b + az
    s22 = ay + az + c * c
    s01 = x * (a + b) + y * jnp.conj(z)
    s02 = y * (a + c) + x * z
    s12 = jnp.conj(x) * y + z * (b + c)
    w00 = b0 + b1 * a + b2 * s00
    w11 = b0 + b1 * b + b2 * s11
    w22 = b0 + b1 * c + b2 * s22
    w01 = b1 * x + b2 * s01
    w02 = b1 * y + b2 * s02
    w12 = b1 * z + b2 * s12
    w10 = b1 * jnp.conj(x) + b2 * jnp.conj(s01)
    w20 = b1 * jnp.conj(y) + b2 * jnp.conj(s02)
    w21 = b1 * jnp.conj(z) + b2 * jnp.conj(s12)
    return (w00, w01, w02, w10, w11, w12, w20, w21, w22)


def matmul(p, q):
    """Product of two 3x3 matrices given as row-major 9-tuples of arrays."""
    return tuple(
        p[3 * i] * q[j] + p[3 * i + 1] * q[3 + j] + p[3 * i + 2] * q[6 + j]
        for i in range(3)
        for j in range(3)
    )


def identity9(like):
    one = jnp.ones_like(like, dtype=jnp.result_type(like, 1j))
    zero = jnp.zeros_like(one)
    return (one, zero, zero, zero, one, zero, zero, zero, one)
