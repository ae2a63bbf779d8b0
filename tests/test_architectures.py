"""The builders of the speed comparison: exact sizes against the published ones, realistic prompts, and exactly N
generated tokens through the one decoding path every model shares."""

from __future__ import annotations

import pytest
import torch
from transformers.models.qwen3_asr import modeling_qwen3_asr

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.paper import published_size
from lionrepro.speed.latency import FIT_DEPTHS, extrapolate

# Exact counts (meta device, tied embeddings once); a change here is a change of architecture, not of noise.
EXACT = {
    "qwen3-asr-0.6b": 782_426_112,
    "qwen3-asr-1.7b": 2_038_052_480,
    "meralion-2-10b-asr": 10_106_435_328,
    "whisper-large-v3-turbo": 808_878_080,
}


@pytest.mark.parametrize("name", architectures.NAMES)
def test_parameter_counts_are_exact(name):
    assert architectures.count_parameters(name) == EXACT[name]


def test_sizes_match_what_is_published():
    """Table 2's labels name the language model for Qwen3-ASR (Qwen3-0.6B / -1.7B) and the whole model otherwise;
    the components match their public model cards (Qwen3-0.6B 0.6B, Qwen3-1.7B 1.7B, Gemma-2-9B 9.24B, turbo 809M)."""
    for name in ("qwen3-asr-0.6b", "qwen3-asr-1.7b"):
        model = architectures.build(name, device="meta")
        llm = sum(p.numel() for p in model.model.language_model.parameters())
        label = published_size(paper.error_row(architectures.architecture(name).paper_model).params)
        assert abs(llm / label - 1) < 0.02, (name, llm)
    meralion = architectures.build("meralion-2-10b-asr", device="meta")
    gemma = sum(p.numel() for p in meralion.text_decoder.parameters())
    assert abs(gemma / 9.24e9 - 1) < 0.001
    assert abs(EXACT["meralion-2-10b-asr"] / published_size("10B") - 1) < 0.02
    assert abs(EXACT["whisper-large-v3-turbo"] / 809e6 - 1) < 0.001


def test_tied_embeddings_are_counted_once():
    model = architectures.build("qwen3-asr-0.6b", device="meta")
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight
    meralion = architectures.build("meralion-2-10b-asr", device="meta")
    assert meralion.text_decoder.lm_head.weight is meralion.text_decoder.model.embed_tokens.weight


@pytest.mark.parametrize("name", architectures.NAMES)
def test_depth_override_keeps_widths(name):
    """Parameters grow exactly linearly with depth at fixed width: the depth fit recovers the full count."""
    points = {depth: float(architectures.count_parameters(name, depth)) for depth in FIT_DEPTHS}
    arch = architectures.architecture(name)
    assert round(extrapolate(points, (arch.encoder_layers, arch.decoder_layers))) == EXACT[name]


@pytest.mark.parametrize("frames", [1, 37, 99, 100, 101, 437, 500, 523, 800, 1234, 3000])
def test_audio_token_count_is_the_models_own(frames):
    own = modeling_qwen3_asr._get_feat_extract_output_lengths(torch.tensor(frames))
    assert architectures.qwen3_asr_audio_tokens(frames) == int(own)


def test_thirteen_audio_tokens_per_second():
    assert architectures.qwen3_asr_audio_tokens(architectures.mel_frames(5.0)) == 65


def test_qwen_prompt_has_one_placeholder_per_audio_token_and_left_padding():
    inputs = architectures.make_inputs("qwen3-asr-0.6b", [2.5, 4.37])
    audio_id = architectures.qwen3_asr_config("qwen3-asr-0.6b", 1, 1).audio_token_id
    counts = (inputs["input_ids"] == audio_id).sum(dim=1).tolist()
    assert counts == [architectures.qwen3_asr_audio_tokens(250), architectures.qwen3_asr_audio_tokens(437)]
    assert inputs["attention_mask"][0, 0] == 0 and inputs["attention_mask"][1].all()
    assert inputs["input_features"].shape == (2, 128, 500)
    assert inputs["input_features_mask"].sum(dim=1).tolist() == [250, 437]


def test_whisper_and_meralion_pad_to_thirty_seconds():
    for name in ("whisper-large-v3-turbo", "meralion-2-10b-asr"):
        assert architectures.make_inputs(name, [3.0])["input_features"].shape == (1, 128, 3000)
    meralion = architectures.make_inputs("meralion-2-10b-asr", [3.0])
    assert meralion["input_ids"].shape[1] > architectures.MERALION_SPEECH_TOKENS == 100


def test_random_weights_are_finite_and_buffers_intact():
    model = architectures.build(architectures.TINY.name)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(torch.isfinite(b).all() for b in model.buffers() if b.is_floating_point())
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight


@pytest.mark.parametrize("new_tokens", [1, 7])
def test_generate_fixed_gives_exactly_n_tokens_tiny(new_tokens):
    model = architectures.build(architectures.TINY.name)
    inputs = architectures.make_inputs(architectures.TINY.name, [1.3, 3.0])
    out = architectures.generate_fixed(model, inputs, new_tokens)
    assert out.shape == (2, new_tokens)


@pytest.mark.slow
@pytest.mark.parametrize("name", architectures.NAMES)
def test_generate_fixed_gives_exactly_n_tokens_at_full_width(name):
    """Each real architecture at full width, one layer per stack: the same path the GPU script runs."""
    model = architectures.build(name, num_layers_override=(1, 1))
    out = architectures.generate_fixed(model, architectures.make_inputs(name, [2.0]), 3)
    assert out.shape == (1, 3)


def test_eos_cannot_stop_generation_early():
    """Even a model that always prefers EOS is held to exactly N tokens (min_new_tokens = max_new_tokens)."""
    model = architectures.build(architectures.TINY.name)
    eos = model.config.eos_token_id
    eos = eos[0] if isinstance(eos, (list, tuple)) else eos
    with torch.no_grad():
        model.lm_head.weight.zero_()
        model.lm_head.weight[eos].fill_(1.0)  # tied: the embedding row too, harmless
    out = architectures.generate_fixed(model, architectures.make_inputs(architectures.TINY.name, [1.0]), 5)
    assert out.shape == (1, 5)
