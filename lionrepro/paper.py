"""The paper's published numbers, loaded from its tables (CSV package data copied from shared/paper/).

This module is the one place that holds a published number. Values are `Decimal`s exactly as printed, so that
arithmetic on them (averages, ratios, totals) can use the paper's own rounding without float noise.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from lionrepro.languages import Language, language

ARXIV_ID = "2603.16184"
SPLITS = ("train", "valid", "test")
CITATION = f"Dang & Ngo, Polyglot-Lion, arXiv {ARXIV_ID} v1"


@dataclass(frozen=True)
class Benchmark:
    """One of Table 2's 12 test sets and the Table 1 dataset it comes from."""

    column: str
    language: Language
    dataset: str


# Table 2's columns, in the printed order, mapped to Table 1's (language, dataset) rows.
BENCHMARKS: tuple[Benchmark, ...] = tuple(
    Benchmark(column, language(lang), dataset)
    for column, lang, dataset in (
        ("en_LS", "en", "LibriSpeech"),
        ("en_NSC", "en", "NSC"),
        ("zh_CV", "zh", "Common Voice 23"),
        ("zh_AISH1", "zh", "AISHELL-1"),
        ("zh_AISH3", "zh", "AISHELL-3"),
        ("zh_Fleurs", "zh", "FLEURS"),
        ("ta_CV", "ta", "Common Voice 23"),
        ("ta_SLR65", "ta", "SLR65"),
        ("ta_SLR127", "ta", "SLR127"),
        ("ta_Fleurs", "ta", "FLEURS"),
        ("ms_Meso", "ms", "Mesolitica"),
        ("ms_Fleurs", "ms", "FLEURS"),
    )
)


@dataclass(frozen=True)
class DatasetRow:
    """A row of Table 1: utterance counts and hours per split, and the printed totals."""

    language: Language
    dataset: str
    samples: dict[str, int]
    hours: dict[str, Decimal]
    total_samples: int
    total_hours: Decimal

    @property
    def key(self) -> str:
        return f"{self.language.code}/{self.dataset}"


@dataclass(frozen=True)
class ErrorRow:
    """A row of Table 2: error rates (%) on the 12 benchmarks and the printed average."""

    model: str
    params: str
    cells: dict[str, Decimal]
    avg: Decimal


@dataclass(frozen=True)
class LatencyRow:
    """A row of Table 3: seconds per sample on one RTX PRO 4500."""

    model: str
    mean_s: Decimal
    std_s: Decimal


@dataclass(frozen=True)
class FigureBar:
    """A bar of the release figure "ASR Model Comparison": its panel (`error`: Table 2's avg, `speed`: Table 3's
    mean), the label and size it prints, the value as printed (`printed`, e.g. "14.8%") and the table row it draws."""

    panel: str
    label: str
    params: str
    printed: str
    model: str

    @property
    def value(self) -> Decimal:
        return Decimal(self.printed.rstrip("%s"))


@dataclass(frozen=True)
class CostRow:
    """A row of Table 4: training resources and cost."""

    system: str
    training_data_hours: Decimal
    hardware: str
    gpu_count: int
    gpu_model: str
    training_time_hours: Decimal
    estimated_cost_usd: Decimal


SOURCES = {
    "table1": ("table1_datasets.csv", "Table 1 (dataset statistics)"),
    "table2": ("table2_error_rates.csv", "Table 2 (WER/CER % on 12 test sets)"),
    "table3": ("table3_latency.csv", "Table 3 (inference latency, one RTX PRO 4500)"),
    "table4": ("table4_cost.csv", "Table 4 (training resources and cost)"),
    "figure": ("figure_overall_error_rate.csv", "release figure 'ASR Model Comparison' (overall-error-rate.png)"),
}


def raw_rows(table: str) -> list[dict[str, str]]:
    """A table's rows as the strings printed in the paper."""
    filename, _ = SOURCES[table]
    with resources.files("lionrepro.paper_data").joinpath(filename).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def source(table: str) -> str:
    """Where a table's numbers come from, for provenance."""
    return f"{CITATION}, {SOURCES[table][1]}"


def _dataset_row(raw: dict[str, str]) -> DatasetRow:
    return DatasetRow(
        language=language(raw["language"]),
        dataset=raw["dataset"],
        samples={split: int(raw[f"{split}_samples"]) for split in SPLITS},
        hours={split: Decimal(raw[f"{split}_hours"]) for split in SPLITS},
        total_samples=int(raw["total_samples"]),
        total_hours=Decimal(raw["total_hours"]),
    )


@cache
def table1() -> tuple[DatasetRow, ...]:
    """Table 1's 12 dataset rows (the printed `Total` row is in `table1_printed_total`)."""
    return tuple(_dataset_row(raw) for raw in raw_rows("table1") if raw["language"] != "Total")


@cache
def table1_printed_total() -> dict[str, Decimal]:
    (raw,) = [raw for raw in raw_rows("table1") if raw["language"] == "Total"]
    return {key: Decimal(value) for key, value in raw.items() if key not in ("language", "dataset")}


@cache
def table2() -> tuple[ErrorRow, ...]:
    return tuple(
        ErrorRow(
            model=raw["model"],
            params=raw["params"],
            cells={b.column: Decimal(raw[b.column]) for b in BENCHMARKS},
            avg=Decimal(raw["avg"]),
        )
        for raw in raw_rows("table2")
    )


@cache
def table3() -> tuple[LatencyRow, ...]:
    return tuple(
        LatencyRow(raw["model"], Decimal(raw["seconds_per_sample_mean"]), Decimal(raw["seconds_per_sample_std"]))
        for raw in raw_rows("table3")
    )


@cache
def table4() -> tuple[CostRow, ...]:
    return tuple(
        CostRow(
            system=raw["system"],
            training_data_hours=Decimal(raw["training_data_hours"]),
            hardware=raw["hardware"],
            gpu_count=int(raw["gpu_count"]),
            gpu_model=raw["gpu_model"],
            training_time_hours=Decimal(raw["training_time_hours"]),
            estimated_cost_usd=Decimal(raw["estimated_cost_usd"]),
        )
        for raw in raw_rows("table4")
    )


@cache
def release_figure() -> tuple[FigureBar, ...]:
    """The release figure's bars, top to bottom in each panel, with the numbers as the image prints them."""
    return tuple(FigureBar(**raw) for raw in raw_rows("figure"))


def _by(rows: tuple, attribute: str, value: str):
    matches = [row for row in rows if getattr(row, attribute) == value]
    if not matches:
        raise KeyError(f"{value!r} is not in the paper's table (known: {[getattr(r, attribute) for r in rows]})")
    return matches[0]


def published_size(label: str) -> Decimal:
    """A Table 2 `params` label ('0.6B', '10B') as a number of parameters."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)B", label)
    if not match:
        raise ValueError(f"cannot read a parameter count from {label!r}")
    return Decimal(match.group(1)).scaleb(9)


def error_row(model: str) -> ErrorRow:
    return _by(table2(), "model", model)


def latency_row(model: str) -> LatencyRow:
    return _by(table3(), "model", model)


def cost_row(system: str) -> CostRow:
    return _by(table4(), "system", system)
