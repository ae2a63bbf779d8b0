"""What `lionrepro data` prepared, recorded in `<results>/data/summary.json`: where each split's manifest and the
balanced training manifest are, and the corpus they came from. Training, evaluation and the claims find their
manifests here, so no stage has to know how another one laid its files out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tabulate import tabulate

from lionrepro import paper
from lionrepro.languages import language
from lionrepro.provenance import provenance, read_json, results_dir, write_json_atomic


def data_record_path() -> Path:
    return results_dir() / "data" / "summary.json"


def data_summary() -> dict[str, Any]:
    """The record `lionrepro data` wrote; stops with what to run when there is none."""
    path = data_record_path()
    if not path.exists():
        raise SystemExit(f"{path} not found: run `lionrepro data` or pass --manifest")
    return read_json(path)


def default_manifest(split: str) -> Path:
    """The manifest of one split (train, valid, test, pretrain) that `lionrepro data` wrote."""
    return Path(data_summary()["manifests"][split])


def write_data_record(
    corpus: Any, balanced: Path, counts: Path, *, profile: str, seed: int, config: dict[str, Any], wall_s: float
) -> Path:
    """Record a built corpus (a `lion12.build.Lion12Build`, made under `config`) and its balanced training manifest;
    returns the record's path."""
    path = data_record_path()
    record = {
        "provenance": provenance(profile=profile, seed=seed, config=config, wall_s=wall_s),
        "corpus": "lion12",
        "key": corpus.key,
        "root": str(corpus.root),
        "manifests": {split: str(manifest) for split, manifest in corpus.manifests.items()},
        "balanced_manifest": str(balanced),
        "balanced_counts": str(counts),
        "summary": corpus.summary,
        "skipped": corpus.skipped,
        "synthesis": corpus.synthesis,
        "synthesised_now": corpus.synthesised,
    }
    write_json_atomic(path, record)
    return path


def summary_table(summary: list[dict[str, Any]]) -> str:
    """Samples and hours per dataset and split, with a total row, as Table 1 prints them."""
    header = ["Language", "Dataset"] + [f"{split} {unit}" for split in paper.SPLITS for unit in ("S", "H")]
    rows = [
        [language(entry["language"]).name, entry["dataset"]]
        + [value for split in paper.SPLITS for value in (entry["samples"][split], f"{entry['hours'][split]:.3f}")]
        for entry in summary
    ]
    totals = [
        value
        for split in paper.SPLITS
        for value in (
            sum(e["samples"][split] for e in summary),
            f"{sum(e['hours'][split] for e in summary):.3f}",
        )
    ]
    return tabulate([*rows, ["Total", "", *totals]], headers=header, disable_numparse=True, stralign="right")
