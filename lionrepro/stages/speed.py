"""`lionrepro speed`: latency (s/sample) and throughput of the four architectures side by side -> results JSON.

Defaults come from the profile's `[speed]` section; on a GPU every model runs at full depth in bf16, on a CPU at full
width and small depths, extrapolated to full depth (see lionrepro/speed/latency.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from lionrepro.asr import architectures
from lionrepro.config import load_profile
from lionrepro.speed.latency import SpeedSettings, run_speed, speed_table
from lionrepro.speed.measurement_run import default_device, run_measurement, settings_values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--models", nargs="+", choices=architectures.NAMES, help="default: all four")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], help="default: bf16 on GPU, fp32 on CPU")
    parser.add_argument("--new-tokens", type=int, help="tokens generated per clip (min = max new tokens)")
    parser.add_argument("--repeats", type=int, help="clips timed one by one (batch size 1)")
    parser.add_argument("--warmup", type=int, help="untimed clips first")
    parser.add_argument("--batch-size", type=int, help="batch size of the throughput (RTFx) runs")
    parser.add_argument("--batches", type=int, help="batches timed for the throughput")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--full-depth", dest="full_depth", action="store_true", default=None)
    depth.add_argument("--extrapolate", dest="full_depth", action="store_false", help="small depths, extrapolated")
    parser.add_argument("--out", type=Path, help="results file (default: RESULTS/speed_<device type>.json)")


def settings_from(args: argparse.Namespace, section: dict) -> SpeedSettings:
    """Command line over the profile's section for this device type, over the built-in defaults."""
    device = args.device or default_device()
    cli = {
        "models": tuple(args.models) if args.models else None,
        "dtype": args.dtype,
        "new_tokens": args.new_tokens,
        "clips": args.repeats,
        "warmup": args.warmup,
        "batch_size": args.batch_size,
        "batches": args.batches,
        "full_depth": args.full_depth,
    }
    values = settings_values(device, section, cli)
    values.setdefault("dtype", "bfloat16" if torch.device(device).type == "cuda" else "float32")
    return SpeedSettings(device=device, **values)


def run(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    settings = settings_from(args, profile.get("speed", {}))
    return run_measurement("speed", args, profile, settings, run_speed, speed_table)
