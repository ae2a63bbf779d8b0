"""The roofline floors the decode-speed runs set their times against: the bytes a step reads, the FLOPs a prefill
does (counted by torch, checked against the model's own weights), and the least time a batch's decoding could take,
worked out by hand for a small case on each side of the roofline."""

from __future__ import annotations

import pytest
import torch

from lionrepro.asr import architectures
from lionrepro.asr.decode_families import family_of
from lionrepro.speed.roofline import (
    against_floors,
    counted_flops,
    decode_floor_s,
    decoder_weight_bytes,
    device_limits,
    kv_bytes,
    weight_bytes,
)

TINY = architectures.TINY.name


def test_decoder_weight_bytes_is_the_decoder_and_its_head(tiny_qwen):
    language_model = tiny_qwen.model.language_model
    expected = sum(p.numel() * p.element_size() for p in language_model.parameters())  # the head is tied to it
    assert decoder_weight_bytes(tiny_qwen) == expected
    assert weight_bytes(tiny_qwen) > expected  # the prefill reads the audio encoder too
    whisper = architectures.build("whisper-large-v3-turbo", device="meta", num_layers_override=(1, 1))
    every = {id(p): p.numel() * 4 for p in (*whisper.model.decoder.parameters(), whisper.proj_out.weight)}
    assert decoder_weight_bytes(whisper) < sum(every.values())  # cross-attention keys/values are cached


def test_kv_bytes_per_token_follow_the_decoder_config(tiny_qwen):
    config = tiny_qwen.config.text_config
    per_token = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * 4
    assert kv_bytes(tiny_qwen) == (per_token, 0)
    whisper = architectures.build("whisper-large-v3-turbo", device="meta", num_layers_override=(1, 2))
    assert kv_bytes(whisper) == (2 * 2 * 1280 * 4, 1500)  # and every step reads the encoder's 1,500 frames


def _linear_params(module: torch.nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Linear))


def test_a_prefill_counts_every_prompt_token_through_the_decoder_and_one_row_of_logits(tiny_qwen):
    """At least two FLOPs per decoder and encoder-layer weight per token; the output head only at the last position
    (projecting the whole prompt onto the vocabulary would be most of a small model's prefill); twice the rows,
    twice the FLOPs."""
    one = architectures.make_inputs(TINY, [3.0])
    two = architectures.make_inputs(TINY, [3.0, 3.0])
    flops = counted_flops(lambda: architectures.generate_fixed(tiny_qwen, one, 1))
    assert counted_flops(lambda: architectures.generate_fixed(tiny_qwen, two, 1)) == 2 * flops
    tokens = one["input_ids"].shape[1]
    audio_tokens = int((one["input_ids"] == tiny_qwen.config.audio_token_id).sum())
    decoder = _linear_params(tiny_qwen.model.language_model)
    encoder = _linear_params(tiny_qwen.model.audio_tower.layers)
    head = tiny_qwen.lm_head.weight.numel()
    least = 2 * decoder * tokens + 2 * encoder * audio_tokens + 2 * head
    assert least <= flops < least + 2 * head * (tokens - 1)


def test_the_decode_floor_of_rows_that_leave_by_hand(tiny_qwen):
    """Two rows after prompts of 5 and 7 tokens, writing 3 and 1 tokens (the first by the prefill): steps 1 and 2
    decode only the first row, whose cache holds 6 then 7 tokens."""
    weights = decoder_weight_bytes(tiny_qwen)
    per_token, _ = kv_bytes(tiny_qwen)
    flops_per_row = 2 * weights / 4
    bandwidth_bound = {"bandwidth": 1e9, "flops": 1e30}
    expected = (2 * weights + per_token * (6 + 7)) / 1e9
    assert decode_floor_s(tiny_qwen, [5, 7], [3, 1], bandwidth_bound) == pytest.approx(expected)
    compute_bound = {"bandwidth": 1e30, "flops": 1e6}
    assert decode_floor_s(tiny_qwen, [5, 7], [3, 1], compute_bound) == pytest.approx(2 * flops_per_row / 1e6)
    assert decode_floor_s(tiny_qwen, [5, 7], [3, 1], {"bandwidth": None, "flops": 1e6}) is None
    prompts = family_of(tiny_qwen).prompt_mask(architectures.make_inputs(TINY, [2.0, 4.0])).sum(-1).tolist()
    assert prompts[0] < prompts[1]  # the shorter clip's padding is not cached as its tokens


def test_runs_against_their_floors():
    runs = [{"audio_s": 100.0, "total_s": 0.5, "prefill_s": 0.2}, {"audio_s": 300.0, "total_s": 1.5, "prefill_s": 0.6}]
    floors = [
        {"floor_s": {"published": {"prefill": 0.1, "decode": 0.05}, "measured": {"prefill": None, "decode": 0.1}}},
        {"floor_s": {"published": {"prefill": 0.3, "decode": 0.15}, "measured": {"prefill": 0.2, "decode": 0.1}}},
    ]
    out = against_floors(runs, floors)
    assert out["measured"] is None  # one batch's floor unknown: no partial figure
    assert out["published"] == pytest.approx({"prefill": 2.0, "decode": 6.0, "rtfx_ceiling": 400.0 / 0.6})


def test_device_limits_here_are_measured_and_unpublished():
    limits = device_limits(torch.device("cpu"), torch.float32)
    assert limits["published"] == {"bandwidth": None, "flops": None}
    assert limits["measured"]["bandwidth"] > 0 and limits["measured"]["flops"] > 0
