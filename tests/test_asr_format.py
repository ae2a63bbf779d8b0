"""Training and inference format: targets with and without language tags, label masking, prompts, output parsing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from lionrepro.asr.architectures import qwen3_asr_audio_tokens
from lionrepro.asr.finetune_format import (
    IGNORE_INDEX,
    collate,
    generation_batch,
    parse_output,
    target_text,
    training_targets,
)
from lionrepro.asr.model import build_model, build_processor, train_tokenizer

ROWS = [  # (language, text, seconds)
    ("en", "can even back but many", 1.2037),  # lengths off the 10 ms hop, where alone and batched used to differ
    ("zh", "还后这些人新", 0.7113),
    ("ta", "அது பல்வேறு தலைவர்", 2.3551),
    ("ms", "dari selamat cakap untuk", 1.5029),
]
NAMES = ("English", "Chinese", "Mandarin", "Tamil", "Malay")
RATE = 16_000


@pytest.fixture(scope="module")
def processor():
    return build_processor(train_tokenizer([text for _, text, _ in ROWS] * 20))


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio")
    rows = []
    for index, (code, text, seconds) in enumerate(ROWS):
        t = np.arange(round(seconds * RATE)) / RATE
        path = folder / f"{code}.wav"
        sf.write(path, (0.3 * np.sin(2 * np.pi * (200 + 50 * index) * t)).astype(np.float32), RATE)
        rows.append({"id": code, "language": code, "text": text, "audio": str(path), "duration": seconds})
    return rows


def _ids(processor, text: str) -> list[int]:
    return processor.tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("code", ["en", "zh", "ta", "ms"])
def test_target_without_tags_names_no_language(code):
    target = target_text("some words", code, tags=False)
    assert target == "language None<asr_text>some words"
    assert not any(name in target for name in NAMES)


@pytest.mark.parametrize(("code", "name"), [("en", "English"), ("zh", "Chinese"), ("ta", "Tamil"), ("ms", "Malay")])
def test_target_with_tags_uses_upstream_names(code, name):
    assert target_text("x", code, tags=True) == f"language {name}<asr_text>x"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("language English<asr_text>hello world", ("English", "hello world")),
        ("language None<asr_text>还后这些", (None, "还后这些")),
        ("  language Tamil<asr_text> அது பல்வேறு <|im_end|>", ("Tamil", "அது பல்வேறு")),
        ("hello world", (None, "hello world")),
        ("language Malay", (None, "language Malay")),  # no <asr_text>: the reference keeps it all as text
        ("language None<asr_text>", (None, "")),
        ("language is what we speak", (None, "language is what we speak")),
        ("asr_text>language English dari", (None, "asr_text>language English dari")),
        ("", (None, "")),
        # qwen-asr's repetition fix (transformers keeps it): 21+ equal characters become one, then a pattern of up
        # to 20 characters repeated 20+ times becomes one copy (its scan stops 40 characters before the end)
        ("language None<asr_text>计划" + "计" * 25 + "国家", (None, "计划计国家")),
        ("language None<asr_text>" + "ya " * 30 + "end", (None, "ya end")),
        ("language None<asr_text>dari " + "di ini " * 19 + "x", (None, "dari " + "di ini " * 19 + "x")),
        ("language None<asr_text>" + "a" * 25 + "b" * 20 + "c", (None, "a" + "b" * 20 + "c")),  # 20: not 21+
    ],
)
def test_parse_output_reads_as_the_reference(processor, raw, expected):
    assert parse_output(processor, raw) == expected


@pytest.mark.parametrize("tags", [False, True])
def test_collate_supervises_exactly_target_and_end_of_turn(processor, rows, tags):
    batch = collate(rows, processor, tags=tags)
    assert set(batch) == {"input_ids", "attention_mask", "input_features", "input_features_mask", "labels"}
    for index, row in enumerate(rows):
        labels = batch["labels"][index]
        supervised = labels[labels != IGNORE_INDEX]
        expected = target_text(row["text"], row["language"], tags=tags) + "<|im_end|>"
        assert processor.tokenizer.decode(supervised) == expected
        assert supervised.tolist() == _ids(processor, expected)  # one contiguous span, nothing else
        length = int(batch["attention_mask"][index].sum())
        assert (labels[length:] == IGNORE_INDEX).all() and batch["attention_mask"][index, :length].all()
        assert (labels[length - len(supervised) : length] != IGNORE_INDEX).all()


def test_collate_has_one_placeholder_per_audio_token(processor, rows):
    batch = collate(rows, processor, tags=False)
    for index, row in enumerate(rows):
        frames = int(batch["input_features_mask"][index].sum())
        assert row["duration"] * 100 <= frames <= row["duration"] * 100 + 3  # the clip and < 30 ms of silence
        placeholders = int((batch["input_ids"][index] == processor.audio_token_id).sum())
        assert placeholders == qwen3_asr_audio_tokens(frames)


def test_training_targets_without_tags_name_no_language(processor, rows):
    targets = training_targets(rows, processor, tags=False)
    assert [t.startswith("language None<asr_text>") for t in targets] == [True] * len(rows)
    assert not any(name in target for target in targets for name in NAMES)
    assert "language Tamil<asr_text>" in training_targets(rows, processor, tags=True)[2]


@pytest.mark.parametrize("tags", [False, True])
def test_training_targets_are_the_labels_of_the_real_batch(processor, rows, tags):
    """The claim reads targets collated with a stand-in silence: they must be the labels the real clips give."""
    labels = collate(rows, processor, tags=tags)["labels"]
    real = [processor.tokenizer.decode(row[row != IGNORE_INDEX].tolist()) for row in labels]
    assert training_targets(rows, processor, tags=tags) == real


def test_generation_batch_is_the_left_padded_prompt(processor, rows):
    batch = generation_batch(rows, processor)
    assert set(batch) == {"input_ids", "attention_mask", "input_features", "input_features_mask"}
    header = _ids(processor, "<|im_start|>assistant\n")
    mask = batch["attention_mask"]
    assert mask[:, -1].all() and not mask[:, 0].all()  # left-padded: rows differ in length, all end together
    for ids, row_mask in zip(batch["input_ids"], mask, strict=True):
        prompt = ids[row_mask.bool()].tolist()
        assert prompt[-len(header) :] == header
        assert processor.tokenizer.decode(prompt).count("language") == 0


def test_a_clip_is_encoded_the_same_alone_and_in_a_batch(processor, rows):
    """What makes batched decoding give one-at-a-time decoding's hypotheses: same features, placeholders, logits."""
    model = build_model("tiny", processor, seed=0).eval()
    batch = generation_batch(rows, processor)
    with torch.no_grad():
        batched = model(**batch).logits[:, -1]
        for index, row in enumerate(rows):
            alone = generation_batch([row], processor)
            frames = alone["input_features"].shape[-1]
            assert torch.equal(batch["input_features"][index, :, :frames], alone["input_features"][0])
            assert not batch["input_features"][index, :, frames:].any()
            assert alone["input_ids"][0].tolist() == batch["input_ids"][index, -alone["input_ids"].shape[1] :].tolist()
            torch.testing.assert_close(model(**alone).logits[0, -1], batched[index], atol=1e-4, rtol=1e-4)
