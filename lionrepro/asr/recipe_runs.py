"""The paper's recipe and its ablations, fine-tuned from one base and scored on one test split.

Every run starts from the same base checkpoint with the same training settings (the same number of optimizer steps:
equal budgets) and differs only in what its `[experiments.runs.NAME]` table says: which training rows (`balanced`:
Algorithm 1's manifest; `train`: natural proportions), which languages, and whether the targets carry language tags.
The base is scored too. Each run lives in `<root>/NAME/` (training files and `eval/`); training resumes from its
checkpoints and a finished run is not retrained, so an interrupted command picks up where it stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lionrepro.asr.evaluation import RESULTS_FILE, score_checkpoint
from lionrepro.asr.finetuning import RECORD, run_training
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL, TrainConfig
from lionrepro.corpora.manifest import read_manifest
from lionrepro.provenance import read_json, results_dir

BASE = "base"
ROWS = ("balanced", "train")
SUMMARY = "summary.json"


def experiments_dir() -> Path:
    """Where `lionrepro experiments` keeps its runs and its `summary.json` by default."""
    return results_dir() / "experiments"


def training_rows(run: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, list[dict]]:
    """The manifest a run names (`rows`), restricted to its `languages` when it lists them."""
    if run["rows"] not in ROWS:
        raise ValueError(f"unknown rows {run['rows']!r}: use one of {ROWS}")
    manifest = Path(summary["balanced_manifest"] if run["rows"] == "balanced" else summary["manifests"]["train"])
    rows = read_manifest(manifest)
    if "languages" in run:
        rows = [row for row in rows if row["language"] in set(run["languages"])]
    return manifest, rows


def finished(out: Path, steps: int) -> bool:
    record = out / RECORD
    return record.exists() and read_json(record)["result"]["steps"] >= steps and (out / FINAL_MODEL).exists()


def train_run(
    name: str, run: dict[str, Any], config: TrainConfig, profile: dict, base: Path, out: Path, data: dict[str, Any]
) -> None:
    """Fine-tune `base` as the run's table says, unless a finished run of these steps is in `out` already."""
    if finished(out, config.steps):
        print(f"{name}: trained already ({out / RECORD})")
        return
    manifest, rows = training_rows(run, data)
    model, processor = load_checkpoint(base)
    print(f"{name}: {run['what']} - {len(rows)} rows of {manifest.name}, {config.steps} steps, tags {config.tags}")
    status = run_training(
        config,
        model,
        processor,
        rows,
        out,
        profile,
        stage="experiments",
        experiment=name,
        what=run["what"],
        base=str(base),
        manifest=str(manifest),
        languages=sorted({row["language"] for row in rows}),
    )
    if status != 0:
        raise SystemExit(f"{name}: training failed (status {status})")


def score_run(
    name: str, checkpoint: Path, out: Path, profile: dict, test_manifest: Path, *, device: str | None, progress: bool
) -> dict[str, Any]:
    """Score a checkpoint on the test split, or reuse the scores of this very checkpoint when they exist."""
    results_path = out / RESULTS_FILE
    weights = hashlib.sha256((checkpoint / "model.safetensors").read_bytes()).hexdigest()
    if results_path.exists() and read_json(results_path)["provenance"].get("checkpoint_sha256") == weights:
        return read_json(results_path)
    results = score_checkpoint(
        checkpoint,
        test_manifest,
        out,
        profile,
        seed=profile["seed"],
        device=device,
        progress=progress,
        stage="experiments",
        experiment=name,
        checkpoint_sha256=weights,
    )
    print(
        f"{name}: 12-benchmark average {results['average_12']:.2f}; "
        + ", ".join(f"{code} {entry['average']:.1f}" for code, entry in results["languages"].items())
        + f"; in the spoken language {100 * results['implicit_lid']['overall']:.1f}%"
    )
    return results


def scores(results: dict[str, Any], out: Path) -> dict[str, Any]:
    return {
        "results": str(out / RESULTS_FILE),
        "average_12": results["average_12"],
        "languages": {code: entry["average"] for code, entry in results["languages"].items()},
        "benchmarks": results["benchmarks"],
        "implicit_lid": results["implicit_lid"],
    }


def run_all(
    runs: dict[str, dict[str, Any]],
    chosen: list[str],
    config_of: Callable[[dict[str, Any]], TrainConfig],
    profile: dict,
    base: Path,
    root: Path,
    data: dict[str, Any],
    *,
    device: str | None,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Score the base, train the `chosen` runs (each with `config_of(run)`) and score every finished run: one entry
    per run for the summary. The runs not chosen still enter it when they finished before."""
    test_manifest = Path(data["manifests"]["test"])
    entries: dict[str, dict[str, Any]] = {
        BASE: {"what": "the base checkpoint, not fine-tuned", "checkpoint": str(base)}
    }
    base_eval = root / BASE / "eval"
    base_results = score_run(BASE, base, base_eval, profile, test_manifest, device=device, progress=progress)
    entries[BASE].update(scores(base_results, base_eval))
    for name, run in runs.items():
        out, config = root / name, config_of(run)
        if name in chosen:
            train_run(name, run, config, profile, base, out, data)
        elif not finished(out, config.steps):
            continue
        results = score_run(
            name, out / FINAL_MODEL, out / "eval", profile, test_manifest, device=device, progress=progress
        )
        record = read_json(out / RECORD)
        entries[name] = {
            **run,
            "checkpoint": str(out / FINAL_MODEL),
            "train_record": str(out / RECORD),
            "train_wall_s": record["result"]["wall_s"],
            "steps": record["result"]["steps"],
            "stopped_by": record["result"]["stopped_by"],
            **scores(results, out / "eval"),
        }
    return entries
