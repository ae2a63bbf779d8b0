"""SeaLLMs-Audio-7B (Qwen2-Audio with a Qwen2.5-7B-Instruct language model) through
`Qwen2AudioForConditionalGeneration` and the checkpoint's own processor and chat template.

The prompt is the model card's: the audio, then `Please write down what is spoken in the audio file.`, greedy
(`do_sample=False`). The feature extractor pads every clip to Whisper's 30-second window, so a clip's features do
not depend on its batch; prompts are left-padded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

from lionrepro.asr.backends.base import SAMPLE_RATE, Backend, Prompt, clips, load_complete

INSTRUCTION = "Please write down what is spoken in the audio file."
PROMPT_SOURCE = "the SeaLLMs/SeaLLMs-Audio-7B model card (README, usage example): the audio, then this instruction"

Conversation = list[dict[str, Any]]


def user_turn(instruction: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "audio", "path": "clip"}, {"type": "text", "text": instruction}]}


class ChatAudio(Backend):
    """A decoder-only audio chat model whose processor expands one audio placeholder per clip and takes
    `input_features` and `feature_attention_mask` (Qwen2-Audio's front end, which Qwen2.5-Omni shares)."""

    def __init__(self, model: Any, processor: Any, conversation: Callable[[str], Conversation], source: str) -> None:
        """`conversation(language code)` is the chat for one clip; the prompt recorded is the one for the language
        code "{language}" (the same text for a model whose prompt names no language)."""
        self.processor, self.conversation = processor, conversation
        super().__init__(model, processor.tokenizer, Prompt(self.chat(conversation("{language}")), source))

    def chat(self, conversation: Conversation) -> str:
        return self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)

    def inputs(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        texts = [self.chat(self.conversation(row["language"])) for row in rows]
        batch = self.processor(text=texts, audio=clips(rows), sampling_rate=SAMPLE_RATE, return_tensors="pt",
                               padding=True, padding_side="left")  # fmt: skip
        return {key: batch[key] for key in ("input_ids", "attention_mask", "input_features", "feature_attention_mask")}


class Qwen2Audio(ChatAudio):
    family = "qwen2_audio"

    def __init__(self, model: Any, processor: Any) -> None:
        super().__init__(model, processor, lambda language: [user_turn(INSTRUCTION)], PROMPT_SOURCE)


def load(folder: Path) -> Qwen2Audio:
    model = load_complete(Qwen2AudioForConditionalGeneration, folder, "Qwen2-Audio", dtype=torch.float32)
    return Qwen2Audio(model, AutoProcessor.from_pretrained(folder, local_files_only=True))
