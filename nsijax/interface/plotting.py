"""Publication-style plots of fits and scans (matplotlib, optional dependency ``nsijax[plots]``).

matplotlib is imported inside the plotting functions (:func:`_plt`), so this module imports without it
(the command line imports it at top level and plots only when matplotlib is there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    """matplotlib.pyplot with the Agg backend and the house style (imported here: optional dependency)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 120, "font.size": 10, "axes.grid": True, "grid.alpha": 0.3})
    return plt


LABELS = {
    "eps_u_ee": r"$\varepsilon^{u}_{ee}$",
    "eps_d_ee": r"$\varepsilon^{d}_{ee}$",
    "eps_u_mumu": r"$\varepsilon^{u}_{\mu\mu}$",
    "eps_d_mumu": r"$\varepsilon^{d}_{\mu\mu}$",
}


def profile_1d(result, path: Path, level: float = 2.706, title: str = "") -> Path:
    """Delta chi^2 of a 1D scan with the 68% and 90% CL lines."""
    plt = _plt()
    name = result.names[0]
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.plot(result.axes[0], result.delta_chi2, color="C0")
    for lev, lab in ((1.0, "68% CL"), (level, "90% CL")):
        ax.axhline(lev, ls="--", lw=0.8, color="gray")
        ax.text(result.axes[0][0], lev, f" {lab}", va="bottom", fontsize=8, color="gray")
    ax.set_xlabel(LABELS.get(name, name))
    ax.set_ylabel(r"$\Delta\chi^2$")
    ax.set_ylim(0, max(10.0, 1.2 * level))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def contour_2d(result, path: Path, levels=(2.296, 4.605), title: str = "") -> Path:
    """Delta chi^2 map of a 2D scan with filled 68% and 90% CL regions (2 dof)."""
    plt = _plt()
    x, y = result.axes
    fig, ax = plt.subplots(figsize=(4.5, 4.0))
    ax.contourf(x, y, result.delta_chi2.T, levels=[0, levels[0], levels[1]], colors=["C0", "C9"], alpha=0.7)
    cs = ax.contour(x, y, result.delta_chi2.T, levels=list(levels), colors=["k", "k"], linewidths=[0.8, 1.2])
    ax.clabel(cs, fmt={levels[0]: "68%", levels[1]: "90%"}, fontsize=7)
    ax.set_xlabel(LABELS.get(result.names[0], result.names[0]))
    ax.set_ylabel(LABELS.get(result.names[1], result.names[1]))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def zprime_exclusion(curves: dict, path: Path, title: str = "") -> Path:
    """90% CL exclusion curves g_Z' versus M_Z' (log-log), one solid line per charge preset (refined
    lowest excluded coupling), and dotted Delta chi^2 = 2.706 contours of the coarse grid, which show
    allowed islands above the curve (the universal Z' cancellation band)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 3.8))
    for i, (preset, (res, curve)) in enumerate(curves.items()):
        lm, lg = res.axes
        ax.plot(10.0**lm, 10.0**curve, color=f"C{i}", label=preset)
        ax.contour(10.0**lm, 10.0**lg, res.delta_chi2.T, levels=[2.706], colors=[f"C{i}"], linestyles="dotted", linewidths=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$M_{Z'}$ [MeV]")
    ax.set_ylabel(r"$g_{Z'}$")
    ax.legend(title="90% CL excluded above", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def corner(samples: dict, path: Path, title: str = "") -> Path:
    """A small corner plot (histograms and pairwise scatter) of posterior samples."""
    plt = _plt()
    names = list(samples)
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k + 0.6, 2.2 * k + 0.4), squeeze=False)
    flat = {n: np.asarray(samples[n]).ravel() for n in names}
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
            elif i == j:
                ax.hist(flat[a], bins=40, color="C0", histtype="stepfilled", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.plot(flat[b], flat[a], ",", alpha=0.3, color="C0")
            if i == k - 1:
                ax.set_xlabel(LABELS.get(b, b))
            if j == 0 and i > 0:
                ax.set_ylabel(LABELS.get(a, a))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def coherent_study_plots(out: Path, scans_1d: dict, scan_2d, zprime: dict, config) -> list[Path]:
    """The PNG plots of the main job."""
    exps = " + ".join(config.experiments)
    paths = [profile_1d(r, out / f"profile_{n}.png", config.level_1d, exps) for n, r in scans_1d.items()]
    paths.append(contour_2d(scan_2d, out / "profile_eps_u_ee-eps_d_ee.png", title=exps))
    if zprime:
        paths.append(zprime_exclusion(zprime, out / "zprime_exclusion.png", title=exps))
    return paths
