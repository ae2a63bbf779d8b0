"""`lionrepro cost`: training-step throughput of Qwen3-ASR -> GPU-hours per epoch, epochs in 48 h, dollars (JSON).

Defaults come from the profile's `[cost]` section; on a GPU the step is fp32 weights + bf16 autocast + AdamW at full
depth, on a CPU fp32 at small depths, extrapolated to full depth (see lionrepro/speed/training_cost.py).
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from lionrepro.asr import architectures
from lionrepro.config import load_profile
from lionrepro.speed.measurement_run import all_measured, default_results_file, run_measurement, settings_values
from lionrepro.speed.training_cost import CostSettings, cost_table, run_cost
from lionrepro.stages.options import add_measurement_arguments, measurement_overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_measurement_arguments(parser, architectures.NAMES[:2], "default: both Qwen3-ASR sizes")
    parser.add_argument("--batch-size", type=int, help="utterances per step (upstream recipe: 32 per device)")
    parser.add_argument("--target-tokens", type=int, help="supervised tokens per utterance")
    parser.add_argument("--steps", type=int, help="timed optimizer steps")
    parser.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, for MFU (default: known GPUs)")
    parser.add_argument("--price-per-gpu-hour", type=float, help="default: the rate Table 4 implies for the GPU")


def settings_from(args: argparse.Namespace, section: dict) -> CostSettings:
    """Command line over the profile's section for this device type, over the built-in defaults."""
    cli = measurement_overrides(
        args,
        batch_size=args.batch_size,
        target_tokens=args.target_tokens,
        steps=args.steps,
        peak_tflops=args.peak_tflops,
        price_per_gpu_hour=args.price_per_gpu_hour,
    )
    return CostSettings(**settings_values(args.device, section, cli))


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    settings = settings_from(args, profile.get("cost", {}))
    out = args.out or default_results_file("cost", settings.device)
    results = run_measurement("cost", settings, run_cost, out, profile=profile["name"])
    print(tabulate(*reversed(cost_table(results)), tablefmt="github"))
    print(f"wrote {out}")
    return 0 if all_measured(results) else 1
