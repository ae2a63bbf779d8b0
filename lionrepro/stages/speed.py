"""`lionrepro speed`: latency (s/sample) and throughput of the four architectures side by side -> results JSON.

Defaults come from the profile's `[speed]` section; on a GPU every model runs at full depth in bf16, on a CPU at full
width and small depths, extrapolated to full depth (see lionrepro/speed/latency.py).
"""

from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from lionrepro.asr import architectures
from lionrepro.config import load_profile
from lionrepro.speed.latency import SpeedSettings, run_speed, speed_table
from lionrepro.speed.measurement_run import all_measured, default_results_file, run_measurement, settings_values
from lionrepro.stages.options import add_measurement_arguments, measurement_overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_measurement_arguments(parser, architectures.NAMES, "default: all four")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], help="default: bf16 on GPU, fp32 on CPU")
    parser.add_argument("--new-tokens", type=int, help="tokens generated per clip (min = max new tokens)")
    parser.add_argument("--repeats", type=int, help="clips timed one by one (batch size 1)")
    parser.add_argument("--batch-size", type=int, help="batch size of the throughput (RTFx) runs")
    parser.add_argument("--batches", type=int, help="batches timed for the throughput")


def settings_from(args: argparse.Namespace, section: dict) -> SpeedSettings:
    """Command line over the profile's section for this device type, over the built-in defaults."""
    cli = measurement_overrides(
        args,
        dtype=args.dtype,
        new_tokens=args.new_tokens,
        clips=args.repeats,
        batch_size=args.batch_size,
        batches=args.batches,
    )
    values = settings_values(args.device, section, cli)
    values.setdefault("dtype", "bfloat16" if torch.device(values["device"]).type == "cuda" else "float32")
    return SpeedSettings(**values)


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    settings = settings_from(args, profile.get("speed", {}))
    out = args.out or default_results_file("speed", settings.device)
    results = run_measurement("speed", settings, run_speed, out, profile=profile["name"])
    print(tabulate(*reversed(speed_table(results)), tablefmt="github"))
    print(f"wrote {out}")
    return 0 if all_measured(results) else 1
