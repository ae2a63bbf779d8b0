"""Qwen3-ASR's audio encoder on one windowed attention call per layer (`lionrepro.asr.audio_windows`) must compute
what transformers' one-call-per-window loop computes, for clips of several windows and of partial ones."""

from __future__ import annotations

import pytest
import torch

from lionrepro.asr import architectures
from lionrepro.asr.audio_windows import WINDOWED_SDPA, windowed_audio_attention, windowed_sdpa
from lionrepro.asr.static_decoding import StaticGreedyDecoder

TINY = architectures.TINY.name


def test_the_encoder_on_one_call_per_layer_equals_one_call_per_window(tiny_qwen):
    encoder = tiny_qwen.model.audio_tower
    # 8 s windows: a short clip, one of exactly a window, and two of several windows with a partial last one
    inputs = architectures.make_inputs(TINY, [2.0, 8.0, 11.3, 17.0], seed=1)
    features, mask = inputs["input_features"], inputs["input_features_mask"]
    with torch.inference_mode():
        per_window = encoder(features, mask).last_hidden_state
        with windowed_audio_attention(tiny_qwen):
            assert encoder.config._attn_implementation == WINDOWED_SDPA
            windowed = encoder(features, mask).last_hidden_state
    assert encoder.config._attn_implementation == architectures.ATTENTION  # restored
    assert tiny_qwen.config.text_config._attn_implementation == architectures.ATTENTION  # never touched
    assert windowed.shape == per_window.shape
    torch.testing.assert_close(windowed, per_window, atol=1e-5, rtol=1e-5)


def test_the_windowed_prefill_decodes_the_same(tiny_qwen):
    inputs = architectures.make_inputs(TINY, [2.0, 9.5, 4.0], seed=7)
    plain = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False)()
    windowed = StaticGreedyDecoder(tiny_qwen, inputs, 6, graph=False, gqa=True, merged=True, windows=True)()
    assert torch.equal(windowed, plain)


def test_windows_need_a_qwen3_asr_encoder_and_their_boundaries():
    with pytest.raises(ValueError, match="no module to put on"):
        with windowed_audio_attention(torch.nn.Linear(2, 2)):
            pass
    states = torch.zeros(1, 2, 5, 4)
    with pytest.raises(ValueError, match="window boundaries"):
        windowed_sdpa(None, states, states, states, None)
