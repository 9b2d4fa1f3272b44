"""The command line: the main job end to end on tiny grids, settings files and clear errors."""

import json
import subprocess
import sys

import pytest

from nsijax.interface import cli


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "nsijax.interface.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=1200)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("fit", "scan", "sample", "experiments", "demo"):
        assert cmd in out.stdout


def test_cli_imports_without_matplotlib():
    """The command line imports nsijax (and plotting) at module level; matplotlib only when it plots, so
    the CLI works without it (here: matplotlib made unimportable)."""
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from nsijax.interface import cli, plotting\n"
            "assert cli.plotting is plotting and not cli._have_matplotlib()\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]
    assert "skipping plots" in out.stderr


def test_demo_prints_spectra(tmp_path):
    out = run("demo", "--points", "4", "--output", str(tmp_path))
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "demo_spectra.json").read_text())
    assert set(data["events_per_kev"]) == {"SM", "eps^u_ee=0.2", "eps^d_ee=-0.2"}


@pytest.mark.slow  # CLI end to end: the main job
def test_fit_main_job_tiny(tmp_path):
    """`nsijax fit` with a settings file on tiny grids writes the summary, the scans and the plots."""
    cfg = tmp_path / "fit.toml"
    cfg.write_text("[fit]\nn_1d = 5\nn_2d = 3\nn_mass = 2\nn_g = 3\nzprime_presets = ['B-L']\n")
    out_dir = tmp_path / "out"
    out = run("fit", "--config", str(cfg), "--output", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["standard_model"]["chi2"] > 0
    assert set(summary["profiles_1d"]) == {"eps_u_ee", "eps_d_ee"}
    assert summary["inputs"]["config"]["n_1d"] == 5
    for name in ("profile_eps_u_ee.png", "profile_eps_d_ee.png", "profile_eps_u_ee-eps_d_ee.png", "zprime_exclusion.png",
                 "profile_eps_u_ee.json", "profile_eps_u_ee.npz", "zprime_B-L.json"):
        assert (out_dir / name).exists(), name
    assert "Standard Model chi2" in out.stdout


@pytest.mark.slow  # CLI end to end: joint fits
def test_fit_joint_tiny(tmp_path):
    """`nsijax fit --joint` on a 3-point theta12 grid with cheap experiments writes its results and plot."""
    cfg = tmp_path / "joint.toml"
    cfg.write_text("[joint]\noscillation = ['borexino_2018']\nscattering = ['charm']\nquarks = ['d']\n"
                   "n_theta12 = 3\ntheta12_min_deg = 34.0\ntheta12_max_deg = 56.0\n")
    out_dir = tmp_path / "joint"
    out = run("fit", "--joint", "--config", str(cfg), "--output", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads((out_dir / "lma_dark.json").read_text())
    res = summary["results"]["d"]
    assert set(res) == {"oscillation", "joint"}
    assert res["oscillation"]["dark"]["theta12_deg"] == 56.0 and res["oscillation"]["lma"]["theta12_deg"] == 34.0
    assert (out_dir / "lma_dark.png").exists() and (out_dir / "lma_dark_d_joint.npz").exists()
    assert "Delta chi2(dark - LMA)" in out.stdout


@pytest.mark.slow  # CLI end to end: DUNE fits
def test_fit_dune_nsi_tiny(tmp_path):
    """`nsijax fit --dune-nsi` with one coupling on a 3-point grid writes its summary, profile and plot."""
    cfg = tmp_path / "dune.toml"
    cfg.write_text("[dune_nsi]\ncouplings = ['ee_minus_mumu']\nn_diagonal = 3\ndiagonal_min = -0.5\n"
                   "diagonal_max = 0.5\n")
    out_dir = tmp_path / "dune"
    out = run("fit", "--dune-nsi", "--config", str(cfg), "--output", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads((out_dir / "dune_nsi.json").read_text())
    (lo, hi), = summary["results"]["ee_minus_mumu"]["interval_90cl"]
    assert -0.5 < lo < 0.0 < hi < 0.5
    assert (out_dir / "dune_nsi.png").exists() and (out_dir / "dune_nsi_ee_minus_mumu.npz").exists()
    assert "90% CL (1 dof)" in out.stdout


@pytest.mark.slow  # CLI end to end: DeepCore fits
def test_fit_atmospheric_nsi_tiny(tmp_path):
    """`nsijax fit --atmospheric-nsi` with eps_mutau on a 3-point grid (one octant start, a 50 x 50 true grid)
    writes its summary, profile and plot; eps_mutau = 0 is inside the 90 % CL interval and +-0.01 (eps^d)
    outside (IceCube's DeepCore limit is [-0.0067, 0.0081], arXiv:1709.07079)."""
    cfg = tmp_path / "atm.toml"
    cfg.write_text("[atmospheric_nsi]\ncouplings = ['mutau']\nn_points = 3\nmutau_max = 0.01\n"
                   "theta23_starts_deg = [46.0]\nfit_tol = 1e-3\ntrue_grid = [50, 50]\n")
    out_dir = tmp_path / "atm"
    out = run("fit", "--atmospheric-nsi", "--config", str(cfg), "--output", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads((out_dir / "atmospheric_nsi.json").read_text())
    (lo, hi), = summary["results"]["mutau"]["interval_90cl"]
    assert -0.01 < lo < 0.0 < hi < 0.01
    assert (out_dir / "atmospheric_nsi.png").exists() and (out_dir / "atmospheric_nsi_mutau.npz").exists()
    assert "published" in out.stdout


@pytest.mark.slow  # CLI end to end: Dresden-II profiles
def test_fit_cevns_properties_tiny(tmp_path):
    """`nsijax fit --cevns-properties` with mu_nu_e from Dresden-II on 5 points writes its summary, scan and plot;
    the SM (mu = 0) is the best point and the 90 % CL bound falls inside the range (ours 3.6e-10 mu_B)."""
    cfg = tmp_path / "em.toml"
    cfg.write_text("[cevns_properties]\nexperiments = ['dresden_ii_2022']\nparameters = ['mu_nu_e']\nn_points = 5\n"
                   "ranges = {mu_nu_e = [0.0, 8e-10]}\n")
    out_dir = tmp_path / "em"
    out = run("fit", "--cevns-properties", "--config", str(cfg), "--output", str(out_dir), "--quiet")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    summary = json.loads((out_dir / "cevns_properties.json").read_text())
    r = summary["results"]["mu_nu_e"]
    (lo, hi), = r["interval_90cl"]
    assert r["best_fit"] == 0.0 and lo == 0.0 and 2e-10 < hi < 6e-10
    assert (out_dir / "profile_mu_nu_e.png").exists() and (out_dir / "profile_mu_nu_e.npz").exists()
    assert "90% CL (1 dof)" in out.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["fit", "--experiments", "coherent_nai"], "unknown experiments"),
        (["fit", "--zprime", "B+L"], "unknown Z' presets"),
        (["fit", "--config", "/nonexistent.toml"], "not found"),
        (["scan", "--param", "eps_u_xx=-1:1:5"], "unknown parameter names"),
        (["scan", "--param", "eps_u_ee=1:-1:5"], "lo < hi"),
        (["scan", "--param", "eps_u_ee=-1:1"], "needs name=lo:hi:n"),
        (["sample", "--param", "eps_u_ee=-1:1:5"], "prior bounds"),
        (["fit", "--joint", "--zprime", "B-L"], "does not apply"),
        (["fit", "--joint", "--experiments", "coherent_csi_2021"], "oscillation must list"),
        (["fit", "--joint", "--experiments", "coherent_nai"], "unknown experiment"),
        (["fit", "--dune-nsi", "--zprime", "B-L"], "do not apply"),
        (["fit", "--atmospheric-nsi", "--experiments", "dune_tdr"], "do not apply"),
        (["fit", "--cevns-properties", "--zprime", "B-L"], "do not apply"),
    ],
)
def test_bad_settings_fail_clearly(args, message):
    with pytest.raises(SystemExit, match=message):
        cli.main(args)


def test_bad_config_keys(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[fit]\nn_grid = 5\n")
    with pytest.raises(SystemExit, match="unknown settings"):
        cli.main(["fit", "--config", str(cfg)])
    cfg.write_text("[scan]\nparam = []\n")
    with pytest.raises(SystemExit, match="unknown tables"):
        cli.main(["fit", "--config", str(cfg)])


def _sample(tmp_path, capsys, *extra):
    out_dir = tmp_path / "post"
    rc = cli.main(["sample", "--param", "eps_u_ee=-0.5:0.5", "--experiments", "coherent_csi_2017", "--samples", "8",
                   "--warmup", "8", "--chains", "1", "--quiet", "--output", str(out_dir), *extra])
    assert rc == 0
    return json.loads((out_dir / "posterior_summary.json").read_text()), out_dir, capsys.readouterr().out


@pytest.mark.slow  # CLI end to end: NUTS
def test_sample_default_samples_the_nuisance_pulls(tmp_path, capsys):
    """Default `nsijax sample`: every nuisance pull of the experiment is a sample site with its N(0,1)
    prior (the joint posterior, as notebooks/04_posterior_sampling.ipynb), and the outputs say so."""
    import numpy as np

    from nsijax import experiments

    summary, out_dir, stdout = _sample(tmp_path, capsys)
    keys = experiments.load("coherent_csi_2017").nuisance_keys
    assert summary["likelihood"] == "marginal (nuisance pulls sampled with N(0,1) priors)"
    assert summary["sampled_nuisances"] == list(keys) and summary["inputs"]["profile_nuisances"] is False
    assert set(summary["summary"]) == {"eps_u_ee", *keys}
    with np.load(out_dir / "samples.npz") as samples:
        assert set(samples.files) == {"eps_u_ee", *keys} and samples[keys[0]].shape == (1, 8)
        assert np.all(np.isfinite(samples[keys[0]])) and np.ptp(samples[keys[0]]) > 0  # the pull moves
    assert "likelihood: marginal (nuisance pulls sampled with N(0,1) priors)" in stdout


@pytest.mark.slow  # CLI end to end: NUTS
def test_sample_profile_nuisances_flag_says_not_a_posterior(tmp_path, capsys):
    """`nsijax sample --profile-nuisances` samples the profile likelihood: only the chosen parameters
    are sample sites, and the JSON and the printed summary say it is not a Bayesian posterior."""
    import numpy as np

    summary, out_dir, stdout = _sample(tmp_path, capsys, "--profile-nuisances")
    label = "profiled (nuisances profiled at each step; not a Bayesian posterior)"
    assert summary["likelihood"] == label and summary["sampled_nuisances"] == []
    assert summary["inputs"]["profile_nuisances"] is True and set(summary["summary"]) == {"eps_u_ee"}
    with np.load(out_dir / "samples.npz") as samples:
        assert set(samples.files) == {"eps_u_ee"}
    assert f"likelihood: {label}" in stdout
