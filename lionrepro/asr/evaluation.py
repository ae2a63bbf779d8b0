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

Each model family's inputs, prompt and reading of its output come from its backend (lionrepro.asr.backends); the
three points above are Qwen3-ASR's, whose backend is this project's own model. No language is forced: Qwen3-ASR's
prompt ends at the assistant turn, and the model writes `language X<asr_text>` itself. Hypotheses are stored raw (the
whole output, and the transcript after any prefix) as they are decoded, so that a killed run resumes
(lionrepro.asr.hypothesis_log), and are normalised only at scoring time, by lionrepro.asr.scoring.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from tqdm import tqdm

from lionrepro import paper
from lionrepro.asr import decode_latency, hypothesis_log
from lionrepro.asr.backends import load_backend
from lionrepro.asr.backends.base import Backend
from lionrepro.asr.backends.qwen3_asr import Qwen3ASR
from lionrepro.asr.backends.source import resolve
from lionrepro.asr.device import process_group
from lionrepro.asr.language_id import spoken_language_share, written_language
from lionrepro.asr.scoring import EVALKIT, ErrorCounts, score
from lionrepro.corpora.manifest import manifest_fingerprint, read_manifest
from lionrepro.errors import UserError
from lionrepro.languages import language as resolve_language
from lionrepro.provenance import provenance, read_json, write_json_atomic, write_text_atomic

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


def _cut(tokens: list[int], budget: int, stop_ids: list[int]) -> tuple[list[int], bool]:
    """The row's tokens up to its first stop token, within its budget; and whether the budget ran out first."""
    tokens = tokens[:budget]
    stops = set(stop_ids)
    end = next((i for i, token in enumerate(tokens) if token in stops), None)
    return (tokens, True) if end is None else (tokens[:end], False)


@torch.inference_mode()
def _decode_batch(backend: Backend, rows: list[dict[str, Any]], budgets: list[int]) -> Iterator[dict[str, Any]]:
    generated = backend.generate(backend.batch(rows), budgets)
    for row, tokens, budget in zip(rows, generated, budgets, strict=True):
        kept, exhausted = _cut(tokens, budget, backend.stop_ids)
        raw, predicted, transcript = backend.read(kept)
        yield {
            "id": row["id"],
            "dataset": row["dataset"],
            "language": row["language"],
            "reference": row["text"],
            "raw_output": raw,
            "predicted_language": predicted,
            "hypothesis": transcript,
            "written_language": written_language(transcript),
            "hit_token_budget": exhausted,
            decode_latency.TOKENS: len(kept),
        }


def transcribe(
    backend: Backend,
    rows: Sequence[dict[str, Any]],
    batch_size: int,
    *,
    budget: TokenBudget = TokenBudget(),
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
    on_batch: Callable[[list[dict[str, Any]], float, float], None] | None = None,
    warm_up: bool = False,
) -> list[dict[str, Any]]:
    """Greedy hypotheses of manifest `rows`, one dict per row in the input order: id, dataset, language,
    reference, raw_output (all the model wrote before its stop token), predicted_language (the language its output
    names, e.g. the X of Qwen3-ASR's `language X<asr_text>` prefix; None without one), hypothesis (the transcript),
    written_language (lionrepro.asr.language_id), hit_token_budget, generated_tokens (up to the stop token).

    With `shard=(rank, world)` only every world-th batch from the rank-th is decoded (the rows of one process of a
    sharded evaluation); `on_batch` receives each batch's hypotheses as soon as they are decoded, with the batch's
    wall time in seconds and the seconds of setting up that were left out of it (lionrepro.asr.decode_latency):
    with `warm_up`, the first batch decoded once before it is timed, and any graph captures of the static decoder."""
    rank, world = shard
    results: dict[int, dict[str, Any]] = {}
    batches = length_sorted_batches(rows, batch_size)[rank::world]
    total = sum(len(indices) for indices in batches)
    with tqdm(total=total, desc="decoding", unit="utt", disable=not progress) as bar:
        for number, indices in enumerate(batches):
            batch = [rows[i] for i in indices]
            budgets = [budget(row["duration"]) for row in batch]
            setup = 0.0
            if warm_up and number == 0:
                start = time.perf_counter()
                list(_decode_batch(backend, batch, budgets))
                setup = time.perf_counter() - start
            captured = backend.capture_seconds
            start = time.perf_counter()
            decoded = list(_decode_batch(backend, batch, budgets))
            seconds = time.perf_counter() - start  # the tokens are on the host: the device has finished
            captured = backend.capture_seconds - captured
            results.update(zip(indices, decoded, strict=True))
            if on_batch is not None:
                on_batch(decoded, seconds - captured, setup + captured)
            bar.update(len(indices))
    return [results[i] for i in sorted(results)]


def decode(
    model: Any,
    processor: Any,
    rows: Sequence[dict[str, Any]],
    batch_size: int,
    *,
    budget: TokenBudget = TokenBudget(),
    progress: bool = True,
) -> list[dict[str, Any]]:
    """`transcribe` with a Qwen3-ASR model and processor in memory (this project's own checkpoints)."""
    return transcribe(Qwen3ASR(model, processor), rows, batch_size, budget=budget, progress=progress)


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


def run_key(backend: Backend, rows: Sequence[dict[str, Any]], budget: TokenBudget, weights: str) -> str:
    """What a row's hypothesis depends on: the weights, the model's family and prompt, the rows, the token budget.
    Partial hypotheses are reused only under the same key (lionrepro.asr.hypothesis_log)."""
    model = {key: value for key, value in backend.describe().items() if key != "device"}
    payload = {"weights": weights, "model": model, "budget": asdict(budget), "rows": list(rows)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def parameters_sha256(model: Any) -> str:
    """sha256 over a model's parameters and buffers (names, shapes and values): the identity of weights in memory."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def evaluate(
    backend: Backend,
    test_rows: Sequence[dict[str, Any]],
    out_dir: Path,
    *,
    batch_size: int = 16,
    budget: TokenBudget = TokenBudget(),
    progress: bool = True,
    weights: str | None = None,
    **provenance_fields: Any,
) -> dict[str, Any]:
    """Decode `test_rows`, write `hypotheses.jsonl` and `results.json` under `out_dir`, return the results.

    Hypotheses are written as they are decoded: a killed evaluation, run again with the same weights, rows and
    settings, decodes only the rows it had not finished. Under `torchrun` (a process group initialised), each
    process decodes its share of the batches and rank 0 merges them: the same hypotheses as one process.
    `weights` identifies the weights (a sha256; by default computed from the model's parameters);
    `provenance_fields` (checkpoint, manifest, seed, profile, ...) go into the results' provenance block, with the
    decoding settings, wall time and throughput.
    """
    if not test_rows:
        raise ValueError("no test rows to evaluate")
    ids = [row["id"] for row in test_rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{len(ids) - len(set(ids))} test rows repeat an id: every row needs its own")
    out_dir = Path(out_dir)
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    weights = weights or parameters_sha256(backend.model)
    key = run_key(backend, test_rows, budget, weights)
    finished = hypothesis_log.done(out_dir, key)
    pending = [row for row in test_rows if row["id"] not in finished]
    hypothesis_log.barrier()  # every process has read what is done before any writes more
    start = time.perf_counter()
    transcribe(backend, pending, batch_size, budget=budget, progress=progress and rank == 0, shard=(rank, world),
           on_batch=hypothesis_log.Appender(out_dir, key, rank), warm_up=True)  # fmt: skip
    wall = time.perf_counter() - start
    hypothesis_log.barrier()
    if rank == 0:
        merged = hypothesis_log.done(out_dir, key)
        timed = [merged[row_id] for row_id in ids]
        hypotheses = [decode_latency.untimed(row) for row in timed]
        write_hypotheses(out_dir / HYPOTHESES_FILE, hypotheses)
        audio_seconds = sum(row["duration"] for row in pending)
        results = {
            "provenance": provenance(**provenance_fields, weights_sha256=weights),
            "decoding": {
                "batch_size": batch_size,
                **backend.describe(),
                "budget": asdict(budget),
                "processes": world,
                "utterances": len(hypotheses),
                "resumed_utterances": len(finished),
                "hit_token_budget": sum(row["hit_token_budget"] for row in hypotheses),
                "wall_seconds": wall,
                "utterances_per_second": len(pending) / wall if pending else None,
                "audio_seconds_per_second": audio_seconds / wall if pending else None,
            },
            "latency": decode_latency.latency(timed, {row["id"]: row["duration"] for row in test_rows}),
            **summarize(hypotheses),
        }
        write_json_atomic(out_dir / RESULTS_FILE, results)
        hypothesis_log.clear(out_dir)
    hypothesis_log.barrier()
    return read_json(out_dir / RESULTS_FILE)


def select_rows(
    rows: Sequence[dict[str, Any]], datasets: Sequence[str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The rows of the named datasets (each named by dataset, e.g. `FLEURS`, or `language/dataset`, e.g. `ta/FLEURS`;
    all when None), at most `limit` per dataset and language, in manifest order."""
    wanted = set(datasets or ())
    known = {row["dataset"] for row in rows} | {f"{row['language']}/{row['dataset']}" for row in rows}
    if wanted - known:
        unknown, present = ", ".join(sorted(wanted - known)), ", ".join(sorted(known))
        raise UserError(f"--datasets {unknown}: not in the manifest ({present})")
    taken: dict[str, int] = defaultdict(int)
    chosen = []
    for row in rows:
        group = f"{row['language']}/{row['dataset']}"
        if wanted and not wanted & {row["dataset"], group}:
            continue
        if limit is None or taken[group] < limit:
            taken[group] += 1
            chosen.append(row)
    return chosen


def score_checkpoint(
    checkpoint: Path | str,
    manifest: Path,
    out: Path,
    profile: dict[str, Any],
    *,
    seed: int,
    device: str | None,
    progress: bool,
    batch_size: int | None = None,
    datasets: Sequence[str] | None = None,
    limit: int | None = None,
    decoder: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Load a model (a folder, or a hub id from the local cache) through its family's backend and evaluate it on a
    manifest under the profile's `[evaluate]` settings (`batch_size` and `decoder` override the profile's; `datasets`
    and `limit` select rows): the one path of `lionrepro evaluate` and `lionrepro experiments`, in one process or
    several under `torchrun`. `fields` go into the results' provenance."""
    section = profile.get("evaluate", {})
    source = resolve(str(checkpoint))
    rows = select_rows(read_manifest(manifest), datasets, limit)
    torch.manual_seed(seed)  # greedy decoding draws nothing; seeded all the same, for any module that might
    backend = load_backend(source.folder).use_decoder(decoder or section.get("decoder", "generate"))
    with process_group(device) as process:
        chosen = process.device
        dtype = getattr(torch, section.get("gpu_dtype", "bfloat16")) if chosen.type == "cuda" else None
        return evaluate(
            backend.to(chosen, dtype),
            rows,
            out,
            batch_size=batch_size or section.get("batch_size", 16),
            budget=TokenBudget(**section.get("budget", {})),
            progress=progress,
            weights=source.weights_sha256,
            profile=profile["name"],
            seed=seed,
            checkpoint=str(checkpoint),
            model=source.record(),
            manifest=str(manifest),
            manifest_sha256=manifest_fingerprint(manifest),
            rows={"datasets": list(datasets) if datasets else "all", "limit_per_dataset": limit, "count": len(rows)},
            **fields,
        )
