"""Lion-12 synthesis throughput: eSpeak NG rendering in-process, and a whole shard the way the builder runs it.

The builder's wall time is about (utterances / shard throughput / workers) plus ingestion; these numbers say whether
a larger default scale would still build in a few minutes on 2 cores. `extra_info` records utterances per second and
seconds of audio per second of synthesis.
"""

import subprocess
import time

import pytest

from lionrepro.corpora.lion12.plan import PlanConfig, plan
from lionrepro.corpora.lion12.synth import render, shard_command, shard_input

# One utterance in every 10 of a small corpus: all 12 datasets' voices and styles, train, valid and test.
SAMPLE = plan(PlanConfig(scale=0.002, seed=0, vocab_size=120, min_samples={"train": 10, "valid": 5, "test": 10}))[::10]


@pytest.fixture(scope="module")
def warm():
    render(SAMPLE[0])  # loads the library and the voices once


def test_render_throughput(benchmark, warm):
    seconds_of_audio = benchmark.pedantic(lambda: sum(render(u).size for u in SAMPLE) / 16_000, rounds=3, iterations=1)
    mean = benchmark.stats.stats.mean if benchmark.stats else None
    if mean:
        benchmark.extra_info.update(utterances_per_s=len(SAMPLE) / mean, audio_s_per_s=seconds_of_audio / mean)
    assert seconds_of_audio > len(SAMPLE) * 0.3


def test_shard_throughput_in_a_fresh_interpreter(benchmark, tmp_path):
    def shard() -> float:
        started = time.perf_counter()
        done = subprocess.run(
            shard_command(tmp_path, tmp_path / "marker.json"), input=shard_input(SAMPLE), text=True, capture_output=True
        )
        assert done.returncode == 0, done.stderr
        return time.perf_counter() - started

    seconds = benchmark.pedantic(shard, rounds=1, iterations=1)
    benchmark.extra_info.update(utterances=len(SAMPLE), utterances_per_s=len(SAMPLE) / seconds)
    assert (tmp_path / "marker.json").exists()
