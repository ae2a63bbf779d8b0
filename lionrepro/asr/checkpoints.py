"""Which released checkpoint is each of Table 2's models, and which `evaluate` results belong to which of them.

The measured Table 2 and the paper profile's claims read `lionrepro evaluate` results: each names the model it was
given (a hub id, or a folder). A hub id matches its Table 2 model exactly; a folder matches when it is named like
an id's last part (a local copy of `knoveleng/polyglot-lion-1.7b` in `.../polyglot-lion-1.7b`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lionrepro.asr.evaluation import RESULTS_FILE
from lionrepro.provenance import read_json


@cache
def hub_ids() -> dict[str, tuple[str, ...]]:
    """Table 2's model name -> the hub ids of its released checkpoint (lionrepro/asr/checkpoints.toml)."""
    text = resources.files("lionrepro.asr").joinpath("checkpoints.toml").read_text(encoding="utf-8")
    return {model: tuple(entry["hub"]) for model, entry in tomllib.loads(text)["models"].items()}


def paper_model(given: str) -> str | None:
    """The Table 2 model that `given` (a hub id or a folder, as passed to `evaluate --model`) is; None if none."""
    key = given.strip().rstrip("/").lower()
    for model, ids in hub_ids().items():
        for hub in ids:
            if key == hub.lower() or Path(key).name == hub.split("/")[1].lower():
                return model
    return None


def evaluations(
    root: Path, where: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Table 2 model -> (results file, results) of its newest evaluation under `root`/evaluate (each run's folder),
    among those whose results satisfy `where` (all by default)."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted((root / "evaluate").glob(f"*/{RESULTS_FILE}")):
        results = read_json(path)
        model = paper_model(str(results["provenance"].get("model", {}).get("model", "")))
        if model is None or (where is not None and not where(results)):
            continue
        if model not in found or found[model][1]["provenance"]["created_utc"] < results["provenance"]["created_utc"]:
            found[model] = (path, results)
    return found
