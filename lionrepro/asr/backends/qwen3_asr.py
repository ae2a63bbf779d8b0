"""Qwen3-ASR, in the transformers-native layout (`Qwen/Qwen3-ASR-*-hf`, this project's checkpoints) or the original
one (`Qwen/Qwen3-ASR-*`, most likely the Polyglot-Lion releases), which `lionrepro.asr.model.load_checkpoint`
converts on load and caches.

The prompt is the checkpoint's own chat template with the audio alone and no language: the model writes
`language X<asr_text>` itself, and the output is read as Qwen3-ASR's reference reads it: the prefix parsed off,
runaway repetitions collapsed (lionrepro.asr.finetune_format.parse_output).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from lionrepro.asr import finetune_format, qwen3_asr_original
from lionrepro.asr.backends.base import Backend, Prompt
from lionrepro.asr.model import load_checkpoint

PROMPT_SOURCE = (
    "the checkpoint's chat template with the audio alone and no language forced, as Qwen3-ASR's processor builds it "
    "with `apply_transcription_request(audio, language=None)` (transformers models/qwen3_asr)"
)


class Qwen3ASR(Backend):
    family = "qwen3_asr"
    static_decoding = True  # a decoder-only model after its audio: tests check its tokens equal generate's

    def __init__(self, model: Any, processor: Any, layout: str = "native") -> None:
        super().__init__(model, processor.tokenizer, Prompt(finetune_format.prompt(processor), PROMPT_SOURCE),
                         layout=layout, output_reading=finetune_format.OUTPUT_READING)  # fmt: skip
        self.processor = processor

    def inputs(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return finetune_format.generation_batch(rows, self.processor)

    def read(self, tokens: list[int]) -> tuple[str, str | None, str]:
        raw = self.tokenizer.decode(tokens, skip_special_tokens=False)
        language, transcript = finetune_format.parse_output(self.processor, raw)
        return raw, language, transcript


def load(folder: Path) -> Qwen3ASR:
    layout = "original, converted on load" if qwen3_asr_original.is_original(folder) else "native"
    model, processor = load_checkpoint(folder)
    return Qwen3ASR(model, processor, layout)
