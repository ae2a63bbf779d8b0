"""`lionrepro cost`: training-step throughput of Qwen3-ASR -> GPU-hours per epoch, epochs in 48 h, dollars (JSON).

Defaults come from the profile's `[cost]` section; on a GPU the step is fp32 weights + bf16 autocast + AdamW at full
depth, on a CPU fp32 at small depths, extrapolated to full depth (see lionrepro/speed/training_cost.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lionrepro.asr import architectures
from lionrepro.config import load_profile
from lionrepro.speed.measurement_run import default_device, run_measurement, settings_values
from lionrepro.speed.training_cost import CostSettings, cost_table, run_cost


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--models", nargs="+", choices=architectures.NAMES[:2], help="default: both Qwen3-ASR sizes")
    parser.add_argument("--batch-size", type=int, help="utterances per step (upstream recipe: 32 per device)")
    parser.add_argument("--target-tokens", type=int, help="supervised tokens per utterance")
    parser.add_argument("--steps", type=int, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, help="untimed steps first")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--full-depth", dest="full_depth", action="store_true", default=None)
    depth.add_argument("--extrapolate", dest="full_depth", action="store_false", help="small depths, extrapolated")
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, for MFU (default: known GPUs)")
    parser.add_argument("--price-per-gpu-hour", type=float, help="default: the rate Table 4 implies for the GPU")
    parser.add_argument("--out", type=Path, help="results file (default: RESULTS/cost_<device type>.json)")


def settings_from(args: argparse.Namespace, section: dict) -> CostSettings:
    """Command line over the profile's section for this device type, over the built-in defaults."""
    device = args.device or default_device()
    cli = {
        "models": tuple(args.models) if args.models else None,
        "batch_size": args.batch_size,
        "target_tokens": args.target_tokens,
        "steps": args.steps,
        "warmup": args.warmup,
        "full_depth": args.full_depth,
        "peak_tflops": args.peak_tflops,
        "price_per_gpu_hour": args.price_per_gpu_hour,
    }
    values = settings_values(device, section, cli)
    return CostSettings(device=device, **values)


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    settings = settings_from(args, profile.get("cost", {}))
    return run_measurement("cost", args, profile, settings, run_cost, cost_table)
