"""The least time a model's work could take on a device (a roofline): its bytes over memory bandwidth or its
matrix FLOPs over matrix throughput, whichever is larger.

A decoding step at batch 1 reads every decoder weight once for a few FLOPs each, so bandwidth bounds it. A prefill
(the audio encoder, then the whole prompt through the decoder, for a batch of clips) does two FLOPs per weight for
each of thousands of tokens, so matrix throughput bounds it. A batched decoding step is in between: it reads the
weights and every row's KV cache, and does two FLOPs per weight per row. Measured times are set against these
floors with the device's published figures and with what it reaches here (a large copy, a large matrix product), so
a run says how far each phase is from its own limit, not only how fast it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import WhisperForConditionalGeneration

from lionrepro.asr import architectures
from lionrepro.asr.decode_families import text_decoder
from lionrepro.speed.latency import Timer

# Published peak memory bandwidth (bytes/s) and dense (no sparsity) BF16 tensor-core throughput (FLOP/s) by device
# name: NVIDIA's H200 and H100 SXM datasheets (1,979 TFLOPS "with sparsity", half of it dense)
PUBLISHED_BANDWIDTH = {"H200": 4.8e12, "H100 80GB HBM3": 3.35e12}
PUBLISHED_BF16_FLOPS = {"H200": 989.5e12, "H100 80GB HBM3": 989.5e12}
# The square product that measures matrix throughput: large enough to keep every unit of a GPU busy; smaller on a
# CPU, where 8192 would take seconds a repeat
MATMUL_SIZE = {"cuda": 8192, "cpu": 1024}


def published(table: dict[str, float], device_name: str) -> float | None:
    return next((value for key, value in table.items() if key in device_name), None)


def copy_bandwidth(device: torch.device, gib: float = 1.0, repeats: int = 5) -> float:
    """Bytes per second a large device-to-device copy reaches (read + write), best of `repeats`."""
    source = torch.empty(int(gib * 2**30), dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    timer = Timer(device)
    best = min(timer(lambda: target.copy_(source)) for _ in range(repeats + 1))
    return 2 * gib * 2**30 / best


def matmul_throughput(device: torch.device, dtype: torch.dtype, repeats: int = 5) -> float:
    """FLOP/s a large square matrix product reaches in `dtype`, best of `repeats` (after one warm-up)."""
    size = MATMUL_SIZE.get(device.type, MATMUL_SIZE["cpu"])
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    timer = Timer(device)
    best = min(timer(lambda: a @ b) for _ in range(repeats + 1))
    return 2 * size**3 / best


def device_limits(device: torch.device, dtype: torch.dtype) -> dict[str, dict[str, float | None]]:
    """Bandwidth (bytes/s) and matrix throughput (FLOP/s) on two bases: `published` (the datasheet's; None for an
    unlisted device) and `measured` (a large copy and a large product here)."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "published": {
            "bandwidth": published(PUBLISHED_BANDWIDTH, name),
            "flops": published(PUBLISHED_BF16_FLOPS, name) if dtype == torch.bfloat16 else None,
        },
        "measured": {"bandwidth": copy_bandwidth(device), "flops": matmul_throughput(device, dtype)},
    }


def decoder_weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of the weights one decoding step reads: the text decoder and its output head (a tied embedding
    counted once), without what a step does not touch (Whisper's cross-attention key/value projections, whose
    results are cached, and its position table, of which it reads one row)."""
    if isinstance(model, WhisperForConditionalGeneration):
        modules = [text_decoder(model), model.proj_out]
        skip = ("encoder_attn.k_proj", "encoder_attn.v_proj", "embed_positions")
    elif isinstance(model, architectures.Meralion2ASR):
        modules, skip = [text_decoder(model)], ()  # its language model, head included
    else:
        modules, skip = [text_decoder(model), model.lm_head], ()
    seen: dict[int, int] = {}
    for module in modules:
        for name, param in module.named_parameters():
            if not any(part in name for part in skip):
                seen[param.data_ptr()] = param.numel() * param.element_size()
    return sum(seen.values())


def weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of all of `model`'s weights (a tied weight counted once): what a prefill reads at least once."""
    return sum({p.data_ptr(): p.numel() * p.element_size() for p in model.parameters()}.values())


def _element_size(model: torch.nn.Module) -> int:
    """Bytes per value of the text decoder's weights (and so of its cached keys and values)."""
    return next(text_decoder(model).parameters()).element_size()


def kv_bytes(model: torch.nn.Module) -> tuple[int, int]:
    """(bytes of keys and values one cached token holds across the decoder's layers, cached tokens every row's step
    reads besides its own: Whisper's cross-attention over the encoder's 1,500 frames; 0 for the others)."""
    config = text_decoder(model).config
    element = _element_size(model)
    if isinstance(model, WhisperForConditionalGeneration):
        return 2 * config.decoder_layers * config.d_model * element, config.max_source_positions
    return 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * element, 0


def counted_flops(fn: Callable[[], Any]) -> int:
    """Matrix FLOPs of `fn()` (products, convolutions and attention, as torch's `FlopCounterMode` counts them)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def floor_s(flops: float, nbytes: float, limits: dict[str, float | None]) -> float | None:
    """The larger of `flops` over throughput and `nbytes` over bandwidth; None when a limit is unknown."""
    if not limits["flops"] or not limits["bandwidth"]:
        return None
    return max(flops / limits["flops"], nbytes / limits["bandwidth"])


def decode_floor_s(
    model: torch.nn.Module, prompt_lengths: Sequence[int], tokens: Sequence[int], limits: dict[str, float | None]
) -> float | None:
    """The least time decoding a batch could take: row r writes `tokens[r]` tokens after its `prompt_lengths[r]`-token
    prompt (the first one by the prefill), and leaves the batch when it has. Each step reads the decoder's weights
    and the keys and values each remaining row has cached, and does two FLOPs per decoder weight per row (attention's
    FLOPs, under 1% at these lengths, are left out)."""
    weights = decoder_weight_bytes(model)
    per_token, fixed = kv_bytes(model)
    flops_per_row = 2 * weights / _element_size(model)
    total = 0.0
    for step in range(1, max(tokens)):
        running = [length + step for length, count in zip(prompt_lengths, tokens, strict=True) if count > step]
        nbytes = weights + per_token * (sum(running) + fixed * len(running))
        floor = floor_s(flops_per_row * len(running), nbytes, limits)
        if floor is None:
            return None
        total += floor
    return total


def against_floors(runs: list[dict[str, Any]], floors: list[dict[str, Any]]) -> dict[str, Any]:
    """Batched runs against their batches' floors, per basis: measured over floor for the prefills and for the
    decoding, and the RTFx the floors allow (`rtfx_ceiling`); None where a floor is unknown."""
    audio = sum(run["audio_s"] for run in runs)
    prefill = sum(run["prefill_s"] for run in runs)
    decode = sum(run["total_s"] - run["prefill_s"] for run in runs)
    out: dict[str, Any] = {}
    for basis in floors[0]["floor_s"]:
        least = [floor["floor_s"][basis] for floor in floors]
        if any(part is None for floor in least for part in floor.values()):
            out[basis] = None
            continue
        least_prefill, least_decode = sum(f["prefill"] for f in least), sum(f["decode"] for f in least)
        out[basis] = {
            "prefill": prefill / least_prefill,
            "decode": decode / least_decode,
            "rtfx_ceiling": audio / (least_prefill + least_decode),
        }
    return out
