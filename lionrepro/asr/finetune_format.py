"""Qwen3-ASR's training and inference format: prompt, target text, batches, and parsing of the model's output.

Upstream's fine-tuning (QwenLM/Qwen3-ASR `finetuning/`) supervises the whole assistant turn, language prefix
included: `language English<asr_text>{text}<|im_end|>`; with no language information it writes `language None`,
so that the model "will not learn language detection from that prefix". The paper trains with no language tags,
i.e. `language None<asr_text>{text}`; `tags=True` gives the upstream-tagged variant (an ablation, and the base).
At inference nothing is forced: the prompt ends with the assistant header and the model writes the prefix itself.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import Qwen3ASRProcessor
from transformers.models.qwen3_asr.processing_qwen3_asr import LANGUAGE_CODE_TO_NAME

from lionrepro.asr.model import ASR_TEXT, IM_END
from lionrepro.asr.supervised_loss import IGNORE_INDEX
from lionrepro.corpora.audio import TARGET_RATE, read_audio
from lionrepro.languages import language

NO_LANGUAGE = "None"
# How a transcript is read from the output (`parse_output`): recorded with each evaluation, and a change re-scores
OUTPUT_READING = "transformers Qwen3ASRProcessor.parse_output (qwen-asr parse_asr_output: 20+ repeats collapsed)"
_HOP = 160  # Qwen3ASRFeatureExtractor's hop_length (10 ms)
_HALF_WINDOW = 200  # half its n_fft, the reach of the STFT's centred window past a clip's end
_CHUNK = 64  # rows collated at a time by `training_targets`, to bound memory on a whole manifest
_STAND_IN = np.zeros(TARGET_RATE // 10, dtype=np.float32)  # 0.1 s of silence: `training_targets`' audio
_MODEL_INPUTS = ("input_ids", "attention_mask", "input_features", "input_features_mask")


def language_name(language_code: str) -> str:
    """The name upstream writes in the prefix ("Chinese" for Mandarin); Tamil, absent upstream, is "Tamil"."""
    code = language(language_code).code
    return LANGUAGE_CODE_TO_NAME.get(code, language(code).name)


def target_text(text: str, language_code: str, *, tags: bool) -> str:
    """The supervised assistant turn, without <|im_end|>: the paper's `language None` or upstream's tagged prefix."""
    name = language_name(language_code) if tags else NO_LANGUAGE
    return f"language {name}{ASR_TEXT}{text}"


def parse_output(processor: Qwen3ASRProcessor, text: str) -> tuple[str | None, str]:
    """Split generated text into (language named in the prefix, transcript) as Qwen3-ASR's reference does; the
    language is None for `language None` or no prefix.

    The reading is transformers' `Qwen3ASRProcessor.parse_output`, a port of qwen-asr's `parse_asr_output`, the
    package the paper's authors fine-tuned (and so most likely scored) with: a character, or a pattern of up to 20
    characters, repeated 20 times or more in a row is first collapsed to one (a runaway decode loses its loop, not
    its other errors), and output without `<asr_text>` is kept whole as the transcript (an untrained model's
    garbage is scored as such, not dropped). The raw output is kept beside the transcript in the hypotheses. A
    trailing <|im_end|> is removed (rows are cut before their stop token; this guards text decoded elsewhere).
    """
    parsed = processor.parse_output(text.replace(IM_END, ""))
    language = parsed["language"]
    return (None if language in (None, NO_LANGUAGE) else language), parsed["transcription"]


def prompt(processor: Qwen3ASRProcessor) -> str:
    """The chat template's generation prompt for one clip (one <|audio_pad|>, expanded by the processor): every
    inference prompt is this text, with as many audio placeholders as the clip needs."""
    conversation = [{"role": "user", "content": [{"type": "audio", "path": "clip"}]}]
    return processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)


def _audio(rows: list[dict]) -> list[np.ndarray]:
    return [_pad_for_batching(read_audio(row["audio"]).samples) for row in rows]


def _pad_for_batching(samples: np.ndarray) -> np.ndarray:
    """Trailing silence that makes a clip's features the same alone and in a padded batch.

    Qwen3ASRFeatureExtractor counts ceil(n / hop) valid frames for a clip padded in a batch but floor(n / hop) for
    the same clip alone, which changes its number of audio tokens; and the STFT's last frames see a reflection of
    the clip alone but zeros in a batch. Zeros up to a whole hop, with at least half a window of them, remove both
    differences (a reflection of zeros is zeros), so batched decoding gives exactly one-at-a-time decoding.
    """
    length = samples.shape[0] + _HALF_WINDOW
    padded = -(-length // _HOP) * _HOP
    return np.pad(samples, (0, padded - samples.shape[0]))


def _inputs(processor: Qwen3ASRProcessor, texts: list[str], audio: list[np.ndarray], padding_side: str) -> dict:
    batch = processor(text=texts, audio=audio, sampling_rate=TARGET_RATE, padding_side=padding_side)
    # Frames past a clip's end hold the log-mel floor in a batch but zeros alone (the extractor's chunk padding);
    # the encoder's convolutions see them, so they are zeroed to make a clip's encoding independent of its batch.
    batch["input_features"] = batch["input_features"] * batch["input_features_mask"][:, None, :]
    return {key: batch[key] for key in _MODEL_INPUTS}


def _target_ids(processor: Qwen3ASRProcessor, target: str) -> list[int]:
    return processor.tokenizer(target + IM_END, add_special_tokens=False)["input_ids"]


def collate(
    rows: list[dict], processor: Qwen3ASRProcessor, *, tags: bool, audio: list[np.ndarray] | None = None
) -> dict[str, torch.Tensor]:
    """A training batch: prompt + target + <|im_end|>, right-padded; labels are -100 except on target + <|im_end|>.

    Right padding keeps every row's tokens at positions 0.. as in generation (where positions follow the attention
    mask). The supervised span is located by tokenizing the target alone; the pre-tokenizer splits at the prompt's
    final newline and special tokens are atomic, so the joint tokenization ends with exactly those ids (checked).
    `audio` replaces the rows' clips (read from their files by default).
    """
    targets = [target_text(row["text"], row["language"], tags=tags) for row in rows]
    head = prompt(processor)
    clips = _audio(rows) if audio is None else audio
    batch = _inputs(processor, [head + target + IM_END for target in targets], clips, "right")
    labels = torch.full_like(batch["input_ids"], IGNORE_INDEX)
    lengths = batch["attention_mask"].sum(dim=1).tolist()
    for row, (target, length) in enumerate(zip(targets, lengths, strict=True)):
        ids = torch.tensor(_target_ids(processor, target))
        start = length - len(ids)
        if not torch.equal(batch["input_ids"][row, start:length], ids):
            raise ValueError(f"the target {target!r} does not tokenize the same after the prompt")
        labels[row, start:length] = ids
    batch["labels"] = labels
    return batch


def generation_batch(rows: list[dict], processor: Qwen3ASRProcessor) -> dict[str, torch.Tensor]:
    """The prompts alone (up to "<|im_start|>assistant\\n"), left-padded for `generate`; no language is forced."""
    return _inputs(processor, [prompt(processor)] * len(rows), _audio(rows), "left")


def training_targets(rows: list[dict], processor: Qwen3ASRProcessor, *, tags: bool) -> list[str]:
    """The decoded supervised text of each row, exactly what the loss sees (the "no language tags" claim reads it).

    The labels do not depend on the audio (its tokens are never supervised), so a short silence stands in for each
    clip: the same collation, without reading and featurising a whole manifest's audio.
    """
    decoded = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        labels = collate(chunk, processor, tags=tags, audio=[_STAND_IN] * len(chunk))["labels"]
        decoded += [processor.tokenizer.decode(row[row != IGNORE_INDEX].tolist()) for row in labels]
    return decoded
