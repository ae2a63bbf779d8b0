"""Algorithm 1 of the paper: two-stage balanced multilingual upsampling, as index arithmetic over a manifest.

Stage 1 brings every dataset of a language up to the size of that language's largest dataset N*_l (replicate
ceil(N*_l / n) times, then subsample N*_l at random); Stage 2 brings every language up to the largest language
N** the same way. Audio is never copied: the result is an array of row indices into the manifest, with repeats.

The printed algorithm is ambiguous about a language's size after Stage 1. Its loop takes the union of the K_l
upsampled datasets, so the language holds K_l * N*_l rows ("union" reading); the comment on line 8 says the
language corpus has size N*_l ("comment" reading: here, a stratified subsample of the union in which each dataset
keeps N*_l / K_l rows, to within one). `union` is the default: it is what the pseudocode executes, and it is the
only reading that never drops rows of the largest dataset, which fits the paper's word "upsampling". In both
readings N** is the largest language after Stage 1 (the comment on the N** line), so Stage 2 only ever upsamples.

A third value, `none`, is not a reading but an ablation: Stage 1 is skipped, so each language keeps its datasets in
their natural proportions and only Stage 2 equalises the languages. It asks what Stage 1 itself does: on Lion-12 it
gives a 47-utterance test set's training rows as much weight as a 1,392-utterance one's, repeated 30 times
(results/studies/stage1-ablation/).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lionrepro.corpora.manifest import read_manifest, write_manifest
from lionrepro.provenance import provenance, write_json_atomic

READINGS = ("union", "comment")  # Algorithm 1 as printed, read two ways
NO_STAGE1 = "none"  # the ablation: Stage 2 alone
CHOICES = (*READINGS, NO_STAGE1)


@dataclass(frozen=True)
class DatasetCount:
    language: str
    dataset: str
    original: int  # |D_l,k|
    replication: int  # r_l,k = ceil(N*_l / |D_l,k|)
    after_stage1: int  # rows this dataset holds in the language corpus after Stage 1
    final: int  # rows drawn from this dataset in the balanced corpus after Stage 2


@dataclass(frozen=True)
class LanguageCount:
    language: str
    datasets: int  # K_l
    n_star: int  # N*_l, the largest dataset of the language
    after_stage1: int  # |D~_l|
    replication: int  # R_l = ceil(N** / |D~_l|)
    final: int  # |D^_l| = N**


@dataclass(frozen=True)
class BalancedPlan:
    """Algorithm 1's output: row indices into the input manifest (with repeats) and the counts behind them."""

    indices: np.ndarray
    reading: str
    seed: int
    n_star_star: int
    datasets: tuple[DatasetCount, ...]
    languages: tuple[LanguageCount, ...]

    def counts(self) -> dict:
        """Everything but the indices, as plain JSON-able data."""
        return {
            "reading": self.reading,
            "seed": self.seed,
            "n_star_star": self.n_star_star,
            "total": int(self.indices.size),
            "languages": [asdict(lang) for lang in self.languages],
            "datasets": [asdict(ds) for ds in self.datasets],
        }


def _upsample(rows: np.ndarray, target: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Replicate(rows, ceil(target / n)) then RandomSubsample(target): the step both stages share."""
    factor = math.ceil(target / rows.size)
    replicated = np.tile(rows, factor)
    return replicated[rng.permutation(replicated.size)[:target]], factor


def _stratified_subsample(parts: list[np.ndarray], target: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Keep `target` rows of the union, split as evenly as possible across the parts (the first get the remainder)."""
    base, remainder = divmod(target, len(parts))
    return [part[rng.permutation(part.size)[: base + (i < remainder)]] for i, part in enumerate(parts)]


def balance(languages: Sequence[str], datasets: Sequence[str], *, seed: int, reading: str = "union") -> BalancedPlan:
    """Run Algorithm 1 over a manifest given as its per-row language and dataset labels.

    Languages and datasets are visited in sorted order, so the result depends only on the rows and the seed.
    """
    if reading not in CHOICES:
        raise ValueError(f"unknown reading {reading!r}: use one of {CHOICES}")
    if len(languages) != len(datasets):
        raise ValueError(f"{len(languages)} language labels but {len(datasets)} dataset labels")
    if len(languages) == 0:
        raise ValueError("cannot balance an empty manifest")
    rng = np.random.Generator(np.random.PCG64(seed))
    # One integer code per (language, dataset) group, numbered in sorted order; rows grouped by a stable sort.
    groups = sorted(set(zip(languages, datasets, strict=True)))
    code_of = {group: code for code, group in enumerate(groups)}
    codes = np.fromiter((code_of[pair] for pair in zip(languages, datasets, strict=True)), np.int64, len(languages))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(groups) + 1))
    members = {group: order[bounds[i] : bounds[i + 1]] for i, group in enumerate(groups)}

    stage1: dict[str, list[np.ndarray]] = {}
    dataset_rows: dict[str, list[tuple[str, int, int]]] = {}
    for lang in sorted({lang for lang, _ in groups}):
        names = [name for group_lang, name in groups if group_lang == lang]
        n_star = max(members[(lang, name)].size for name in names)
        upsampled = []
        dataset_rows[lang] = []
        for name in names:
            rows = members[(lang, name)]
            rows_up, factor = (rows, 1) if reading == NO_STAGE1 else _upsample(rows, n_star, rng)
            upsampled.append(rows_up)
            dataset_rows[lang].append((name, rows.size, factor))
        if reading == "comment":
            upsampled = _stratified_subsample(upsampled, n_star, rng)
        stage1[lang] = upsampled

    n_star_star = max(sum(part.size for part in parts) for parts in stage1.values())
    chosen, dataset_counts, language_counts = [], [], []
    for lang, parts in stage1.items():
        union = np.concatenate(parts)
        owner = np.repeat(np.arange(len(parts)), [part.size for part in parts])
        # Upsample positions in the union, so that each drawn row's dataset is known without a lookup.
        positions, factor = _upsample(np.arange(union.size), n_star_star, rng)
        chosen.append(union[positions])
        final_per_dataset = np.bincount(owner[positions], minlength=len(parts))
        language_counts.append(
            LanguageCount(lang, len(parts), max(n for _, n, _ in dataset_rows[lang]), union.size, factor, n_star_star)
        )
        for (name, original, r), part, final in zip(dataset_rows[lang], parts, final_per_dataset, strict=True):
            dataset_counts.append(DatasetCount(lang, name, original, r, part.size, int(final)))

    return BalancedPlan(
        indices=np.concatenate(chosen),
        reading=reading,
        seed=seed,
        n_star_star=int(n_star_star),
        datasets=tuple(dataset_counts),
        languages=tuple(language_counts),
    )


def labels_from_counts(counts: dict[tuple[str, str], int]) -> tuple[list[str], list[str]]:
    """Per-row (language, dataset) labels of a manifest with the given row counts: Table 1 at paper scale."""
    languages = [lang for (lang, _), n in counts.items() for _ in range(n)]
    datasets = [name for (_, name), n in counts.items() for _ in range(n)]
    return languages, datasets


def write_balanced_manifest(
    manifests: Sequence[Path], out: Path, *, reading: str, seed: int, profile: str
) -> tuple[BalancedPlan, Path]:
    """Algorithm 1 over the rows of `manifests` -> the balanced manifest `out` and, beside it, its counts with
    provenance (`<out>.counts.json`). Returns the plan and the counts' path."""
    rows = [row for path in manifests for row in read_manifest(path)]
    plan = balance([r["language"] for r in rows], [r["dataset"] for r in rows], seed=seed, reading=reading)
    write_manifest(out, (rows[i] for i in plan.indices))
    counts = out.with_suffix(".counts.json")
    write_json_atomic(
        counts,
        {"provenance": provenance(profile=profile, seed=seed, inputs=[str(p) for p in manifests]), **plan.counts()},
    )
    return plan, counts


def describe(plan: BalancedPlan) -> list[str]:
    """One line per language: its size after Stage 1, its Stage-2 replication and its final size."""
    return [
        f"{lang.language}: {lang.after_stage1} after Stage 1, x{lang.replication} -> {lang.final}"
        for lang in plan.languages
    ]
