"""Command-line options that several stages share, and how they override a profile's section. Not a stage: the
stages import it, so that each shared option is written once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lionrepro.asr.training_loop import PRECISIONS, TrainConfig


def add_training_arguments(parser: argparse.ArgumentParser, *, seed: bool = True) -> None:
    """The options `train`, `pretrain-base` and `experiments` share: where to write, and overrides of the profile
    (`--seed` unless `seed` is False: `experiments` takes `--seeds`)."""
    parser.add_argument("--out", type=Path, help="output folder (resumes from its last checkpoint if it has one)")
    parser.add_argument("--steps", type=int, help="optimizer steps (default: the profile's)")
    parser.add_argument("--max-minutes", type=float, help="wall-clock budget, 0 for none (default: the profile's)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the profile's)")
    parser.add_argument(
        "--batch-size", type=int, help="rows per micro-batch on each process (per device, as upstream qwen-asr)"
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="bf16 autocast: auto on CUDA only, bf16 on any device, fp32 never (default: the profile's, else auto)",
    )
    if seed:
        parser.add_argument("--seed", type=int, help="seed (default: the profile's)")
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def training_config(section: dict[str, Any], args: argparse.Namespace, profile: dict, **fixed: Any) -> TrainConfig:
    """The profile section's settings under the command line's, with the profile's seed unless a section sets one."""
    overrides = {
        "steps": args.steps,
        "max_minutes": args.max_minutes,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "device": args.device,
        "seed": getattr(args, "seed", None),
        "progress": False if args.quiet else None,
        **fixed,
    }
    return TrainConfig.from_section({"seed": profile["seed"], **section}, **overrides)


def add_measurement_arguments(parser: argparse.ArgumentParser, models: tuple[str, ...], models_help: str) -> None:
    """The options `speed` and `cost` share: device, models, warm-up, depth, and where the results go."""
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--models", nargs="+", choices=models, help=models_help)
    parser.add_argument("--warmup", type=int, help="untimed clips or steps first")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--full-depth", dest="full_depth", action="store_true", default=None)
    depth.add_argument("--extrapolate", dest="full_depth", action="store_false", help="small depths, extrapolated")
    parser.add_argument("--out", type=Path, help="results file (default: RESULTS/<stage>_<device type>.json)")


def measurement_overrides(args: argparse.Namespace, **stage_values: Any) -> dict[str, Any]:
    """The shared options' values plus the stage's own, as the settings they override (None: not given)."""
    return {
        "models": tuple(args.models) if args.models else None,
        "warmup": args.warmup,
        "full_depth": args.full_depth,
        **stage_values,
    }
