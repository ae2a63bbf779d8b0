"""What the notebooks draw, read from the paper's data and from results files, each read recorded with its provenance.

Every loader here returns plain numbers and registers the file it read (path, what it is, device, commit, time) in
`READ`, so that a notebook can end with the list of everything its figures rest on, and each figure can name its
sources in its footer. The release figure's printed numbers are checked against the tables they are drawn from.
Heavy imports (torch, through the measurement and experiment modules) are made inside the loaders that need them,
so a notebook that draws only the paper's data starts in a moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.languages import LANGUAGES, language
from lionrepro.provenance import REPO_ROOT, read_json, results_dir


@dataclass(frozen=True)
class Source:
    """One file (or paper table) a figure rests on, with where and by which code it was made."""

    path: str
    what: str
    device: str = "-"
    commit: str = "-"
    created: str = "-"
    profile: str = "-"

    def short(self) -> str:
        dirty = "+dirty" if self.commit.endswith("+dirty") else ""  # made by uncommitted code: say so
        made = f"{self.device}, commit {self.commit[:12]}{dirty}" if self.commit != "-" else self.device
        return f"{self.path} ({made})" if made != "-" else self.path


READ: dict[str, Source] = {}


def _record(path: Path | str, what: str, payload: dict[str, Any] | None = None) -> Source:
    prov = (payload or {}).get("provenance", {})
    source = Source(
        path=str(path),
        what=what,
        device=prov.get("device", "-"),
        commit=prov.get("commit", "-"),
        created=prov.get("created_utc", "-"),
        profile=str(prov.get("profile", "-")),
    )
    READ[source.path] = source
    return source


def paper_source(table: str) -> Source:
    """A table of the paper, recorded as read."""
    return _record(f"lionrepro/paper_data/{paper.SOURCES[table][0]}", paper.source(table))


def _relative(path: Path) -> Path:
    path = Path(path)
    return path.relative_to(REPO_ROOT) if path.is_absolute() and path.is_relative_to(REPO_ROOT) else path


# --- the release figure -------------------------------------------------------------------------------------------


def table_value(bar: paper.FigureBar) -> Decimal:
    """The number the release figure's bar is drawn from: Table 2's printed avg, or Table 3's mean."""
    return paper.error_row(bar.model).avg if bar.panel == "error" else paper.latency_row(bar.model).mean_s


def release_figure_check() -> list[dict[str, str]]:
    """Every number the release figure prints against the table cell it comes from, rounded to the figure's digits.

    `agrees` when the cell rounds (half up) to the printed number; `rounding only` when it does so only under
    round-half-even (as a float formatter rounds 14.85, stored as 14.8499...), i.e. the figure shows a tie rounded
    down; `differs` otherwise. Sizes are checked against Table 2's `params` the same way."""
    paper_source("figure")
    paper_source("table2")
    paper_source("table3")
    rows = []
    for bar in paper.release_figure():
        cell = table_value(bar)
        places = Decimal(1).scaleb(bar.value.as_tuple().exponent)
        if cell.quantize(places, ROUND_HALF_UP) == bar.value:
            status = "agrees"
        elif cell.quantize(places, ROUND_HALF_EVEN) == bar.value or Decimal(float(cell)).quantize(places) == bar.value:
            status = "rounding only"
        else:
            status = "differs"
        table = "Table 2 avg" if bar.panel == "error" else "Table 3 mean s/sample"
        size = paper.error_row(bar.model).params
        size_ok = paper.published_size(size) == paper.published_size(bar.params)
        rows.append(
            {
                "panel": bar.panel,
                "figure label": bar.label,
                "figure prints": bar.printed,
                "table row": bar.model,
                "table": f"{table}: {cell}",
                "rounded half up": str(cell.quantize(places, ROUND_HALF_UP)),
                "size": f"{bar.params} (Table 2: {size})" + ("" if size_ok else " DIFFERS"),
                "check": status if size_ok else "differs (size)",
            }
        )
    return rows


def release_figure_bars(panel: str) -> list[tuple[str, str, float]]:
    """(label, size, table value) of one panel of the release figure, in the figure's order, from the tables."""
    return [(bar.label, bar.params, float(table_value(bar))) for bar in paper.release_figure() if bar.panel == panel]


# --- the paper's Table 2 --------------------------------------------------------------------------------------------


def paper_language_averages() -> dict[str, dict[str, float]]:
    """Model -> language -> mean of Table 2's cells of that language (the view the 12-set average hides)."""
    paper_source("table2")
    out = {}
    for row in paper.table2():
        out[row.model] = {
            code: float(sum(row.cells[b.column] for b in paper.BENCHMARKS if b.language.code == code))
            / sum(1 for b in paper.BENCHMARKS if b.language.code == code)
            for code in LANGUAGES
        }
    return out


def paper_cells(model: str) -> dict[str, float]:
    paper_source("table2")
    return {column: float(value) for column, value in paper.error_row(model).cells.items()}


# --- our runs -------------------------------------------------------------------------------------------------------


# `lionrepro experiments`'s folder and summary under the results folder, and the prefix of a run's seed folder in it:
# asr.recipe_runs.experiments_dir, SUMMARY and seed_dir, named here so that a notebook drawing them need not import
# torch (tests/test_notebooks.py checks they agree)
EXPERIMENTS, SUMMARY, SEED_PREFIX = "experiments", "summary.json", "seed-"


def experiments_dir() -> Path:
    return results_dir() / EXPERIMENTS


def experiments_path(root: Path | None = None) -> Path:
    return _relative((root or experiments_dir()) / SUMMARY)


def experiments(root: Path | None = None) -> dict[str, Any] | None:
    """The tiny (or any profile's) experiments summary: per run, its 12-set average, per-language and per-benchmark
    errors as means over its seeds, their sample standard deviations (`sd`, None for the base's one evaluation),
    and each seed's scores (`seeds`); None when `lionrepro experiments` has not run."""
    path = experiments_path(root)
    if not path.exists():
        return None
    summary = read_json(path)
    _record(path, "experiments summary (`lionrepro experiments`)", summary)
    return summary


def paper_profile_evaluations(root: Path | None = None) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Table 2 model -> its newest `lionrepro --profile paper evaluate` results (none until a GPU run made them)."""
    root = root or Path("results/paper")
    if not (root / "evaluate").is_dir():  # nothing evaluated: spare the notebook the import of torch
        return {}
    from lionrepro.asr.checkpoints import evaluations

    found = evaluations(root)
    for model, (path, results) in found.items():
        _record(path, f"paper-profile evaluation of {model}", results)
    return found


@dataclass(frozen=True)
class Curve:
    """A training run's logged curve (one point per logging step): the run, its seed (None for the tiny base's
    pretraining, trained once), and its points."""

    run: str
    seed: int | None
    points: list[dict[str, float]]

    @property
    def label(self) -> str:
        return self.run if self.seed is None else f"{self.run} seed {self.seed}"


def curve(path: Path, run: str, seed: int | None = None) -> Curve:
    """A curve.jsonl, recorded with its run's record (train.json beside it)."""
    path = _relative(path)
    record = path.parent / "train.json"
    payload = read_json(record) if record.exists() else None
    lines = path.read_text(encoding="utf-8").splitlines()
    found = Curve(run, seed, [json.loads(line) for line in lines if line.strip()])
    _record(path, f"training curve of {found.label}", payload)
    return found


def training_curves() -> list[Curve]:
    """The tiny base's pretraining, then each fine-tune of the experiments at each of its seeds, run by run."""
    curves = []
    base = Path("models/tiny-base/curve.jsonl")
    if base.exists():
        curves.append(curve(base, "base (pretraining)"))
    runs = sorted(
        (path.parent.parent.name, int(path.parent.name.removeprefix(SEED_PREFIX)), path)
        for path in experiments_dir().glob(f"*/{SEED_PREFIX}*/curve.jsonl")
    )
    curves += [curve(path, run, seed) for run, seed, path in runs]
    return curves


# --- measurements on GPUs -------------------------------------------------------------------------------------------


def measured(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    """Every results file of one kind (speed, cost, decode), CPU runs first then GPU runs, oldest first."""
    from lionrepro.claims.measured import measurement_runs

    runs = measurement_runs(kind)
    for path, payload in runs:
        _record(path, f"{kind} measurement ({payload.get('device_name', payload.get('device_type', '?'))})", payload)
    return runs


def decode_levers() -> dict[str, Any] | None:
    """Each (model, lever) of Table 3's protocol from the newest GPU run that measured it (`newest_per_lever`)."""
    from lionrepro.speed.decode_table import newest_per_lever

    runs = [run for run in measured("decode") if run[1].get("device_type") == "cuda"]
    return newest_per_lever(runs) if runs else None


def newest(kind: str) -> tuple[Path, dict[str, Any]] | None:
    """The run a verdict rests on: the newest GPU run of a kind, else the newest of any device."""
    runs = measured(kind)
    return runs[-1] if runs else None


# --- Algorithm 1 ----------------------------------------------------------------------------------------------------


def training_mix(seed: int = 0) -> dict[str, dict[tuple[str, str], int]]:
    """Table 1's training split per (language, dataset): as published (`natural`) and after Algorithm 1 under each
    reading of the Stage-1 size."""
    from lionrepro.claims.paper_arithmetic import table1_train_plan
    from lionrepro.corpora.balanced_sampling import READINGS

    paper_source("table1")
    mix = {"natural": {(row.language.code, row.dataset): row.samples["train"] for row in paper.table1()}}
    for reading in READINGS:
        plan = table1_train_plan(reading, seed=seed)
        mix[f"{reading} reading"] = {(d.language, d.dataset): d.final for d in plan.datasets}
    return mix


def language_name(code: str) -> str:
    return language(code).name


def sources_rows() -> list[dict[str, str]]:
    """Everything read so far, for the provenance table a notebook ends with."""
    return [
        {"file": s.path, "what": s.what, "device": s.device, "commit": s.commit, "created": s.created}
        for s in READ.values()
    ]
