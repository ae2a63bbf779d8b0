"""Paired bootstrap: is a difference in error rate between two systems larger than the test sets' sampling noise?

Two systems decoded on the same test utterances differ by a few points; with 50-500 utterances per test set, part of
that is which utterances happen to be in the set. Resampling the utterances with replacement (the same draw for both
systems, so that what they share cancels out) and recomputing the rates exactly as `lionrepro.asr.evaluation.summarize`
does gives the spread of the difference: it counts as real only when its percentile interval excludes 0.

Utterances are resampled within each dataset (stratified), because the paper's averages weigh every test set the
same whatever its size; a language's rate is the mean of its datasets' rates, and `average_12` the mean over Table
2's 12 test sets. Utterances whose normalised reference is empty are left out, as the scorer leaves them out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lionrepro import paper
from lionrepro.asr.evaluation import HYPOTHESES_FILE, read_hypotheses
from lionrepro.asr.scoring import score
from lionrepro.languages import language as resolve_language


def _key(row: dict[str, Any]) -> str:
    return f"{resolve_language(row['language']).code}/{row['dataset']}"


def utterance_errors(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per "lang/dataset": (edit errors per utterance, reference units per utterance), rows in id order.

    Each pair is scored alone by `lionrepro.asr.scoring.score`, so the normalisation is the scorer's and the sums are
    the corpus-level counts; a row whose normalised reference is empty gets 0 errors and 0 units.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["id"]):
        groups[_key(row)].append(row)
    out = {}
    for key, group in sorted(groups.items()):
        counts = [score([r["reference"]], [r["hypothesis"]], key.split("/", 1)[0]) for r in group]
        errors = np.array([c.substitutions + c.deletions + c.insertions for c in counts], dtype=np.int64)
        units = np.array([c.reference_units for c in counts], dtype=np.int64)
        out[key] = (errors, units)
    return out


def _by_id(rows: Sequence[dict[str, Any]], name: str) -> dict[Any, dict[str, Any]]:
    by_id = {row["id"]: row for row in rows}
    if len(by_id) != len(rows):
        raise ValueError(f"system {name} has {len(rows) - len(by_id)} repeated ids")
    return by_id


def _check_paired(a_rows: Sequence[dict[str, Any]], b_rows: Sequence[dict[str, Any]]) -> None:
    """Both systems must have decoded the same utterances: same ids, each with the same dataset and reference."""
    a, b = _by_id(a_rows, "a"), _by_id(b_rows, "b")
    if a.keys() != b.keys():
        only_a, only_b = sorted(a.keys() - b.keys(), key=str), sorted(b.keys() - a.keys(), key=str)
        raise ValueError(
            f"the two systems must cover the same ids: {len(only_a)} only in a (e.g. {only_a[:3]}), "
            f"{len(only_b)} only in b (e.g. {only_b[:3]})"
        )
    for uid, row in a.items():
        if (_key(row), row["reference"]) != (_key(b[uid]), b[uid]["reference"]):
            raise ValueError(f"id {uid!r} has a different dataset or reference in the two systems")


def _stat(a: float, b: float, differences: np.ndarray, level: float) -> dict[str, Any]:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(differences, [tail, 100 - tail])
    return {
        "a": a,
        "b": b,
        "difference": b - a,
        "low": float(low),
        "high": float(high),
        "significant": bool(low > 0 or high < 0),
    }


def paired_bootstrap(
    a_rows: Sequence[dict[str, Any]],
    b_rows: Sequence[dict[str, Any]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Point rates of systems a and b (as `summarize` gives them), and the percentile interval of `b - a`.

    Per language and for `average_12` (None unless the rows cover all 12 of Table 2's test sets); `significant`
    means the interval excludes 0.
    """
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples} and {level}")
    _check_paired(a_rows, b_rows)
    errors_a, errors_b = utterance_errors(a_rows), utterance_errors(b_rows)
    rng = np.random.default_rng(seed)
    points: dict[str, tuple[float, float]] = {}  # key -> (rate a, rate b)
    boots: dict[str, np.ndarray] = {}  # key -> resampled b - a, one per resample
    for key, (err_a, units) in errors_a.items():
        scored = units > 0  # the same for both systems: their references are the same
        err_a, err_b, units = err_a[scored], errors_b[key][0][scored], units[scored]
        if not units.size:
            raise ValueError(f"no reference units to score in {key}: every reference is empty after normalisation")
        points[key] = (100 * err_a.sum() / units.sum(), 100 * err_b.sum() / units.sum())
        index = rng.integers(0, units.size, (resamples, units.size))
        boots[key] = 100 * (err_b - err_a)[index].sum(axis=1) / units[index].sum(axis=1)

    def aggregate(keys: list[str]) -> dict[str, Any]:
        a = float(np.mean([points[k][0] for k in keys]))
        b = float(np.mean([points[k][1] for k in keys]))
        return _stat(a, b, np.mean([boots[k] for k in keys], axis=0), level)

    by_language: dict[str, list[str]] = defaultdict(list)
    for key in points:
        by_language[key.split("/", 1)[0]].append(key)
    benchmarks = [f"{b.language.code}/{b.dataset}" for b in paper.BENCHMARKS]
    return {
        "resamples": resamples,
        "level": level,
        "seed": seed,
        "average_12": aggregate(benchmarks) if all(k in points for k in benchmarks) else None,
        "languages": {code: aggregate(keys) for code, keys in sorted(by_language.items())},
    }


def compare_runs(section: dict[str, Any], root: Path, runs: Iterable[str]) -> dict[str, Any]:
    """Paired bootstraps `b - a` for each `[experiments] comparisons` pair whose two runs are both in `runs`, from the
    hypotheses each run wrote under `<root>/<run>/eval/`."""
    present = set(runs)
    hypotheses = {name: read_hypotheses(root / name / "eval" / HYPOTHESES_FILE) for name in present}
    return {
        f"{b}-vs-{a}": {"a": a, "b": b, **paired_bootstrap(hypotheses[a], hypotheses[b], **section["bootstrap"])}
        for a, b in section["comparisons"]
        if a in present and b in present
    }
