"""The paper's recipe and its ablations, fine-tuned from one base and scored on one test split.

Every run starts from the same base checkpoint with the same training settings (the same number of optimizer steps:
equal budgets) and differs only in what its `[experiments.runs.NAME]` table says: which training rows (`balanced`:
Algorithm 1's manifest; `train`: natural proportions), which languages, and whether the targets carry language tags.
The base is scored too. Every run is trained once per seed of `[experiments] seeds` (issue 13: on Lion-12 the spread
between seeds is larger than the test sets' sampling noise), each in `<root>/NAME/seed-S/` (training files and
`eval/`); the base, trained elsewhere and decoded greedily, is scored once, in `<root>/base/eval/`. Training resumes
from its checkpoints and a finished run is not retrained, so an interrupted command picks up where it stopped.

`[experiments] workers` runs that many (run, seed) jobs at once, each in its own process with `[train] threads` torch
threads: on the tiny profile's 2 cores, two one-thread runs side by side train 1.2x as fast as one two-thread run
(results/measured/cpu-training-step/), and far faster when another job holds a core (two threads then contend for one),
and a run's weights do not depend on how many run beside it.

The summary's entry of a run holds every seed's scores under `seeds` ("all" for the base's one evaluation), and their
means over seeds under the keys a single run has (`average_12`, `languages`, `benchmarks`, `implicit_lid`), with the
sample standard deviations in `sd` (None for a single evaluation).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tqdm import tqdm

from lionrepro.asr import finetune_format
from lionrepro.asr.backends.source import resolve
from lionrepro.asr.device import torch_threads
from lionrepro.asr.evaluation import RESULTS_FILE, score_checkpoint
from lionrepro.asr.finetuning import RECORD, run_training
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL, NOT_RESULT_AFFECTING, TrainConfig, run_fingerprint
from lionrepro.corpora.lion12.build import NOT_TABLE1_AFFECTING
from lionrepro.corpora.manifest import manifest_fingerprint, read_manifest
from lionrepro.fingerprints import differences
from lionrepro.provenance import read_json, results_dir

BASE = "base"
ALL_SEEDS = "all"  # the key of the base's one evaluation, which stands for every seed
ROWS = ("balanced", "train")
SUMMARY = "summary.json"


# `[evaluate]` settings that leave every hypothesis as it is (batched decoding equals one at a time:
# tests/test_evaluate.py)
_NOT_SCORE_AFFECTING = ("batch_size",)
# `[experiments]` settings that leave every result as it is: how many jobs run at once (each run's threads are its own)
_NOT_EXPERIMENT_AFFECTING = ("workers",)


def base_option(profile: dict[str, Any], given: str | None = None) -> tuple[str | None, str]:
    """(the base the runs start from, where it was named): `given` (--base), else the profile's `[pretrain] base` (a
    hub id or folder: the paper profile's released Qwen3-ASR), else `model/` under its `[pretrain] out` (the tiny
    profile's own base, made by `lionrepro pretrain-base`); (None, "--base") when the profile names none.
    `lionrepro.asr.backends.source.resolve` turns the name into a folder."""
    if given:
        return given, "--base"
    pretrain = profile.get("pretrain", {})
    if "base" in pretrain:
        return pretrain["base"], "[pretrain] base"
    if "out" in pretrain:
        return str(Path(pretrain["out"]) / FINAL_MODEL), "[pretrain] out"
    return None, "--base"


def weights_sha256(checkpoint: Path) -> str:
    """The sha256 of a checkpoint's weights: of its `model.safetensors` when that is its one weights file (this
    project's checkpoints, and what every record so far names), else the digest over each weights file's name and
    sha256 (a released checkpoint in shards)."""
    source = resolve(str(checkpoint))
    if list(source.weights) == ["model.safetensors"]:
        return source.weights["model.safetensors"]
    return source.weights_sha256


def experiments_dir() -> Path:
    """Where `lionrepro experiments` keeps its runs and its `summary.json` by default."""
    return results_dir() / "experiments"


def experiment_inputs(
    profile: dict[str, Any],
    data: dict[str, Any] | None,
    base: Path,
    train_overrides: dict[str, Any] | None = None,
    seeds: list[int] | None = None,
) -> dict[str, Any]:
    """What every number in `summary.json` depends on, besides the code: the profile values that shape the corpus,
    the training (with the command line's overrides of `[train]`, e.g. a study's `--lr`), the seeds (`--seeds` over
    `[experiments] seeds`) and the scoring, the manifests' content (None when the data stage has not run here), the
    base, and how transcripts are read from the output (a change of reading re-scores, and the weights are reused)."""
    train = {**profile.get("train", {}), **{k: v for k, v in (train_overrides or {}).items() if v is not None}}
    experiments = {k: v for k, v in profile.get("experiments", {}).items() if k not in _NOT_EXPERIMENT_AFFECTING}
    if seeds is not None:
        experiments["seeds"] = seeds
    sections = {
        "data": {k: v for k, v in profile.get("data", {}).items() if k not in NOT_TABLE1_AFFECTING},
        "balance": profile.get("balance", {}),
        "train": {k: v for k, v in train.items() if k not in NOT_RESULT_AFFECTING},
        "evaluate": {k: v for k, v in profile.get("evaluate", {}).items() if k not in _NOT_SCORE_AFFECTING},
        "experiments": experiments,
    }
    manifests = None
    if data is not None:
        paths = {
            "train": data["manifests"]["train"],
            "balanced": data["balanced_manifest"],
            "test": data["manifests"]["test"],
        }
        manifests = {name: manifest_fingerprint(Path(path)) for name, path in paths.items()}
    return json.loads(
        json.dumps(
            {
                "profile": {"seed": profile["seed"], **sections},
                "manifests": manifests,
                "base_sha256": weights_sha256(base),
                "output_reading": finetune_format.OUTPUT_READING,
            }
        )
    )


def training_rows(run: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, list[dict]]:
    """The manifest a run names (`rows`), restricted to its `languages` when it lists them."""
    if run["rows"] not in ROWS:
        raise ValueError(f"unknown rows {run['rows']!r}: use one of {ROWS}")
    manifest = Path(summary["balanced_manifest"] if run["rows"] == "balanced" else summary["manifests"]["train"])
    rows = read_manifest(manifest)
    if "languages" in run:
        rows = [row for row in rows if row["language"] in set(run["languages"])]
    return manifest, rows


def finished(out: Path, fingerprint: dict[str, Any]) -> bool:
    """A finished run in `out` made with exactly these inputs (settings, rows, base weights)."""
    record = out / RECORD
    return (
        record.exists()
        and read_json(record)["result"].get("fingerprint") == fingerprint
        and (out / FINAL_MODEL / "model.safetensors").exists()
    )


def planned_run(
    run: dict[str, Any], config: TrainConfig, base: Path, data: dict[str, Any]
) -> tuple[Path, list[dict], Any, Any, dict[str, Any]]:
    """(manifest, rows, model, processor, fingerprint) of the run that `run` and `config` describe, from `base`."""
    manifest, rows = training_rows(run, data)
    model, processor = load_checkpoint(base)
    return manifest, rows, model, processor, run_fingerprint(config, rows, model)


def train_run(
    name: str, run: dict[str, Any], config: TrainConfig, profile: dict, base: Path, out: Path, data: dict[str, Any]
) -> None:
    """Fine-tune `base` as the run's table says, unless `out` holds this very run finished already. A finished run of
    other inputs is never overwritten: it is refused, with what differs."""
    manifest, rows, model, processor, fingerprint = planned_run(run, config, base, data)
    if finished(out, fingerprint):
        print(f"{name}: trained already ({out / RECORD})")
        return
    recorded = read_json(out / RECORD)["result"].get("fingerprint") if (out / RECORD).exists() else fingerprint
    if recorded != fingerprint:  # the same inputs without their weights (a fresh clone) are simply trained again
        what = "; ".join(differences(recorded, fingerprint)) if recorded else "it records no fingerprint"
        raise SystemExit(f"{out} holds a {name} run made with other inputs ({what}): delete {out} to retrain it")
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
    """Score a checkpoint on the test split, or reuse the scores made with these very inputs: the same weights, the
    same test manifest content, the same decoding settings that shape hypotheses and the same reading of the output."""
    section = profile.get("evaluate", {})
    inputs = {
        "checkpoint_sha256": weights_sha256(checkpoint),
        "manifest_sha256": manifest_fingerprint(test_manifest),
        "evaluate": json.loads(json.dumps({k: v for k, v in section.items() if k not in _NOT_SCORE_AFFECTING})),
        "output_reading": finetune_format.OUTPUT_READING,
    }
    results_path = out / RESULTS_FILE
    if results_path.exists() and read_json(results_path)["provenance"].get("inputs") == inputs:
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
        inputs=inputs,
    )
    average = results["average_12"]  # None unless all 12 test sets were read (a partial copy of the corpora)
    print(
        f"{name}: 12-benchmark average {'n/a' if average is None else f'{average:.2f}'}; "
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


def seed_dir(root: Path, name: str, seed: int) -> Path:
    return root / name / f"seed-{seed}"


def _statistic(values: list[Any], how: Callable[[list[float]], float]) -> Any:
    """`how` over the seeds' values, key by key for dicts; None where any seed has None."""
    if isinstance(values[0], dict):
        return {key: _statistic([v[key] for v in values], how) for key in values[0]}
    return None if any(v is None for v in values) else how(values)


_POOLED = ("average_12", "languages", "benchmarks")


def pooled(seeds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A run's seeds' scores, pooled: the mean over seeds of each rate and share, and `sd` (sample standard deviation
    over seeds; None with a single evaluation)."""
    entries = list(seeds.values())
    shares = [{"overall": e["implicit_lid"]["overall"], "per_language": e["implicit_lid"]["per_language"]}
              for e in entries]  # fmt: skip
    mean = {key: _statistic([e[key] for e in entries], statistics.fmean) for key in _POOLED}
    mean["implicit_lid"] = _statistic(shares, statistics.fmean)
    if len(entries) < 2:
        return {**mean, "sd": None}
    sd = {key: _statistic([e[key] for e in entries], statistics.stdev) for key in _POOLED}
    sd["implicit_lid"] = _statistic(shares, statistics.stdev)
    return {**mean, "sd": sd}


@dataclasses.dataclass(frozen=True)
class _Job:
    """One run at one seed: train it (unless finished), then score it."""

    name: str
    run: dict[str, Any]
    config: TrainConfig
    train: bool  # False: only score a run finished before (not chosen this time)


def _do_job(job: _Job, profile: dict, base: Path, root: Path, data: dict, device: str | None, progress: bool) -> dict:
    """A job's seed entry; runs in a worker process when several run at once (a top-level function, so it pickles)."""
    out = seed_dir(root, job.name, job.config.seed)
    with torch_threads(job.config.threads):
        if job.train:
            train_run(job.name, job.run, job.config, profile, base, out, data)
        test_manifest = Path(data["manifests"]["test"])
        results = score_run(
            job.name, out / FINAL_MODEL, out / "eval", profile, test_manifest, device=device, progress=progress
        )
    result = read_json(out / RECORD)["result"]
    return {
        "checkpoint": str(out / FINAL_MODEL),
        "train_record": str(out / RECORD),
        "train_wall_s": result["wall_s"],
        "steps": result["steps"],
        "stopped_by": result["stopped_by"],
        **scores(results, out / "eval"),
    }


def _jobs(
    runs: dict[str, dict[str, Any]],
    chosen: list[str],
    config_of: Callable[[dict[str, Any], int], TrainConfig],
    seeds: list[int],
    base: Path,
    root: Path,
    data: dict[str, Any],
) -> list[_Job]:
    """The chosen runs at every seed, then the seeds of the others that finished before (scored, not trained)."""
    jobs = []
    for name, run in runs.items():
        for seed in seeds:
            config = config_of(run, seed)
            if name in chosen:
                jobs.append(_Job(name, run, config, train=True))
            elif finished(seed_dir(root, name, seed), planned_run(run, config, base, data)[-1]):
                jobs.append(_Job(name, run, config, train=False))
    return jobs


def run_all(
    runs: dict[str, dict[str, Any]],
    chosen: list[str],
    config_of: Callable[[dict[str, Any], int], TrainConfig],
    profile: dict,
    base: Path,
    root: Path,
    data: dict[str, Any],
    *,
    seeds: list[int],
    workers: int,
    device: str | None,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Score the base, train the `chosen` runs at every seed (each with `config_of(run, seed)`), `workers` jobs at a
    time, and score every finished run: one entry per run for the summary (module docstring). The runs not chosen
    still enter it with the seeds that finished before."""
    test_manifest = Path(data["manifests"]["test"])
    base_eval = root / BASE / "eval"
    threads = config_of(next(iter(runs.values())), seeds[0]).threads
    with torch_threads(threads):
        base_results = score_run(BASE, base, base_eval, profile, test_manifest, device=device, progress=progress)
    base_seeds = {ALL_SEEDS: scores(base_results, base_eval)}
    entries: dict[str, dict[str, Any]] = {
        BASE: {"what": "the base checkpoint, not fine-tuned", "checkpoint": str(base), "seeds": base_seeds,
               **pooled(base_seeds)}
    }  # fmt: skip
    jobs = _jobs(runs, chosen, config_of, seeds, base, root, data)
    done: dict[tuple[str, int], dict[str, Any]] = {}
    started = time.perf_counter()

    def report(job: _Job, entry: dict[str, Any]) -> None:
        done[job.name, job.config.seed] = entry
        average = "n/a" if entry["average_12"] is None else f"{entry['average_12']:.2f}"
        print(
            f"[{len(done)}/{len(jobs)}] {job.name} seed {job.config.seed}: {entry['steps']} steps "
            f"({entry['train_wall_s']:.0f} s of training), 12-set average {average}; "
            f"{(time.perf_counter() - started) / 60:.1f} min so far",
            flush=True,
        )

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            report(job, _do_job(job, profile, base, root, data, device, progress))
    else:  # fresh interpreters ("spawn"): a forked child of a process that ran torch's thread pool can hang
        quiet = [dataclasses.replace(job, config=dataclasses.replace(job.config, progress=False)) for job in jobs]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
            futures = {pool.submit(_do_job, job, profile, base, root, data, device, False): job for job in quiet}
            finishing = as_completed(futures)
            for future in tqdm(finishing, total=len(futures), desc="runs", unit="run", disable=not progress):
                report(futures[future], future.result())
    for name, run in runs.items():
        seeds_done = {str(seed): done[name, seed] for seed in seeds if (name, seed) in done}
        if seeds_done:
            entries[name] = {**run, "seeds": seeds_done, **pooled(seeds_done)}
    return entries
