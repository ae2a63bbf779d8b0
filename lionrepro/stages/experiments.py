"""`lionrepro experiments`: the paper's recipe and its ablations, fine-tuned from one base and scored side by side.

The runs are the profile's `[experiments.runs.NAME]` tables, all trained with its `[train]` settings (equal budgets;
see lionrepro/asr/recipe_runs.py). `--only` trains the runs it names (the summary still holds every finished run).
`summary.json` gathers every run's scores and the paired-bootstrap comparisons (lionrepro/claims/bootstrap.py) that
the measured claims read, so that a difference is only called one when it is larger than the test sets' sampling
noise.

The base is `--base` (a folder in either Qwen3-ASR layout, or a hub id from the local Hugging Face cache), else the
profile's `[pretrain] base` (the paper profile: a released Qwen3-ASR), else `model/` under its `[pretrain] out` (the
tiny profile's own base). What the stage needs (base, manifests, a GPU where the profile trains on one) is checked
first and answered in one line. A profile whose `[train]` gives `epochs` rather than `steps` trains every run for as
many steps as those epochs of the recipe's balanced manifest: equal budgets whatever each run's rows.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lionrepro.asr import recipe_runs
from lionrepro.asr.device import process_group, processes
from lionrepro.claims.bootstrap import compare_runs
from lionrepro.config import load_profile
from lionrepro.corpora.data_record import data_summary
from lionrepro.corpora.manifest import read_manifest
from lionrepro.errors import UserError
from lionrepro.provenance import provenance, write_json_atomic
from lionrepro.stages import preflight
from lionrepro.stages.options import add_training_arguments, training_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base",
        help="base checkpoint: a folder (either Qwen3-ASR layout) or a hub id from the local Hugging Face cache "
        "(default: the profile's [pretrain] base, else model/ under its [pretrain] out)",
    )
    parser.add_argument("--only", nargs="+", metavar="RUN", help="run only these experiments (default: all)")
    parser.add_argument(
        "--seeds", nargs="+", type=int, metavar="SEED", help="train every run at these seeds (default: the profile's)"
    )
    parser.add_argument("--workers", type=int, help="(run, seed) jobs at once (default: the profile's)")
    add_training_arguments(parser, seed=False)  # the same settings for every run; --out defaults to RESULTS/experiments


def _recipe_steps(profile: dict, args: argparse.Namespace, data: dict) -> int | None:
    """The steps of `[train] epochs` over the recipe's balanced manifest, for every run (None when `[train]` gives
    steps): a run on natural proportions, or on three languages, then has the recipe's budget, not its own epoch's."""
    config = training_config(profile["train"], args, profile)
    if config.steps > 0:
        return None
    return config.total_steps(len(read_manifest(Path(data["balanced_manifest"]))), processes())


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    section = profile.get("experiments")
    if not section:
        raise UserError(f"profile {profile['name']!r} has no [experiments] section: see the tiny profile's")
    source = preflight.check(
        args.profile, profile, base=args.base, splits=("train", "balanced", "test"), device=args.device
    )
    base = source.folder
    runs = section["runs"]
    chosen = args.only or list(runs)
    unknown = sorted(set(chosen) - set(runs))
    if unknown:
        raise SystemExit(f"unknown experiments {unknown}; the profile defines {sorted(runs)}")
    root = args.out or recipe_runs.experiments_dir()
    started = time.perf_counter()
    data = data_summary()
    steps = args.steps or _recipe_steps(profile, args, data)
    seeds = args.seeds or section.get("seeds", [profile["seed"]])
    with process_group(args.device) as process:  # one group for every job under torchrun, not one per run
        entries = recipe_runs.run_all(
            runs,
            chosen,
            lambda run, seed: training_config(
                profile["train"], args, profile, tags=run["tags"], steps=steps, seed=seed
            ),
            profile,
            base,
            root,
            data,
            seeds=seeds,
            # under torchrun the processes share each run (DDP, sharded scoring): one job at a time
            workers=1 if process.world_size > 1 else args.workers or section.get("workers", 1),
            device=args.device,
            progress=not args.quiet,
        )
        if not process.main:
            return 0
    summary = {
        "provenance": provenance(
            profile=profile["name"],
            seed=profile["seed"],
            stage="experiments",
            base=str(base),
            base_source=source.record(),
        ),
        "inputs": recipe_runs.experiment_inputs(
            profile,
            data,
            base,
            {"steps": args.steps, "lr": args.lr, "batch_size": args.batch_size, "precision": args.precision},
            seeds,
        ),
        "seeds": seeds,
        "wall_s": time.perf_counter() - started,
        "runs": entries,
        "comparisons": compare_runs(section, entries),
    }
    write_json_atomic(root / recipe_runs.SUMMARY, summary)
    print(f"wrote {root / recipe_runs.SUMMARY} ({(time.perf_counter() - started) / 60:.1f} min)")
    return 0
