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
        raise SystemExit(f"{path} not found: run `lionrepro data` (with the same --profile) or pass --manifest")
    return read_json(path)


def default_manifest(split: str) -> Path:
    """The manifest of one split (train, valid, test, pretrain) that `lionrepro data` wrote."""
    return Path(data_summary()["manifests"][split])


def write_data_record(
    corpus: str,
    manifests: dict[str, Path],
    balanced: Path | None,
    counts: Path | None,
    summary: list[dict[str, Any]],
    skipped: dict[str, Any],
    *,
    profile: str,
    seed: int,
    config: dict[str, Any],
    wall_s: float,
    **fields: Any,
) -> Path:
    """Record what the data stage built (corpus name, split manifests, the balanced training manifest and its
    counts when a train split was read, Table-1-shaped summary, what was skipped) and return the record's path."""
    path = data_record_path()
    record = {
        "provenance": provenance(profile=profile, seed=seed, config=config, wall_s=wall_s),
        "corpus": corpus,
        "manifests": {split: str(manifest) for split, manifest in manifests.items()},
        "balanced_manifest": None if balanced is None else str(balanced),
        "balanced_counts": None if counts is None else str(counts),
        "summary": summary,
        "skipped": skipped,
        **fields,
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


def paper_comparison_table(summary: list[dict[str, Any]]) -> str:
    """Samples and hours per dataset and split read here, beside Table 1's, with the difference in samples."""
    header = ["Language", "Dataset", "split", "samples", "Table 1", "difference", "hours", "Table 1 hours"]
    rows = [
        [
            language(entry["language"]).name,
            entry["dataset"],
            split,
            entry["samples"][split],
            entry["paper_samples"][split],
            f"{entry['samples'][split] - entry['paper_samples'][split]:+d}",
            f"{entry['hours'][split]:.3f}",
            f"{entry['paper_hours'][split]:.2f}",
        ]
        for entry in summary
        for split in entry["samples"]
    ]
    return tabulate(rows, headers=header, disable_numparse=True, stralign="right")
