"""Whisper (the paper's Whisper-large-v3-turbo baseline) through `WhisperForConditionalGeneration`.

Whisper takes no text prompt: `generate(task="transcribe")` with no language, so the model detects the language
itself, as the other backends are never told it. Its own generation config is kept (the language and task tokens,
the suppressed tokens), with greedy decoding and the row's token budget set on top. Clips are padded to Whisper's
30-second window, so a clip's features do not depend on its batch.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch
from transformers import AutoProcessor, WhisperForConditionalGeneration

from lionrepro.asr.backends.base import SAMPLE_RATE, Backend, Prompt, clips, load_complete

PROMPT = Prompt("", "none: Whisper's generate(task='transcribe') with no language, so the model detects it")


class Whisper(Backend):
    family = "whisper"

    def __init__(self, model: Any, processor: Any) -> None:
        super().__init__(model, processor.tokenizer, PROMPT)
        self.processor = processor

    def inputs(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        features = self.processor.feature_extractor(clips(rows), sampling_rate=SAMPLE_RATE, return_tensors="pt",
                                                    return_attention_mask=True)  # fmt: skip
        return {"input_features": features["input_features"], "attention_mask": features["attention_mask"]}

    def generate(self, inputs: dict[str, torch.Tensor], budgets: list[int]) -> list[list[int]]:
        config = copy.deepcopy(self.model.generation_config)
        config.update(max_new_tokens=max(budgets), max_length=None, do_sample=False, num_beams=1, use_cache=True)
        return self.model.generate(**inputs, generation_config=config, task="transcribe").tolist()


def load(folder: Path) -> Whisper:
    model = load_complete(WhisperForConditionalGeneration, folder, "Whisper", dtype=torch.float32)
    return Whisper(model, AutoProcessor.from_pretrained(folder, local_files_only=True))
