"""Physical constants and unit conversions, each with its source.

Python floats only (no JAX arrays at import time). Natural units hbar = c = 1 with energies in MeV
unless the name says otherwise.

Sources:
    PDG 2024: S. Navas et al. (Particle Data Group), Phys. Rev. D 110, 030001 (2024).
    CODATA 2018: E. Tiesinga et al., Rev. Mod. Phys. 93, 025010 (2021).
"""

import math

# --- Couplings -------------------------------------------------------------------------------
#: Fermi constant in MeV^-2 (PDG 2024: 1.1663788(6) x 10^-5 GeV^-2).
G_F = 1.1663788e-11
#: Fine-structure constant at q^2 = 0 (CODATA 2018: 1/137.035999084).
ALPHA = 1.0 / 137.035999084
#: Weak mixing angle sin^2(theta_W), MS-bar at low energy q -> 0 (PDG 2024 electroweak review,
#: Erler & Ferro-Hernandez, JHEP 03 (2018) 196: 0.23857(5)). Used for the tree-level couplings.
SIN2_THETA_W = 0.23857

# --- Masses (MeV) ----------------------------------------------------------------------------
#: Electron mass (CODATA 2018).
M_E = 0.51099895000
#: Muon mass (PDG 2024).
M_MU = 105.6583755
#: Tau mass (PDG 2024).
M_TAU = 1776.93
#: Charged pion mass (PDG 2024).
M_PI = 139.57039
#: W boson mass (PDG 2024 world average 80.3692 GeV).
M_W = 80369.2
#: Proton mass (CODATA 2018).
M_PROTON = 938.27208816
#: Neutron mass (CODATA 2018).
M_NEUTRON = 939.56542052
#: Atomic mass unit (CODATA 2018).
AMU_MEV = 931.49410242

# --- Lifetimes (ns) ----------------------------------------------------------------------------
#: Charged pion mean life (PDG 2024: 2.6033e-8 s).
TAU_PI_NS = 26.033
#: Muon mean life (PDG 2024: 2.1969811e-6 s).
TAU_MU_NS = 2196.9811

# --- Conversions -------------------------------------------------------------------------------
#: hbar*c in MeV fm (CODATA 2018).
HBARC_MEV_FM = 197.3269804
#: hbar*c in MeV cm.
HBARC_MEV_CM = HBARC_MEV_FM * 1e-13
#: (hbar c)^2 in MeV^2 cm^2: multiply a cross section in MeV^-2 by this to get cm^2.
HBARC2_MEV2_CM2 = HBARC_MEV_CM**2
#: Avogadro constant in 1/mol (CODATA 2018, exact).
N_AVOGADRO = 6.02214076e23
#: hbar*c in eV km: 1 km = KM_TO_INV_EV eV^-1.
HBARC_EV_KM = HBARC_MEV_FM * 1e6 * 1e-18
KM_TO_INV_EV = 1.0 / HBARC_EV_KM
#: Bohr magneton is the unit of the neutrino magnetic moment; its size enters only through
#: alpha and m_e in the standard formula (Vogel & Engel, PRD 39, 3378 (1989)).

# --- Derived -------------------------------------------------------------------------------
#: Matter potential prefactor: V_CC = sqrt(2) G_F N_e = V_CC_EV_PER_GCC * rho[g/cm^3] * Y_e, in eV.
#: sqrt(2) G_F (GeV^-2 -> eV^-2) * N_A cm^-3 * (hbar c)^3 in eV^3 cm^3.
V_CC_EV_PER_GCC = (
    math.sqrt(2.0) * (G_F * 1e-12) * N_AVOGADRO * (HBARC_MEV_CM * 1e6) ** 3
)

#: Tree-level neutral-current vector couplings to protons and neutrons (PHYSICS.md):
#: g_V^p = 1/2 - 2 sin^2 theta_W, g_V^n = -1/2.
GV_P_TREE = 0.5 - 2.0 * SIN2_THETA_W
GV_N_TREE = -0.5
#: Radiatively corrected couplings (PDG electroweak review values as used by Cadeddu et al., PRD 102,
#: 015030 (2020), Eq. 4; quoted from that paper, not re-derived here; without the
#: flavour-dependent neutrino charge-radius contribution): g_V^p = 0.0298, g_V^n = -0.5117.
GV_P_RC = 0.0298
GV_N_RC = -0.5117
#: Radiatively corrected nu_mu-e couplings at low momentum transfer, SM predictions of the PDG electroweak review
#: (g_V^{nu e} = -0.0397, g_A^{nu e} = -0.5064; VALUES FROM MEMORY, not re-derived here): g_L = (g_V + g_A)/2,
#: g_R = (g_V - g_A)/2. nu_e adds +1 to g_L (charged current). Tree level with SIN2_THETA_W gives g_L = -0.2614,
#: g_R = 0.2386: the nu_e-e cross section is ~3 % lower with these.
GL_NUE_RC = 0.5 * (-0.0397 - 0.5064)
GR_NUE_RC = 0.5 * (-0.0397 + 0.5064)

#: Pion-decay-at-rest prompt nu_mu energy (m_pi^2 - m_mu^2)/(2 m_pi) in MeV.
E_NU_PROMPT = (M_PI**2 - M_MU**2) / (2.0 * M_PI)
