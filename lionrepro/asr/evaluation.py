"""Evaluation: batched greedy decoding of a test manifest, then the paper's error rates and implicit LID.

Decoding is the slow part, so rows are decoded in batches sorted by audio length (longest first: padding is
small within a batch, and a batch that does not fit in memory fails at once rather than at the end). Batching must
not change a single hypothesis, which takes three things (tests/test_evaluate.py checks them):

- every clip gets the same features in a batch as alone (`finetune_format.generation_batch` pads each clip to a whole
  hop with silence and masks the padded frames);
- prompts are left-padded with an attention mask, and `generate` derives the positions from that mask;
- each row stops at its own token budget (a stopping criterion per row), and is cut back to it: a row that is
  done gets padding while the others go on, and greedy decoding is causal (its first k tokens do not depend on how
  many follow).

No language is forced: the prompt ends at the assistant turn, and the model writes `language X<asr_text>` itself.
Hypotheses are stored raw (the whole output, and the transcript after the prefix) and normalised only at scoring
time, by lionrepro.asr.scoring.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

from lionrepro import paper
from lionrepro.asr import finetune_format
from lionrepro.asr.device import select_device
from lionrepro.asr.language_id import spoken_language_share, written_language
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.scoring import EVALKIT, ErrorCounts, score
from lionrepro.corpora.manifest import read_manifest
from lionrepro.languages import language as resolve_language
from lionrepro.provenance import provenance, write_json_atomic, write_text_atomic

HYPOTHESES_FILE = "hypotheses.jsonl"
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class TokenBudget:
    """The most tokens a row may generate: `extra` (the `language X<asr_text>` prefix and the end token) plus
    `per_second` tokens per second of audio.

    A bound per row, not per batch, so that a model stuck repeating itself costs time in proportion to its clip, and
    a row's hypothesis does not depend on the rows it was batched with. Lion-12's densest text is Tamil, about 21
    byte-level BPE tokens for a 1-3 s sentence; 20 per second plus 12 leaves room for it.
    """

    per_second: float = 20.0
    extra: int = 12

    def __call__(self, duration: float) -> int:
        return self.extra + math.ceil(self.per_second * duration)


def length_sorted_batches(rows: Sequence[dict[str, Any]], batch_size: int) -> list[list[int]]:
    """Row indices in batches of at most `batch_size`, longest audio first (ties in input order)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(rows)), key=lambda i: (-rows[i]["duration"], i))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The tokens that end a transcript: `<|im_end|>` (the end of the assistant turn, what training supervises),
    `<|endoftext|>` and the tokenizer's own end-of-sequence token."""
    ids = [*tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"]), tokenizer.eos_token_id]
    unknown = tokenizer.unk_token_id
    return sorted({i for i in ids if i is not None and i != unknown})


def _greedy_config(max_new_tokens: int, stop_ids: list[int], pad_id: int) -> GenerationConfig:
    """Plain greedy decoding; set in full so that a checkpoint's own generation settings (repetition penalties,
    sampling) cannot change what is measured."""
    return GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        use_cache=True,
        eos_token_id=stop_ids,
        pad_token_id=pad_id,
    )


class _RowBudgets(StoppingCriteria):
    """Marks each row done once it has generated its own budget, so that a batch ends as soon as every row has
    written its stop token or used its budget (not at the largest budget of the batch)."""

    def __init__(self, prompt_width: int, budgets: list[int]) -> None:
        self.limits = torch.tensor(budgets) + prompt_width

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return input_ids.shape[1] >= self.limits.to(input_ids.device)


def _cut(tokens: list[int], budget: int, stop_ids: list[int]) -> tuple[list[int], bool]:
    """The row's tokens up to its first stop token, within its budget; and whether the budget ran out first."""
    tokens = tokens[:budget]
    stops = set(stop_ids)
    end = next((i for i, token in enumerate(tokens) if token in stops), None)
    return (tokens, True) if end is None else (tokens[:end], False)


@torch.inference_mode()
def _decode_batch(
    model: Any, processor: Any, rows: list[dict[str, Any]], budgets: list[int], stop_ids: list[int]
) -> Iterator[dict[str, Any]]:
    inputs = finetune_format.generation_batch(rows, processor)
    inputs = {key: value.to(model.device) for key, value in inputs.items()}
    inputs["input_features"] = inputs["input_features"].to(model.dtype)
    pad_id = processor.tokenizer.pad_token_id
    width = inputs["input_ids"].shape[1]
    sequences = model.generate(
        **inputs,
        generation_config=_greedy_config(max(budgets), stop_ids, pad_id),
        stopping_criteria=StoppingCriteriaList([_RowBudgets(width, budgets)]),
    )
    generated = sequences[:, width:].tolist()
    for row, tokens, budget in zip(rows, generated, budgets, strict=True):
        kept, exhausted = _cut(tokens, budget, stop_ids)
        raw = processor.tokenizer.decode(kept, skip_special_tokens=False)
        predicted, transcript = finetune_format.parse_output(raw)
        yield {
            "id": row["id"],
            "dataset": row["dataset"],
            "language": row["language"],
            "reference": row["text"],
            "raw_output": raw,
            "predicted_language": predicted,
            "hypothesis": transcript,
            "hit_token_budget": exhausted,
        }


def decode(
    model: Any,
    processor: Any,
    rows: Sequence[dict[str, Any]],
    batch_size: int,
    *,
    budget: TokenBudget = TokenBudget(),
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Greedy hypotheses of manifest `rows`, one dict per row in the input order: id, dataset, language,
    reference, raw_output (all the model wrote before its stop token), predicted_language (the X of its
    `language X<asr_text>` prefix, None without one), hypothesis (the transcript after it), hit_token_budget."""
    stop_ids = stop_token_ids(processor.tokenizer)
    results: dict[int, dict[str, Any]] = {}
    with tqdm(total=len(rows), desc="decoding", unit="utt", disable=not progress) as bar:
        for indices in length_sorted_batches(rows, batch_size):
            batch = [rows[i] for i in indices]
            budgets = [budget(row["duration"]) for row in batch]
            for index, result in zip(indices, _decode_batch(model, processor, batch, budgets, stop_ids), strict=True):
                results[index] = result
            bar.update(len(indices))
    return [results[i] for i in range(len(rows))]


def summarize(hypotheses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores of decoded rows (each with language, dataset, reference, hypothesis, written_language).

    - `datasets`: corpus-level WER/CER per Table 1 dataset, keyed "language/dataset" (e.g. "ta/SLR65");
    - `languages`: per language, the mean of its datasets' rates (the paper's aggregation: every test set weighs the
      same) and, for comparison, the pooled corpus-level rate over all its utterances;
    - `benchmarks`: the rates under Table 2's column names, and `average_12`, their mean over the 12 test sets as in
      Table 2's Avg. column (None, with `missing_benchmarks`, when the test rows do not cover all 12);
    - `implicit_lid`: the share of hypotheses written in the spoken language (lionrepro.asr.language_id).
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in hypotheses:
        groups[f"{resolve_language(row['language']).code}/{row['dataset']}"].append(row)
    counts: dict[str, ErrorCounts] = {
        key: score([r["reference"] for r in rows], [r["hypothesis"] for r in rows], key.split("/", 1)[0])
        for key, rows in sorted(groups.items())
    }
    datasets = {key: {"error_rate": c.error_rate, **asdict(c)} for key, c in counts.items()}
    by_language: dict[str, list[ErrorCounts]] = defaultdict(list)
    for c in counts.values():
        by_language[c.language].append(c)
    languages = {
        code: {
            "metric": parts[0].metric,
            "average": statistics.fmean([c.error_rate for c in parts]),
            "pooled": sum(parts[1:], parts[0]).error_rate,
            "datasets": len(parts),
            "utterances": sum(c.utterances for c in parts),
        }
        for code, parts in sorted(by_language.items())
    }
    keys = {b.column: f"{b.language.code}/{b.dataset}" for b in paper.BENCHMARKS}
    benchmarks = {column: datasets[key]["error_rate"] for column, key in keys.items() if key in datasets}
    missing = [column for column in keys if column not in benchmarks]
    parity = {
        column: score(
            [r["reference"] for r in groups[key]], [r["hypothesis"] for r in groups[key]], key.split("/", 1)[0], EVALKIT
        ).error_rate
        for column, key in keys.items()
        if key in datasets
    }
    return {
        "datasets": datasets,
        "languages": languages,
        "benchmarks": benchmarks,
        "average_12": None if missing else statistics.fmean(list(benchmarks.values())),
        "missing_benchmarks": missing,
        # the same hypotheses under asr-evalkit's normaliser, beside ours: what the normaliser alone moves
        "evalkit_normaliser": {
            "benchmarks": parity,
            "average_12": None if missing else statistics.fmean(list(parity.values())),
        },
        "implicit_lid": spoken_language_share(
            (resolve_language(r["language"]).code, r["written_language"]) for r in hypotheses
        ),
    }


def write_hypotheses(path: Path, hypotheses: Sequence[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in hypotheses))


def read_hypotheses(path: Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(
    model: Any,
    processor: Any,
    test_rows: Sequence[dict[str, Any]],
    out_dir: Path,
    *,
    batch_size: int = 16,
    budget: TokenBudget = TokenBudget(),
    progress: bool = True,
    **provenance_fields: Any,
) -> dict[str, Any]:
    """Decode `test_rows`, write `hypotheses.jsonl` and `results.json` under `out_dir`, return the results.

    `provenance_fields` (checkpoint, manifest, seed, profile, ...) go into the results' provenance block, with the
    decoding settings, wall time and throughput.
    """
    if not test_rows:
        raise ValueError("no test rows to evaluate")
    start = time.perf_counter()
    hypotheses = decode(model, processor, test_rows, batch_size, budget=budget, progress=progress)
    wall = time.perf_counter() - start
    for row in hypotheses:
        row["written_language"] = written_language(row["hypothesis"])
    out_dir = Path(out_dir)
    write_hypotheses(out_dir / HYPOTHESES_FILE, hypotheses)
    audio_seconds = sum(row["duration"] for row in test_rows)
    results = {
        "provenance": provenance(**provenance_fields),
        "decoding": {
            "batch_size": batch_size,
            "prompt": finetune_format.prompt(processor),
            "budget": asdict(budget),
            "device": str(model.device),
            "dtype": str(model.dtype),
            "utterances": len(hypotheses),
            "hit_token_budget": sum(row["hit_token_budget"] for row in hypotheses),
            "wall_seconds": wall,
            "utterances_per_second": len(hypotheses) / wall,
            "audio_seconds_per_second": audio_seconds / wall,
        },
        **summarize(hypotheses),
    }
    write_json_atomic(out_dir / RESULTS_FILE, results)
    return results


def score_checkpoint(
    checkpoint: Path,
    manifest: Path,
    out: Path,
    profile: dict[str, Any],
    *,
    seed: int,
    device: str | None,
    progress: bool,
    batch_size: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Load a checkpoint and evaluate it on a manifest under the profile's `[evaluate]` settings (`batch_size`
    overrides the profile's): the one path of `lionrepro evaluate` and `lionrepro experiments`. `fields` go into the
    results' provenance."""
    section = profile.get("evaluate", {})
    torch.manual_seed(seed)  # greedy decoding draws nothing; seeded all the same, for any module that might
    model, processor = load_checkpoint(checkpoint)
    model = model.to(select_device(device)).eval()
    return evaluate(
        model,
        processor,
        read_manifest(manifest),
        out,
        batch_size=batch_size or section.get("batch_size", 16),
        budget=TokenBudget(**section.get("budget", {})),
        progress=progress,
        profile=profile["name"],
        seed=seed,
        checkpoint=str(checkpoint),
        manifest=str(manifest),
        **fields,
    )
