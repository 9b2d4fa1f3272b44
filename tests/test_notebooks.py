"""Execute every notebook in notebooks/ with fast = True (papermill-style parameters cell).

The notebooks assert their key numbers, so a wrong result fails here, not only an exception.
"""

from pathlib import Path

import pytest

from tests.helpers import require

nbformat = require("nbformat")
nbclient = require("nbclient")

pytestmark = pytest.mark.slow  # executes every notebook end to end

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "agg")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source + "\nfast = True"
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
