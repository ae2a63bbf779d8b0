"""Execute the notebooks against results/ (nbclient) and write each as HTML with its figures embedded (nbconvert), each
figure as a PNG, and a record of what was run from which results.

A notebook's cell that raises stops the run with the notebook and cell named (`NotebookFailed`): a report is never
written from a half-executed notebook. Each executed notebook opens with a cell that names the commit it was
executed at and ends with the table of the files its figures read (`figure_data.READ`), so that every output
carries the provenance of the results it rests on.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lionrepro.provenance import REPO_ROOT, git_commit, provenance, write_json_atomic, write_text_atomic
from lionrepro.report.figures import FIGURE_KEY

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SOURCES_KEY = "lionrepro_sources"  # display metadata that carries a notebook's list of files read


def table(rows: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> None:
    """Display rows (dicts with the same keys) as a table in a notebook."""
    from IPython.display import Markdown, display
    from tabulate import tabulate

    text = tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True) if rows else "(none)"
    display(Markdown(text), metadata=metadata)


def sources() -> None:
    """The table a notebook ends with: every file its figures read, carried as metadata into report.json."""
    from lionrepro.report.figure_data import sources_rows

    rows = sources_rows()
    table(rows, {SOURCES_KEY: rows})


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised: the notebook, the cell and the error."""


@dataclass(frozen=True)
class Executed:
    notebook: Path
    html: Path
    figures: list[Path]
    sources: list[dict[str, Any]]
    wall_s: float


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The notebooks of the report, in their numbered order."""
    return sorted(folder.glob("*.ipynb"))


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def execute(path: Path, out_dir: Path, commit: str, timeout_s: int = 600) -> Executed:
    """Run one notebook from the project root and write `<out_dir>/html/<name>.html` and its figures as
    `<out_dir>/figures/<name>-<figure>.png`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    began = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": "."}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise NotebookFailed(f"{path}: a cell failed:\n{error}") from error
    sources = next((o["metadata"][SOURCES_KEY] for o in _outputs(nb) if SOURCES_KEY in o.get("metadata", {})), [])
    made = "; ".join(sorted({f"{s['file']} (commit {s['commit'][:12]})" for s in sources if s["commit"] != "-"}))
    nb.cells.insert(
        0,
        nbformat.v4.new_markdown_cell(
            f"*Executed by `lionrepro report` at commit `{commit}`, from the paper's data and the results files "
            f"{made or '(none)'}; the last cell lists every file read.*"
        ),
    )
    nb.cells[0]["id"] = "provenance"
    figures = []
    for output in _outputs(nb):
        name = output.get("metadata", {}).get(FIGURE_KEY)
        if name and "image/png" in output.get("data", {}):
            figure = out_dir / "figures" / f"{path.stem}-{name}.png"
            figure.parent.mkdir(parents=True, exist_ok=True)
            figure.write_bytes(base64.b64decode(output["data"]["image/png"]))
            figures.append(figure)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    html = out_dir / "html" / f"{path.stem}.html"
    write_text_atomic(html, body)
    return Executed(path, html, figures, sources, time.perf_counter() - began)


def run_report(
    out_dir: Path = NOTEBOOKS_DIR, folder: Path = NOTEBOOKS_DIR, say: Callable[[str], None] = print
) -> list[Executed]:
    """Every notebook executed and written; stale figures of these notebooks removed first; `report.json` records
    the commit, each notebook's outputs, the files they read and the time taken."""
    commit = git_commit()
    began = time.perf_counter()
    done = []
    for path in notebooks(folder):
        for stale in (out_dir / "figures").glob(f"{path.stem}-*.png"):
            stale.unlink()
        say(f"[report] {path.name}")
        executed = execute(path, out_dir, commit)
        say(f"  {executed.html} and {len(executed.figures)} figures in {executed.wall_s:.1f} s")
        done.append(executed)
    write_json_atomic(
        out_dir / "report.json",
        {
            "provenance": provenance(stage="report", wall_s=time.perf_counter() - began),
            "notebooks": {
                e.notebook.name: {
                    "html": str(e.html.relative_to(out_dir)),
                    "figures": [str(f.relative_to(out_dir)) for f in e.figures],
                    "read": e.sources,
                    "wall_s": round(e.wall_s, 1),
                }
                for e in done
            },
        },
    )
    return done
