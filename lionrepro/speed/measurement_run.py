"""What `lionrepro speed` and `lionrepro cost` share: profile defaults per device type under command-line values,
and a run that saves its results file (with provenance) after every model and prints its table."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tabulate import tabulate

from lionrepro.provenance import provenance, results_dir, write_json_atomic


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def settings_values(device: str, section: dict, cli: dict[str, Any]) -> dict[str, Any]:
    """The profile section's `common` and per-device-type values, overridden by the command line's non-None ones."""
    on_gpu = torch.device(device).type == "cuda"
    values = {**section.get("common", {}), **section.get("gpu" if on_gpu else "cpu", {})}
    values.update({key: value for key, value in cli.items() if value is not None})
    values.setdefault("full_depth", on_gpu)
    if "models" in values:
        values["models"] = tuple(values["models"])
    return values


def run_measurement(
    kind: str,
    args: argparse.Namespace,
    profile: dict,
    settings: Any,
    measure: Callable[..., dict],
    table: Callable[[dict], tuple[list[str], list[list]]],
) -> int:
    """Run `measure(settings, on_update=...)`, writing RESULTS/<kind>_<device type>.json (or --out) as it goes."""
    out = args.out or results_dir() / f"{kind}_{torch.device(settings.device).type}.json"
    began = time.perf_counter()

    def save(results: dict) -> None:
        results["provenance"] = provenance(
            profile=profile["name"], seed=settings.seed, stage=kind, wall_s=time.perf_counter() - began
        )
        write_json_atomic(Path(out), results)

    results = measure(settings, on_update=save)
    headers, rows = table(results)
    print(tabulate(rows, headers, tablefmt="github"))
    print(f"wrote {out}")
    return 0 if all(m["status"] == "ok" for m in results["models"].values()) else 1
