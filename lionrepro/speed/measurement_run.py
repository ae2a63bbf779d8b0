"""What `lionrepro speed`, `lionrepro cost` and the GPU script share: profile defaults per device type under
command-line values, and a run that saves its results file (with provenance) after every model (decode: every
lever), so that an interrupted run still leaves what it measured."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lionrepro.asr.device import select_device
from lionrepro.provenance import provenance, results_dir, write_json_atomic


def settings_values(device: str | None, section: dict, cli: dict[str, Any]) -> dict[str, Any]:
    """The profile section's `common` and per-device-type values, overridden by the command line's non-None ones,
    with the device (default: CUDA when available) and full depth on a GPU unless said otherwise."""
    device = select_device(device).type
    on_gpu = torch.device(device).type == "cuda"
    values = {**section.get("common", {}), **section.get("gpu" if on_gpu else "cpu", {})}
    values.update({key: value for key, value in cli.items() if value is not None})
    values.setdefault("full_depth", on_gpu)
    if "models" in values:
        values["models"] = tuple(values["models"])
    return {"device": device, **values}


def default_results_file(kind: str, device: str) -> Path:
    return results_dir() / f"{kind}_{torch.device(device).type}.json"


def run_measurement(
    kind: str,
    settings: Any,
    measure: Callable[..., dict],
    out: Path,
    log: Callable[[str], None] = print,
    **provenance_fields: Any,
) -> dict[str, Any]:
    """`measure(settings, log=..., on_update=...)`, writing `out` with provenance after every model; the results."""
    began = time.perf_counter()

    def save(results: dict) -> None:
        results["provenance"] = provenance(
            **provenance_fields, seed=settings.seed, stage=kind, wall_s=time.perf_counter() - began
        )
        write_json_atomic(Path(out), results)

    return measure(settings, log=log, on_update=save)


def all_measured(results: dict[str, Any]) -> bool:
    """True when every model of the run was measured (a failure is recorded in the results, not raised)."""
    return all(model["status"] == "ok" for model in results["models"].values())


def failure_record(error: BaseException) -> dict[str, Any]:
    """What a results file records of one measurement that failed (out of memory, a kernel that cannot be captured):
    the error in one line and its traceback, so that the other measurements of the run still go ahead."""
    return {
        "status": "error",
        "error": f"{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(error, limit=8)),
    }
