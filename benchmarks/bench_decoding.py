"""Batched against one-at-a-time decoding throughput of the `tiny` model (issue 5's goal: at least 5x).

The clips are Lion-12 test utterances of all 12 datasets, synthesised in-process (the corpus's own voices and
lengths), decoded by the same `lionrepro.asr.evaluation.decode` as `lionrepro evaluate`, at batch 1 and at the tiny
profile's batch size, with the profile's token budget. The model is the committed base (`[pretrain] out`), so the
rows stop where a trained model stops, and a batch runs until its longest row ends, as in a real evaluation.
`extra_info` records both throughputs and their ratio; the test asserts only that both give the same hypotheses,
never a time (this 2-core machine is shared).
"""

from __future__ import annotations

import time

import pytest

from lionrepro.asr.evaluation import TokenBudget, decode
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.corpora.lion12.plan import PlanConfig, first_per_dataset, plan
from lionrepro.corpora.lion12.synth import render_rows
from lionrepro.provenance import REPO_ROOT, device_description

PROFILE = load_profile("tiny")
BUDGET = TokenBudget(**PROFILE["evaluate"]["budget"])
GOAL = 5.0
PER_DATASET = 8  # 96 clips: three full batches at the profile's batch size


@pytest.fixture(scope="module")
def tiny():
    model, processor = load_checkpoint(REPO_ROOT / PROFILE["pretrain"]["out"] / FINAL_MODEL)
    return model.eval(), processor


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """The first PER_DATASET test utterances of each of the 12 datasets, as manifest rows pointing at FLAC files."""
    config = PlanConfig(scale=0.002, seed=0, vocab_size=120, min_samples={"train": 1, "valid": 1, "test": PER_DATASET})
    return render_rows(first_per_dataset(plan(config), "test", PER_DATASET), tmp_path_factory.mktemp("clips"))


def _timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


@pytest.mark.slow
def test_batched_against_one_at_a_time_decoding(benchmark, tiny, rows):
    model, processor = tiny
    batch_size = PROFILE["evaluate"]["batch_size"]

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
