"""`lionrepro experiments`: the paper's recipe and its ablations, fine-tuned from one base and scored side by side.

Every run starts from the same base checkpoint with the same training settings (the profile's `[train]`, so the same
number of optimizer steps: equal budgets) and differs only in what its `[experiments.runs.NAME]` table says: which
training rows (`balanced`: Algorithm 1's manifest; `train`: natural proportions), which languages, and whether the
targets carry language tags. The base is scored too. Each run lives in `<results>/experiments/NAME/` (training files
and `eval/`); training resumes from its checkpoints and a finished run is not retrained, so an interrupted command
picks up where it stopped; `--only` trains the runs it names (the summary still holds every finished run).
`summary.json` gathers every run's scores and the paired-bootstrap comparisons that the measured claims read, so
that a difference is only called one when it is larger than the test sets' sampling noise.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path
from typing import Any

from lionrepro.asr.evaluation import HYPOTHESES_FILE, RESULTS_FILE, read_hypotheses
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.claims.bootstrap import paired_bootstrap
from lionrepro.config import load_profile
from lionrepro.corpora.manifest import read_manifest
from lionrepro.provenance import provenance, read_json, results_dir, write_json_atomic
from lionrepro.stages.evaluate import default_test_manifest, score_checkpoint
from lionrepro.stages.train import RECORD, add_training_arguments, data_summary, run_training, training_config

BASE = "base"
SUMMARY = "summary.json"
ROWS = ("balanced", "train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base", type=Path, help="base checkpoint (default: model/ under the profile's [pretrain] out)"
    )
    parser.add_argument("--only", nargs="+", metavar="RUN", help="run only these experiments (default: all)")
    add_training_arguments(parser)  # the same settings for every run; --out defaults to RESULTS/experiments


def experiments_dir() -> Path:
    return results_dir() / "experiments"


def _training_rows(run: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, list[dict]]:
    """The manifest a run names (`rows`), restricted to its `languages` when it lists them."""
    if run["rows"] not in ROWS:
        raise ValueError(f"unknown rows {run['rows']!r}: use one of {ROWS}")
    manifest = Path(summary["balanced_manifest"] if run["rows"] == "balanced" else summary["manifests"]["train"])
    rows = read_manifest(manifest)
    if "languages" in run:
        rows = [row for row in rows if row["language"] in set(run["languages"])]
    return manifest, rows


def _finished(out: Path, steps: int) -> bool:
    record = out / RECORD
    return record.exists() and read_json(record)["result"]["steps"] >= steps and (out / FINAL_MODEL).exists()


def _train(name: str, run: dict[str, Any], args: argparse.Namespace, profile: dict, base: Path, out: Path) -> None:
    """Fine-tune `base` as the run's table says, unless a finished run of these steps is in `out` already."""
    config = training_config(profile["train"], args, profile, tags=run["tags"])
    if _finished(out, config.steps):
        print(f"{name}: trained already ({out / RECORD})")
        return
    manifest, rows = _training_rows(run, data_summary())
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


def _evaluate(name: str, checkpoint: Path, out: Path, profile: dict, args: argparse.Namespace) -> dict[str, Any]:
    """Score a checkpoint on the test split, or reuse the scores of this very checkpoint when they exist."""
    results_path = out / RESULTS_FILE
    weights = hashlib.sha256((checkpoint / "model.safetensors").read_bytes()).hexdigest()
    if results_path.exists() and read_json(results_path)["provenance"].get("checkpoint_sha256") == weights:
        return read_json(results_path)
    results = score_checkpoint(
        checkpoint,
        default_test_manifest(),
        out,
        profile,
        seed=profile["seed"],
        device=args.device,
        progress=not args.quiet,
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


def _scores(results: dict[str, Any], out: Path) -> dict[str, Any]:
    return {
        "results": str(out / RESULTS_FILE),
        "average_12": results["average_12"],
        "languages": {code: entry["average"] for code, entry in results["languages"].items()},
        "benchmarks": results["benchmarks"],
        "implicit_lid": results["implicit_lid"],
    }


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    section = profile["experiments"]
    base = args.base or Path(profile["pretrain"]["out"]) / FINAL_MODEL
    if not (base / "model.safetensors").exists():
        raise SystemExit(f"no base checkpoint at {base}: run `lionrepro pretrain-base` or pass --base")
    runs = section["runs"]
    chosen = args.only or list(runs)
    unknown = sorted(set(chosen) - set(runs))
    if unknown:
        raise SystemExit(f"unknown experiments {unknown}; the profile defines {sorted(runs)}")
    root = args.out or experiments_dir()
    started = time.perf_counter()
    entries: dict[str, dict[str, Any]] = {
        BASE: {"what": "the base checkpoint, not fine-tuned", "checkpoint": str(base)}
    }
    entries[BASE].update(_scores(_evaluate(BASE, base, root / BASE / "eval", profile, args), root / BASE / "eval"))
    steps = training_config(profile["train"], args, profile).steps
    for name in runs:  # the runs not chosen still enter the summary when they finished before
        out = root / name
        if name in chosen:
            _train(name, runs[name], args, profile, base, out)
        elif not _finished(out, steps):
            continue
        results = _evaluate(name, out / FINAL_MODEL, out / "eval", profile, args)
        record = read_json(out / RECORD)
        entries[name] = {
            **runs[name],
            "checkpoint": str(out / FINAL_MODEL),
            "train_record": str(out / RECORD),
            "train_wall_s": record["result"]["wall_s"],
            "steps": record["result"]["steps"],
            "stopped_by": record["result"]["stopped_by"],
            **_scores(results, out / "eval"),
        }
    comparisons = _comparisons(section, root, entries)
    summary = {
        "provenance": provenance(profile=profile["name"], seed=profile["seed"], stage="experiments", base=str(base)),
        "wall_s": time.perf_counter() - started,
        "runs": entries,
        "comparisons": comparisons,
    }
    write_json_atomic(root / SUMMARY, summary)
    print(f"wrote {root / SUMMARY}")
    return 0


def _comparisons(section: dict[str, Any], root: Path, entries: dict[str, Any]) -> dict[str, Any]:
    """Paired bootstraps `b - a` for each [experiments] comparison whose two runs are present."""
    settings = section["bootstrap"]
    hypotheses = {name: read_hypotheses(root / name / "eval" / HYPOTHESES_FILE) for name in entries}
    return {
        f"{b}-vs-{a}": {"a": a, "b": b, **paired_bootstrap(hypotheses[a], hypotheses[b], **settings)}
        for a, b in section["comparisons"]
        if a in entries and b in entries
    }
