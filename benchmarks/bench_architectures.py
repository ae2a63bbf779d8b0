"""pytest-benchmark suites of the speed and cost measurements (issue 3), for `make bench` and CI trend lines.

The same builders and decoding path as `lionrepro speed` / `lionrepro cost`: on a CPU each architecture at full
width and one layer per stack (the unit the depth extrapolation is built from), on a GPU at full depth in bf16.
pytest-benchmark records the machine (CPU, Python, commit) in its JSON; the device and sizes go into extra_info.
The tests themselves assert only correctness (exactly N tokens; a finite loss and weights that moved), never a time.
"""

from __future__ import annotations

import pytest
import torch

from lionrepro.asr import architectures
from lionrepro.provenance import device_description
from lionrepro.speed import training_cost
from lionrepro.speed.latency import clip_durations

NEW_TOKENS = 4
ON_GPU = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(not ON_GPU, reason="needs a CUDA device")


def _record(benchmark, name: str, depth: tuple[int, int] | None, **extra) -> None:
    benchmark.extra_info.update(
        device=device_description(),
        architecture=name,
        params_full_size=architectures.count_parameters(name),
        layers=list(depth) if depth else "full",
        **extra,
    )


def _latency(benchmark, name: str, device: str, dtype: torch.dtype, depth: tuple[int, int] | None) -> None:
    model = architectures.build(name, device=device, dtype=dtype, num_layers_override=depth)
    inputs = architectures.make_inputs(name, clip_durations(1), device, dtype)
    architectures.generate_fixed(model, inputs, NEW_TOKENS)  # warm-up
    _record(benchmark, name, depth, new_tokens=NEW_TOKENS, dtype=str(dtype), batch_size=1)
    out = benchmark.pedantic(
        architectures.generate_fixed, args=(model, inputs, NEW_TOKENS), rounds=3 if ON_GPU else 1, iterations=1
    )
    assert out.shape == (1, NEW_TOKENS)


def test_latency_tiny_cpu(benchmark):
    _latency(benchmark, architectures.TINY.name, "cpu", torch.float32, None)


@pytest.mark.slow
@pytest.mark.parametrize("name", architectures.NAMES)
def test_latency_one_layer_full_width_cpu(benchmark, name):
    _latency(benchmark, name, "cpu", torch.float32, (1, 1))


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("name", architectures.NAMES)
def test_latency_full_gpu(benchmark, name):
    _latency(benchmark, name, "cuda", torch.bfloat16, None)


def _train_step(benchmark, name: str, device: str, depth: tuple[int, int] | None, batch_size: int) -> None:
    settings = training_cost.CostSettings(models=(name,), device=device, batch_size=batch_size)
    autocast = device == "cuda"
    model = architectures.build(name, device=device, num_layers_override=depth).train()
    batch = training_cost.training_batch(
        name, clip_durations(batch_size, split="train"), settings.target_tokens, device
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    first = training_cost._step(model, batch, optimizer, autocast)  # warm-up (allocates the optimizer state)
    before = next(p for p in model.parameters() if p.requires_grad).detach().clone()
    _record(benchmark, name, depth, batch_size=batch_size, precision="bf16 autocast" if autocast else "fp32")
    loss = benchmark.pedantic(
        training_cost._step, args=(model, batch, optimizer, autocast), rounds=3 if ON_GPU else 1, iterations=1
    )
    # a real step: a finite loss near ln(vocabulary) for random weights, and weights that moved
    assert torch.isfinite(first) and torch.isfinite(loss) and loss.item() > 0
    assert not torch.equal(before, next(p for p in model.parameters() if p.requires_grad).detach())


def test_train_step_tiny_cpu(benchmark):
    _train_step(benchmark, architectures.TINY.name, "cpu", None, batch_size=2)


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("name", ["qwen3-asr-0.6b", "qwen3-asr-1.7b"])
def test_train_step_full_gpu(benchmark, name):
    _train_step(benchmark, name, "cuda", None, batch_size=32)
