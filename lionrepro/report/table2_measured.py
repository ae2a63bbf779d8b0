"""Table 2 measured: each released checkpoint evaluated here, beside the paper's row, with the differences.

For every Table 2 model that `lionrepro evaluate` has results for (`asr.checkpoints.evaluations`): the paper's
cells, ours under asr-evalkit's normaliser (the one Table 2 was scored with) and the difference, then ours under
our own normaliser, labelled as such: the two normalisers differ by a few points by themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.report.table_rendering import Table


def _cells(values: dict[str, Any], average: Any) -> list[str]:
    columns = [b.column for b in paper.BENCHMARKS]
    return [f"{float(values[c]):.2f}" if values.get(c) is not None else "-" for c in columns] + [
        "-" if average is None else f"{float(average):.2f}"
    ]


def measured_table2(found: dict[str, tuple[Path, dict[str, Any]]]) -> Table:
    columns = [b.column for b in paper.BENCHMARKS]
    rows = []
    for model, (_, results) in found.items():
        printed = paper.error_row(model)
        evalkit = results["evalkit_normaliser"]
        difference = {
            c: float(evalkit["benchmarks"][c]) - float(printed.cells[c]) for c in columns if c in evalkit["benchmarks"]
        }
        average = evalkit["average_12"]
        rows += [
            [model, "paper (Table 2)", *_cells(printed.cells, printed.avg)],
            [model, "ours, evalkit normaliser", *_cells(evalkit["benchmarks"], average)],
            [model, "ours - paper", *_cells(difference, None if average is None else average - float(printed.avg))],
            [model, "ours, our normaliser (not comparable)", *_cells(results["benchmarks"], results["average_12"])],
        ]
    sources = "; ".join(
        f"{path} ({results['provenance']['device']}, {results['provenance'].get('model', {}).get('model')})"
        for path, results in found.values()
    )
    return Table("table2_measured", "Table 2 measured: the released checkpoints evaluated here, beside the paper",
                 ["model", "row", *columns, "avg"], rows, sources)  # fmt: skip
