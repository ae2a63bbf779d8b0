"""Paired bootstrap: is a difference in error rate between two systems larger than the test sets' sampling noise?

Two systems decoded on the same test utterances differ by a few points; with 50-500 utterances per test set, part of
that is which utterances happen to be in the set. Resampling the utterances with replacement (the same draw for both
systems, so that what they share cancels out) and recomputing the rates exactly as `lionrepro.asr.evaluation.summarize`
does gives the spread of the difference: it counts as real only when its percentile interval excludes 0.

Utterances are resampled within each dataset (stratified), because the paper's averages weigh every test set the
same whatever its size; a language's rate is the mean of its datasets' rates, and `average_12` the mean over Table
2's 12 test sets. Utterances whose normalised reference is empty are left out, as the scorer leaves them out.

Several seeds (issue 13): a run's rate is the mean of its seeds' rates, and the bootstrap has two levels. Each resample
draws the utterances (the same draw for every seed of both systems) and, independently for each system, as many seeds
as it has, with replacement (one draw per resample for all test sets: a seed is a whole model). The interval then holds
both kinds of noise: which utterances are in the test sets, and which seeds were trained, the larger one on Lion-12
(issue 13: recipe minus tags moved from +1.3 at seed 0 to -6.4 at seed 1, outside either seed's utterance interval).
A seed-level test alone (a t-test over 3 seeds, 2 degrees of freedom) would see only very large effects, and an
utterance bootstrap of the seeds' mean alone would call seed luck a difference. The seeds of the two systems are drawn
independently, not paired: runs that train on different rows share nothing through their seed. With one seed each,
this is the classic paired bootstrap.
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
    a_seeds: Sequence[Sequence[dict[str, Any]]],
    b_seeds: Sequence[Sequence[dict[str, Any]]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Point rates of systems a and b (each the mean over its seeds of the rates `summarize` gives), and the
    percentile interval of `b - a` from the two-level bootstrap (module docstring). `a_seeds` and `b_seeds` hold one
    list of hypothesis rows per seed, every list over the same utterances.

    Per language and for `average_12` (None unless the rows cover all 12 of Table 2's test sets); `significant`
    means the interval excludes 0.
    """
    if resamples < 1 or not 0 < level < 1:
        raise ValueError(f"need resamples >= 1 and 0 < level < 1, got {resamples} and {level}")
    if not a_seeds or not b_seeds:
        raise ValueError("each system needs the hypotheses of at least one seed")
    for rows in [*a_seeds[1:], *b_seeds]:
        _check_paired(a_seeds[0], rows)
    errors_a = [utterance_errors(rows) for rows in a_seeds]
    errors_b = [utterance_errors(rows) for rows in b_seeds]
    rng = np.random.default_rng(seed)
    # which seeds each resample takes, the same for every test set (none drawn for a single seed: it is always taken),
    # from a stream of their own, so that the utterances drawn do not depend on how many seeds there are
    seed_rng = np.random.default_rng([seed, 1])
    draws = [seed_rng.integers(0, len(e), (resamples, len(e))) if len(e) > 1 else None for e in (errors_a, errors_b)]
    points: dict[str, tuple[float, float]] = {}  # key -> (rate a, rate b), means over seeds
    boots: dict[str, np.ndarray] = {}  # key -> resampled b - a, one per resample
    for key, (_, units) in errors_a[0].items():
        scored = units > 0  # the same for every seed and system: their references are the same
        units = units[scored]
        if not units.size:
            raise ValueError(f"no reference units to score in {key}: every reference is empty after normalisation")
        index = rng.integers(0, units.size, (resamples, units.size))
        totals = units[index].sum(axis=1)
        rates = []
        for errors, draw in zip((errors_a, errors_b), draws, strict=True):
            per_seed = np.stack([e[key][0][scored] for e in errors])  # (seeds, utterances)
            resampled = 100 * per_seed[:, index].sum(axis=2) / totals  # (seeds, resamples)
            taken = resampled[0] if draw is None else resampled[draw, np.arange(resamples)[:, None]].mean(axis=1)
            rates.append((float(np.mean(100 * per_seed.sum(axis=1) / units.sum())), taken))
        points[key] = (rates[0][0], rates[1][0])
        boots[key] = rates[1][1] - rates[0][1]

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
        "seeds": [len(a_seeds), len(b_seeds)],
        "average_12": aggregate(benchmarks) if all(k in points for k in benchmarks) else None,
        "languages": {code: aggregate(keys) for code, keys in sorted(by_language.items())},
    }


def compare_runs(section: dict[str, Any], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Bootstraps `b - a` for each `[experiments] comparisons` pair whose two runs are both in `entries` (the
    experiments summary's runs), from the hypotheses every seed of each run wrote beside its `results`."""
    hypotheses = {
        name: [read_hypotheses(Path(scored["results"]).parent / HYPOTHESES_FILE) for scored in entry["seeds"].values()]
        for name, entry in entries.items()
    }
    return {
        f"{b}-vs-{a}": {"a": a, "b": b, **paired_bootstrap(hypotheses[a], hypotheses[b], **section["bootstrap"])}
        for a, b in section["comparisons"]
        if a in entries and b in entries
    }
