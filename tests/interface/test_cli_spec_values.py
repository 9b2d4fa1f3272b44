"""Values the command line uses that an experiment spec holds come from the spec (not from constants
in nsijax/interface/cli.py)."""

import json

import numpy as np

from nsijax import experiments
from nsijax.interface import cli


def test_demo_detector_is_read_from_the_spec(tmp_path, capsys):
    """`nsijax demo` uses the coherent_csi_2017 spec's [source] table (target, mass 14.6 kg, 19.3 m,
    1.76e23 POT, 0.08 nu per flavour per proton, Helm form factor, "pdg" couplings). Identity checked:
    events per keVnr = <dsigma/dT> per formula unit (flux.pion_dar_recoil_spectrum with the spec's form
    factor and couplings) x r N_POT / (4 pi L^2) x (mass / molar mass) N_A x 1e-3, to 1e-12."""
    import jax.numpy as jnp

    from nsijax import constants
    from nsijax.physics.scattering import targets
    from nsijax.physics.sources import pion_dar as flux

    src = experiments.spec("coherent_csi_2017")["source"]
    assert cli.main(["demo", "--points", "3", "--output", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    data = json.loads((tmp_path / "demo_spectra.json").read_text())
    det = data["inputs"]["detector"]
    assert det == {"experiment": "coherent_csi_2017", "target": src["target"], "mass_kg": src["mass_kg"],
                   "distance_m": src["distance_m"], "pot": src["protons_on_target"],
                   "nu_per_proton": src["nu_per_proton"], "form_factor": src["form_factor"],
                   "couplings": src["couplings"]}
    assert f"{src['mass_kg']:g} kg" in stdout and f"{src['distance_m']:g} m" in stdout
    t_kev = np.asarray(data["T_kev"])
    n_formula = src["mass_kg"] * 1e3 / targets.get_target(src["target"]).molar_mass_g * constants.N_AVOGADRO
    fluence = flux.flux_at(src["distance_m"], src["protons_on_target"], src["nu_per_proton"])
    ref = flux.pion_dar_recoil_spectrum(jnp.asarray(t_kev) * 1e-3, src["target"], form_factor=src["form_factor"],
                                        couplings=src["couplings"]) * fluence * n_formula * 1e-3
    np.testing.assert_allclose(data["events_per_kev"]["SM"], np.asarray(ref), rtol=1e-12)


def test_cli_holds_no_detector_constants():
    """The CsI 2017 exposure numbers live in its spec only (the CLI used to carry 14.57 kg, 1.76e23 POT)."""
    import inspect

    text = inspect.getsource(cli)
    for literal in ("14.57", "14.6", "1.76e23", "19.3"):
        assert literal not in text, literal
