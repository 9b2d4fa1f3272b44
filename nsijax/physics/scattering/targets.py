"""Scattering targets: natural isotope mixtures, nuclear masses and atomic electron shells.

Sources:
    Isotopic abundances: CIAAW/IUPAC "Isotopic compositions of the elements 2013",
        J. Meija et al., Pure Appl. Chem. 88, 293 (2016) (representative values; Ar atmospheric).
    Atomic masses: AME2020, M. Wang et al., Chinese Phys. C 45, 030003 (2021).
    Electron binding energies: X-ray Data Booklet (LBNL, 2009), Table 1-1 (J. A. Bearden & A. F. Burr,
        Rev. Mod. Phys. 39, 125 (1967)); valence shells from NIST atomic ionisation energies (rounded).

Nuclear mass = atomic mass * u - Z m_e (electron binding neglected, < 1e-6 relative).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ... import constants as c
from ...errors import InvalidInputError

# element -> (Z, [(A, atomic mass in u, abundance fraction), ...])
_ISOTOPES: dict[str, tuple[int, list[tuple[int, float, float]]]] = {
    "C": (6, [(12, 12.0, 0.9893), (13, 13.00335483507, 0.0107)]),
    "F": (9, [(19, 18.99840316207, 1.0)]),
    "Na": (11, [(23, 22.9897692820, 1.0)]),
    "Si": (14, [(28, 27.97692653442, 0.92223), (29, 28.97649466434, 0.04685), (30, 29.973770137, 0.03092)]),
    "Ar": (18, [(36, 35.967545105, 0.003336), (38, 37.96273211, 0.000629), (40, 39.9623831237, 0.996035)]),
    "Ge": (
        32,
        [
            (70, 69.92424875, 0.2057),
            (72, 71.922075826, 0.2745),
            (73, 72.923458956, 0.0775),
            (74, 73.921177761, 0.3650),
            (76, 75.921402726, 0.0773),
        ],
    ),
    "I": (53, [(127, 126.9044719, 1.0)]),
    "Xe": (
        54,
        [
            (124, 123.905892, 0.000952),
            (126, 125.9042983, 0.000890),
            (128, 127.903531, 0.019102),
            (129, 128.9047808611, 0.264006),
            (130, 129.903509349, 0.040710),
            (131, 130.90508406, 0.212324),
            (132, 131.9041550856, 0.269086),
            (134, 133.90539466, 0.104357),
            (136, 135.907214484, 0.088573),
        ],
    ),
    "Cs": (55, [(133, 132.905451961, 1.0)]),
}

#: Element symbols of the known nuclei.
ELEMENTS = tuple(_ISOTOPES)


def check_elements(symbols, exc: type[Exception] = InvalidInputError) -> None:
    """Raise ``exc`` naming every symbol of ``symbols`` that is not a known element (:data:`ELEMENTS`)."""
    unknown = sorted(set(symbols) - set(ELEMENTS))
    if unknown:
        raise exc(f"neutron_radius: unknown elements {unknown}; known: {sorted(ELEMENTS)}")

# element -> [(binding energy in keV, electrons in the (sub)shell), ...]
_SHELLS: dict[str, list[tuple[float, int]]] = {
    "C": [(0.2842, 2), (0.018, 2), (0.0113, 2)],
    "F": [(0.6967, 2), (0.031, 2), (0.0174, 5)],
    "Na": [(1.0708, 2), (0.0635, 2), (0.03065, 6), (0.0051, 1)],
    "Si": [(1.839, 2), (0.1497, 2), (0.0996, 6), (0.0082, 4)],
    "Ar": [(3.2059, 2), (0.3263, 2), (0.2506, 2), (0.2484, 4), (0.0293, 2), (0.0159, 6)],
    "Ge": [
        (11.103, 2), (1.4146, 2), (1.2481, 2), (1.217, 4), (0.1801, 2), (0.1249, 2), (0.1208, 4),
        (0.0298, 4), (0.0292, 6), (0.0079, 4),
    ],
    "I": [
        (33.169, 2), (5.188, 2), (4.852, 2), (4.557, 4), (1.072, 2), (0.931, 2), (0.875, 4), (0.6308, 4),
        (0.6193, 6), (0.186, 2), (0.123, 6), (0.050, 10), (0.0104, 7),
    ],
    "Xe": [
        (34.561, 2), (5.453, 2), (5.107, 2), (4.786, 4), (1.1487, 2), (1.0021, 2), (0.9406, 4), (0.689, 4),
        (0.6764, 6), (0.2132, 2), (0.1467, 2), (0.1455, 4), (0.0695, 4), (0.0675, 6), (0.0233, 2),
        (0.0134, 2), (0.0121, 4),
    ],
    "Cs": [
        (35.985, 2), (5.714, 2), (5.359, 2), (5.012, 4), (1.211, 2), (1.071, 2), (1.003, 4), (0.7405, 4),
        (0.7266, 6), (0.2323, 2), (0.1724, 2), (0.1613, 4), (0.0798, 4), (0.0775, 6), (0.0227, 2),
        (0.0142, 2), (0.0121, 4), (0.0039, 1),
    ],
}

#: Known targets: chemical formula -> {element: atoms per formula unit}.
_FORMULAS: dict[str, dict[str, int]] = {
    "CsI": {"Cs": 1, "I": 1},
    "NaI": {"Na": 1, "I": 1},
    "Ar": {"Ar": 1},
    "Ge": {"Ge": 1},
    "Xe": {"Xe": 1},
    "Si": {"Si": 1},
    "C3F8": {"C": 3, "F": 8},
    "Cs": {"Cs": 1},
    "I": {"I": 1},
    "Na": {"Na": 1},
    "C": {"C": 1},
    "F": {"F": 1},
}


@dataclasses.dataclass(frozen=True, eq=False)
class Target:
    """A target per formula unit: its nuclei (one entry per isotope of each element) and electrons.

    Attributes (NumPy arrays over nuclei): ``Z``, ``N``, ``A`` (mass number), ``mass_mev`` (nuclear
    mass), ``weight`` (nuclei of that isotope per formula unit = atoms x abundance). Electrons:
    ``shell_binding_kev`` and ``shell_electrons`` (per formula unit). ``molar_mass_g`` is g/mol.
    Treated as static data (hashable by name) by jitted functions.
    """

    name: str
    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    mass_mev: np.ndarray
    weight: np.ndarray
    shell_binding_kev: np.ndarray
    shell_electrons: np.ndarray
    molar_mass_g: float

    def __hash__(self):
        return hash(("Target", self.name))

    def __eq__(self, other):
        return isinstance(other, Target) and other.name == self.name

    @property
    def electrons(self) -> int:
        """Electrons per formula unit."""
        return int(self.shell_electrons.sum())

    @property
    def nuclei(self) -> float:
        """Nuclei per formula unit."""
        return float(self.weight.sum())

    @property
    def elements(self) -> tuple[str, ...]:
        """Element symbol of each nucleus entry."""
        by_z = {z: el for el, (z, _) in _ISOTOPES.items()}
        return tuple(by_z[int(z)] for z in self.Z)

    def isotopes(self) -> list[Target]:
        """One single-isotope Target per nucleus entry (same weights), e.g. to integrate each isotope
        up to its own kinematic end point."""
        return [
            dataclasses.replace(
                self,
                name=f"{self.name}[{i}]",
                Z=self.Z[i : i + 1],
                N=self.N[i : i + 1],
                A=self.A[i : i + 1],
                mass_mev=self.mass_mev[i : i + 1],
                weight=self.weight[i : i + 1],
            )
            for i in range(len(self.Z))
        ]


def available() -> list[str]:
    """Names of the known targets."""
    return sorted(_FORMULAS)


def get_target(target: str | Target) -> Target:
    """The :class:`Target` of a known name (e.g. "CsI", "Ar", "Ge"), or ``target`` itself."""
    if isinstance(target, Target):
        return target
    if target not in _FORMULAS:
        raise InvalidInputError(f"unknown target {target!r}; known targets: {', '.join(available())}")
    return _build(target)


_CACHE: dict[str, Target] = {}


def _build(name: str) -> Target:
    if name in _CACHE:
        return _CACHE[name]
    Z, N, A, M, W, B, NE = [], [], [], [], [], [], []
    molar = 0.0
    for el, count in _FORMULAS[name].items():
        z, isotopes = _ISOTOPES[el]
        for a, mass_u, abundance in isotopes:
            Z.append(z)
            N.append(a - z)
            A.append(a)
            M.append(mass_u * c.AMU_MEV - z * c.M_E)
            W.append(count * abundance)
            molar += count * abundance * mass_u
        for b, n in _SHELLS[el]:
            B.append(b)
            NE.append(count * n)
        assert sum(n for _, n in _SHELLS[el]) == z, el
    t = Target(
        name=name,
        Z=np.array(Z, float),
        N=np.array(N, float),
        A=np.array(A, float),
        mass_mev=np.array(M, float),
        weight=np.array(W, float),
        shell_binding_kev=np.array(B, float),
        shell_electrons=np.array(NE, float),
        molar_mass_g=molar,
    )
    _CACHE[name] = t
    return t
