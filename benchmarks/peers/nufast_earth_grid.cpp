// NuFast-Earth peer for the atmospheric grid benchmark (benchmarks/atmospheric.py, case grid_sm).
//
// Build (NUFAST_EARTH_DIR = a checkout of github.com/PeterDenton/NuFast-Earth, MIT licence; its
// src/main.cpp and src/examples/ are not needed):
//   g++ -O3 -march=native -std=c++17 -I"$NUFAST_EARTH_DIR/include" benchmarks/peers/nufast_earth_grid.cpp "$NUFAST_EARTH_DIR"/src/Earth.cpp "$NUFAST_EARTH_DIR"/src/Geometry.cpp "$NUFAST_EARTH_DIR"/src/NuFastEarth.cpp "$NUFAST_EARTH_DIR"/src/Oscillation.cpp "$NUFAST_EARTH_DIR"/src/Solar.cpp -o /tmp/nufast_earth_grid
// (equivalently: every $NUFAST_EARTH_DIR/src/*.cpp except main.cpp, as benchmarks/atmospheric.py does)
// Run:  /tmp/nufast_earth_grid n_energy n_coszen repeats
//
// Grid: n_energy log-equal cells on [1, 1000] GeV (geometric cell centres) x n_coszen equal cells on
// [-1, 1] (cell centres). Parameters: NuFit-6-like s12^2 = 0.307, s13^2 = 0.02195, s23^2 = 0.561,
// delta = 177 deg, dm21 = 7.49e-5 eV^2, dm31 = 2.534e-3 eV^2 (normal ordering). Earth: the model the
// NuFast-Earth user guide recommends and its examples use, PREM_NDiscontinuityLayer(2, 10, 10, 5):
// 27 constant-rhoYe shells (inner core 2, outer core 10, lower mantle 10, upper mantle 5 equal-thickness
// shells, R_E = 6371 km), each with the full-PREM density at its mid radius times Ye = 0.466 (core,
// r < 3480 km) or 0.494 (mantle). Detector 2 km deep, production height 20 km (a vacuum segment),
// eigenvalue precision 1 (the library default: one Newton step on the DMP eigenvalue).
//
// Timed "full recompute": per repeat, the spectra are set again (which discards NuFast-Earth's cached
// trajectories, eigensystems and amplitudes) and all 9 probabilities are computed at every grid point for
// nu and then nu-bar (the nu-bar pass reuses the trajectories of the nu pass: Set_neutrino_mode keeps them).
// Single thread. Output: one JSON line (the benchmark reads the first line starting with '{'), then
// JSON lines for the cross-check and for the time with the geometry cached.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "Earth.h"
#include "Matrix.h"
#include "NuFastEarth.h"

using namespace NuFast;
using Grid = std::vector<std::vector<Matrix3r>>;  // [energy][cosz], arr[a][b] = P(nu_a -> nu_b)

static constexpr double S12SQ = 0.307, S13SQ = 0.02195, S23SQ = 0.561, DELTA = 177. * M_PI / 180.;
static constexpr double DM21 = 7.49e-5, DM31 = 2.534e-3;
static constexpr double DETECTOR_DEPTH_KM = 2., PRODUCTION_HEIGHT_KM = 20.;

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// one full nu + nubar evaluation; resets the spectra first when `reset_geometry` (drops every cache)
static void compute(Probability_Engine &pe, const std::vector<double> &Es, const std::vector<double> &czs,
                    bool reset_geometry, Grid &nu, Grid &nubar) {
    if (reset_geometry) pe.Set_Spectra(Es, czs);
    pe.Set_Oscillation_Parameters(S12SQ, S13SQ, S23SQ, DELTA, DM21, DM31, true);
    nu = pe.Get_Probabilities();
    pe.Set_neutrino_mode(false);
    nubar = pe.Get_Probabilities();
}

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s n_energy n_coszen repeats\n", argv[0]);
        return 2;
    }
    const int nE = std::atoi(argv[1]), nC = std::atoi(argv[2]), repeats = std::atoi(argv[3]);
    if (nE < 1 || nC < 1 || repeats < 1) {
        std::fprintf(stderr, "n_energy, n_coszen and repeats must be >= 1\n");
        return 2;
    }

    std::vector<double> Es(nE), czs(nC);
    for (int i = 0; i < nE; i++) {  // geometric centre of log cell i on [1, 1000] GeV
        double lo = std::pow(10., 3. * i / nE), hi = std::pow(10., 3. * (i + 1) / nE);
        Es[i] = std::sqrt(lo * hi);
    }
    for (int j = 0; j < nC; j++) {  // centre of cell j on [-1, 1]
        double lo = -1. + 2. * j / nC, hi = -1. + 2. * (j + 1) / nC;
        czs[j] = 0.5 * (lo + hi);
    }

    PREM_NDiscontinuityLayer earth(2, 10, 10, 5);
    Probability_Engine pe;
    pe.Set_Oscillation_Parameters(S12SQ, S13SQ, S23SQ, DELTA, DM21, DM31, true);
    pe.Set_Earth(DETECTOR_DEPTH_KM, &earth);
    pe.Set_Production_Height(PRODUCTION_HEIGHT_KM);
    pe.Set_Spectra(Es, czs);

    Grid nu, nubar;
    compute(pe, Es, czs, true, nu, nubar);  // warm-up

    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        compute(pe, Es, czs, true, nu, nubar);
        best = std::min(best, now() - t0);
    }
    double best_cached = std::numeric_limits<double>::infinity();  // trajectories kept (oscillation recompute only)
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        compute(pe, Es, czs, false, nu, nubar);
        best_cached = std::min(best_cached, now() - t0);
    }

    double checksum = 0., checksum_bar = 0., max_unitarity = 0.;
    for (int i = 0; i < nE; i++)
        for (int j = 0; j < nC; j++) {
            checksum += nu[i][j].arr[1][1];
            checksum_bar += nubar[i][j].arr[1][1];
            for (int a = 0; a < 3; a++)
                for (const Grid *g : {&nu, &nubar}) {
                    double row = 0.;
                    for (int b = 0; b < 3; b++) row += (*g)[i][j].arr[a][b];
                    max_unitarity = std::max(max_unitarity, std::fabs(row - 1.));
                }
        }

    std::printf("{\"code\": \"NuFast-Earth\", \"n_energy\": %d, \"n_coszen\": %d, \"seconds_per_grid\": %.6e, "
                "\"threads\": 1, \"checksum\": %.15g, \"earth_model\": \"PREM_NDiscontinuityLayer(2,10,10,5): 27 "
                "constant shells, full-PREM rho at shell mid radius, Ye 0.466 core / 0.494 mantle, R_E 6371 km, "
                "detector depth 2 km, production height 20 km (vacuum), eigenvalue precision 1\"}\n",
                nE, nC, best, checksum);

    // cross-check: the grid cell centre nearest (E = 10 GeV, cos z = -0.9), nearest in log E and in cos z,
    // ties to the lower index (the cos z centres of even n_coszen straddle -0.9: the lower one, -0.9 - dcz/2)
    int ie = 0, ic = 0;
    for (int i = 1; i < nE; i++)
        if (std::fabs(std::log(Es[i] / 10.)) < std::fabs(std::log(Es[ie] / 10.)) - 1e-12) ie = i;
    for (int j = 1; j < nC; j++)
        if (std::fabs(czs[j] + 0.9) < std::fabs(czs[ic] + 0.9) - 1e-12) ic = j;
    std::printf("{\"crosscheck\": \"P_mumu_nu at grid cell centre nearest (10 GeV, -0.9)\", \"E_GeV\": %.15g, "
                "\"coszen\": %.15g, \"i_energy\": %d, \"i_coszen\": %d, \"P_mumu\": %.15g, \"P_mumu_bar\": %.15g}\n",
                Es[ie], czs[ic], ie, ic, nu[ie][ic].arr[1][1], nubar[ie][ic].arr[1][1]);

    // the same at exactly (10 GeV, -0.9), from a one-point engine
    Probability_Engine pt;
    pt.Set_Oscillation_Parameters(S12SQ, S13SQ, S23SQ, DELTA, DM21, DM31, true);
    pt.Set_Earth(DETECTOR_DEPTH_KM, &earth);
    pt.Set_Production_Height(PRODUCTION_HEIGHT_KM);
    pt.Set_Spectra({10.}, {-0.9});
    double p_exact = pt.Get_Probabilities()[0][0].arr[1][1];
    std::printf("{\"crosscheck\": \"P_mumu_nu at exactly (10 GeV, -0.9)\", \"E_GeV\": 10, \"coszen\": -0.9, "
                "\"P_mumu\": %.15g}\n", p_exact);

    std::printf("{\"info\": \"extra\", \"seconds_per_grid_geometry_cached\": %.6e, \"checksum_nubar\": %.15g, "
                "\"max_row_sum_error\": %.3e, \"repeats\": %d}\n", best_cached, checksum_bar, max_unitarity, repeats);
    return 0;
}
