"""The model factory: tokenizer, processor, tiny model (audio must move the logits), checkpoints, published sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lionrepro.asr.architectures import count_parameters, qwen3_asr_audio_tokens
from lionrepro.asr.model import (
    SPECIAL_TOKENS,
    TINY,
    build_model,
    build_processor,
    load_checkpoint,
    save_checkpoint,
    train_tokenizer,
)

CORPUS = {
    "en": ["can even back but many most our got", "after really know with from should have"],
    "zh": ["还后这些人新", "问题没被美国公司"],
    "ta": ["அது பல்வேறு தலைவர்", "என்றும் வந்த படம் என்று"],
    "ms": ["dari selamat cakap untuk", "yang dah masih hanya lebih kali"],
}
TEXTS = [text for texts in CORPUS.values() for text in texts]
RATE = 16_000


@pytest.fixture(scope="module")
def processor():
    return build_processor(train_tokenizer(TEXTS * 20, vocab_size=TINY.vocab_size))


@pytest.fixture(scope="module")
def model(processor):
    return build_model("tiny", processor, seed=0).eval()


def _prompt(processor) -> str:
    conversation = [{"role": "user", "content": [{"type": "audio", "path": "clip"}]}]
    return processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)


def _clip(seconds: float, kind: str) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    if kind == "tone":
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return (0.1 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)


def _logits(model, processor, audio: np.ndarray) -> torch.Tensor:
    batch = processor(text=[_prompt(processor)], audio=[audio], sampling_rate=RATE)
    with torch.no_grad():
        return model(**batch).logits


@pytest.mark.parametrize("text", [*TEXTS, "தமிழ் மொழி கௌரவம் பெரிய", "没见过的汉字龘", "Hello, World! 42"])
def test_tokenizer_round_trips_every_script(processor, text):
    tokenizer = processor.tokenizer
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_special_tokens_are_atomic(processor):
    tokenizer = processor.tokenizer
    ids = tokenizer.encode("".join(SPECIAL_TOKENS))
    assert tokenizer.convert_ids_to_tokens(ids) == list(SPECIAL_TOKENS)
    assert tokenizer.pad_token_id == 0 and tokenizer.eos_token == "<|im_end|>"
    assert processor.audio_token == "<|audio_pad|>"


def test_han_characters_are_single_tokens_and_tamil_words_are_not_cut_at_vowel_signs(processor):
    tokenizer = processor.tokenizer
    for char in "".join(CORPUS["zh"]):
        assert len(tokenizer.encode(char)) == 1, char
    for sentence in CORPUS["ta"]:  # each word seen often enough to merge whole, vowel signs included
        assert len(tokenizer.encode(sentence)) == len(sentence.split()), sentence


def test_tokenizer_is_deterministic(processor):
    assert train_tokenizer(TEXTS * 20).get_vocab() == processor.tokenizer.get_vocab()


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.37, 4.05])
def test_prompt_has_one_placeholder_per_audio_token(processor, seconds):
    batch = processor(text=[_prompt(processor)], audio=[_clip(seconds, "tone")], sampling_rate=RATE)
    frames = int(batch["input_features_mask"].sum())
    assert frames == round(max(seconds, 0.5) * 100)  # the extractor pads clips under 0.5 s, as upstream does
    assert int((batch["input_ids"] == processor.audio_token_id).sum()) == qwen3_asr_audio_tokens(frames)


def test_tiny_model_matches_the_processor(model, processor):
    assert model.config.text_config.vocab_size == len(processor.tokenizer)
    assert model.config.audio_token_id == processor.audio_token_id
    assert processor.tokenizer.eos_token_id in model.generation_config.eos_token_id


def test_forward_gives_a_finite_loss(model, processor):
    batch = processor(
        text=[_prompt(processor) + "language None<asr_text>还后"], audio=[_clip(1.0, "tone")], sampling_rate=RATE
    )
    loss = model(**batch, labels=batch["input_ids"]).loss
    assert torch.isfinite(loss)


def test_audio_moves_the_logits(model, processor):
    """With transformers' default init two clips differ by ~1e-3 of the logits' spread; with He init, by more."""
    tone, noise = _logits(model, processor, _clip(1.0, "tone")), _logits(model, processor, _clip(1.0, "noise"))
    assert (tone - noise).abs().max() > 0.5 * tone.std()


def test_seed_fixes_the_weights_and_spares_the_callers_rng(processor):
    state = torch.random.get_rng_state()
    first, second = build_model("tiny", processor, seed=3), build_model("tiny", processor, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_checkpoint_round_trip(model, processor, tmp_path):
    save_checkpoint(model, processor, tmp_path / "ckpt")
    loaded, loaded_processor = load_checkpoint(tmp_path / "ckpt")
    audio = _clip(1.3, "noise")
    assert torch.equal(_logits(model, processor, audio), _logits(loaded, loaded_processor, audio))
    assert loaded_processor.tokenizer.get_vocab() == processor.tokenizer.get_vocab()
    assert _prompt(loaded_processor) == _prompt(processor)
    assert loaded.generation_config.eos_token_id == model.generation_config.eos_token_id


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def test_published_size_is_the_architectures_config(processor):
    with torch.device("meta"):
        model = build_model("0.6B", processor, seed=0)
    assert sum(p.numel() for p in model.parameters()) == count_parameters("qwen3-asr-0.6b")
    assert model.config.audio_token_id == processor.audio_token_id


def test_unknown_model_name(processor):
    with pytest.raises(ValueError, match="unknown model"):
        build_model("7B", processor)
