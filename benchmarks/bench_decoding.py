"""Batched against one-at-a-time decoding throughput of the `tiny` model (issue 5's goal: at least 5x).

The clips are Lion-12 test utterances of all 12 datasets, synthesised in-process (the corpus's own voices and
lengths), decoded by the same `lionrepro.evaluate.decode` as `lionrepro evaluate`, at batch 1 and at the tiny
profile's batch size. The model is a seeded random `tiny` one, which never writes its end token, so every row runs
to its token budget; the budget here is set to about what a trained model writes (its prefix, the transcript and the
end token), so that the work per row is realistic. `extra_info` records both throughputs and their ratio; the test
asserts only that both give the same hypotheses, never a time (this 2-core machine is shared).
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from lionrepro.audio import TARGET_RATE, from_array, write_flac
from lionrepro.config import load_profile
from lionrepro.evaluate import TokenBudget, decode
from lionrepro.lion12.plan import PlanConfig, plan
from lionrepro.lion12.synth import render
from lionrepro.lion12.text import vocabulary
from lionrepro.model import build_model, build_processor, train_tokenizer
from lionrepro.provenance import device_description

BUDGET = TokenBudget(per_second=6.0, extra=8)  # 14-38 tokens for Lion-12's 1-5 s clips
GOAL = 5.0
PER_DATASET = 5


@pytest.fixture(scope="module")
def tiny():
    texts = [" ".join(vocabulary(code, 120)[i : i + 6]) for code in ("en", "zh", "ta", "ms") for i in range(0, 114, 6)]
    processor = build_processor(train_tokenizer(texts, vocab_size=1_500))
    return build_model("tiny", processor, seed=0).eval(), processor


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """The first 5 test utterances of each of the 12 datasets, as manifest rows pointing at FLAC files."""
    config = PlanConfig(scale=0.002, seed=0, vocab_size=120, min_samples={"train": 1, "valid": 1, "test": PER_DATASET})
    by_dataset = defaultdict(list)
    for u in plan(config):
        if u.split == "test" and len(by_dataset[(u.language, u.dataset)]) < PER_DATASET:
            by_dataset[(u.language, u.dataset)].append(u)
    test = [u for utterances in by_dataset.values() for u in utterances]
    folder = tmp_path_factory.mktemp("clips")
    result = []
    for u in test:
        waveform = from_array(render(u), TARGET_RATE)
        write_flac(folder / f"{u.id}.flac", waveform)
        result.append(
            {
                "id": u.id,
                "dataset": u.dataset,
                "language": u.language,
                "split": u.split,
                "audio": str(folder / f"{u.id}.flac"),
                "duration": waveform.duration,
                "text": u.text,
            }
        )
    return result


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


@pytest.mark.slow
def test_batched_against_one_at_a_time_decoding(benchmark, tiny, rows):
    model, processor = tiny
    batch_size = load_profile("tiny")["evaluate"]["batch_size"]

    def batched():
        return decode(model, processor, rows, batch_size, budget=BUDGET, progress=False)

    decode(model, processor, rows[:2], 2, budget=BUDGET, progress=False)  # warm-up
    alone, alone_s = _timed(lambda: decode(model, processor, rows, 1, budget=BUDGET, progress=False))
    together, together_s = _timed(batched)
    speedup = alone_s / together_s
    benchmark.extra_info.update(
        device=device_description(),
        utterances=len(rows),
        audio_seconds=sum(r["duration"] for r in rows),
        batch_size=batch_size,
        budget={"per_second": BUDGET.per_second, "extra": BUDGET.extra},
        one_at_a_time_utterances_per_s=len(rows) / alone_s,
        batched_utterances_per_s=len(rows) / together_s,
        speedup=speedup,
        goal=GOAL,
        goal_met=speedup >= GOAL,
    )
    print(f"one at a time {len(rows) / alone_s:.1f} utt/s, batched {len(rows) / together_s:.1f} utt/s: x{speedup:.2f}")
    benchmark.pedantic(batched, rounds=1, iterations=1)
    assert together == alone
