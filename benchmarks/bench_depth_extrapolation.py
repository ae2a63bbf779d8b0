"""The depth extrapolation against a direct timing, on the tiny Qwen3-ASR: latency at full depth (4, 4) predicted
from depths 1-2, beside the measured one, recorded with the machine for `make bench` (never asserted: on a shared
2-core CPU a few milliseconds of noise move the per-layer increments of so small a model a lot).

The four depths are timed in turns, round after round, and each keeps its fastest clip, so that a load from other
processes falls on every depth alike instead of on whichever was being measured.
"""

from __future__ import annotations

import torch

from lionrepro.asr import architectures
from lionrepro.provenance import device_description
from lionrepro.speed.latency import FIT_DEPTHS, Timer, extrapolate

TINY = architectures.TINY.name
FULL = (4, 4)
ROUNDS = 12


def _fastest_per_depth() -> dict[tuple[int, int], float]:
    depths = (*FIT_DEPTHS, FULL)
    models = {d: architectures.build(TINY, num_layers_override=d) for d in depths}
    inputs = {d: architectures.make_inputs(TINY, [2.0]) for d in depths}
    timer = Timer(torch.device("cpu"))
    fastest = dict.fromkeys(depths, float("inf"))
    for _ in range(ROUNDS):
        for d in depths:
            out = architectures.generate_fixed(models[d], inputs[d], 16)
            assert out.shape == (1, 16)
            fastest[d] = min(fastest[d], timer(lambda d=d: architectures.generate_fixed(models[d], inputs[d], 16)))
    return fastest


def test_depth_extrapolation_against_direct_timing(benchmark):
    fastest = benchmark.pedantic(_fastest_per_depth, rounds=1, iterations=1)
    predicted = extrapolate({d: fastest[d] for d in FIT_DEPTHS}, FULL)
    benchmark.extra_info.update(
        device=device_description(),
        depths={str(d): t for d, t in fastest.items()},
        predicted_full_s=predicted,
        direct_full_s=fastest[FULL],
        predicted_over_direct=predicted / fastest[FULL],
    )
    assert all(t > 0 for t in fastest.values())
