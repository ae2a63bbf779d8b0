"""Every notebook executes on the committed results (a failing cell fails `make test`), the report writes HTML with
its figures embedded, each figure as a PNG carrying the files it was drawn from, and a failing cell fails the command;
the release figure's printed numbers are checked against the paper's tables."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from lionrepro.asr import recipe_runs
from lionrepro.report import figure_data
from lionrepro.report.notebooks import NotebookFailed, notebooks, run_report
from lionrepro.stages.cli import main

pytestmark = pytest.mark.slow  # ~35 s on 2 cores: five kernels, two of which import torch


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, {e.notebook.name: e for e in run_report(out, say=lambda _: None)}


@pytest.mark.parametrize("notebook", [path.name for path in notebooks()])
def test_every_notebook_executes_and_writes_html_and_figures(report, notebook):
    out, executed = report
    done = executed[notebook]
    html = done.html.read_text(encoding="utf-8")
    assert "Executed by <code>lionrepro report</code> at commit" in html
    assert html.count("data:image/png;base64") >= len(done.figures) >= 1
    for figure in done.figures:
        with Image.open(figure) as image:
            assert image.size[0] > 500
            assert "lionrepro/paper_data" in image.text["Description"] or "results/" in image.text["Description"]
    assert done.sources, "a notebook must end with the list of files it read"
    record = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert record["notebooks"][notebook]["figures"] == [str(f.relative_to(out)) for f in done.figures]
    assert record["provenance"]["stage"] == "report"


def test_notebook_sources_carry_no_outputs():
    """Outputs live in notebooks/html and notebooks/figures, made by `lionrepro report`; the sources stay clean."""
    for path in notebooks():
        nb = nbformat.read(path, 4)
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), path


def test_a_failing_cell_fails_the_command(tmp_path, capsys):
    folder = tmp_path / "books"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('broken on purpose')")])
    nbformat.write(nb, folder / "broken.ipynb")
    with pytest.raises(NotebookFailed, match="broken on purpose"):
        run_report(tmp_path / "out", folder, say=lambda _: None)
    assert main(["report", "--notebooks", str(folder), "--out", str(tmp_path / "out")]) == 1
    assert "broken.ipynb" in capsys.readouterr().err
    assert not (tmp_path / "out" / "html" / "broken.html").exists()


def test_release_figure_numbers_against_the_tables():
    """Each printed number is read against its cell; the two found are named (SeaLLMs' latency, a tie at 14.85)."""
    checks = {(row["panel"], row["figure label"]): row["check"] for row in figure_data.release_figure_check()}
    assert len(checks) == 18
    assert checks.pop(("speed", "SeaLLMs-7B")) == "differs"  # prints 0.508 s, Table 3 says 0.6422
    assert checks.pop(("error", "Polyglot-Lion-1.7B")) == "rounding only"  # prints 14.8, Table 2 says 14.85
    assert set(checks.values()) == {"agrees"}


def test_experiments_folder_is_the_stage_s():
    """figure_data names the experiments' folder and a run's seed folders without importing torch; they must be the
    stage's."""
    assert figure_data.experiments_dir() == recipe_runs.experiments_dir()
    assert figure_data.SUMMARY == recipe_runs.SUMMARY
    assert recipe_runs.seed_dir(Path("root"), "recipe", 2) == Path("root", "recipe", f"{figure_data.SEED_PREFIX}2")
