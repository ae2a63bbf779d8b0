"""Qwen2.5-Omni-3B/7B, text only: the thinker (`Qwen2_5OmniThinkerForConditionalGeneration`) of the full checkpoint
(whose `thinker.*` weights it loads; the talker and token2wav weights, which only speak, are left out), or a
thinker saved alone.

The prompt is the Qwen2.5-Omni cookbook's for speech recognition (QwenLM/Qwen2.5-Omni,
cookbooks/universal_audio_understanding.ipynb): system `You are a speech recognition model.`, then the audio and
`Transcribe the English audio into text without any punctuation marks.` (for Mandarin its Chinese counterpart).
That prompt names the spoken language, so unlike the other backends this one is told it: the row's language, with
the English sentence for Malay and Tamil (the cookbook gives none for them). The paper's own prompts are unknown.

Its audio front end is Qwen2-Audio's (Whisper features padded to 30 s, the same placeholder count: transformers'
processing_qwen2_5_omni), so `Qwen2AudioProcessor` serves for audio-only prompts, without the image and video
processors that Qwen2.5-Omni's own processor needs (Pillow and torchvision).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoTokenizer,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2AudioProcessor,
    WhisperFeatureExtractor,
)

from lionrepro.asr.backends.base import load_complete
from lionrepro.asr.backends.qwen2_audio import ChatAudio, Conversation, user_turn
from lionrepro.errors import UserError
from lionrepro.languages import LANGUAGES

# The full checkpoint's speech-output weights, which the thinker never reads (transformers 5.24 ignores them on load,
# 5.17 reports them as unexpected)
SPEECH_OUTPUT = ("talker.", "token2wav.")
SYSTEM = "You are a speech recognition model."
INSTRUCTION = "Transcribe the {language} audio into text without any punctuation marks."
INSTRUCTION_ZH = "请将这段中文语音转换为纯文本，去掉标点符号。"
PROMPT_SOURCE = (
    "the Qwen2.5-Omni cookbook (QwenLM/Qwen2.5-Omni cookbooks/universal_audio_understanding.ipynb): this system "
    f"turn, the audio, and the instruction naming the spoken language ({INSTRUCTION_ZH!r} for Mandarin)"
)


def conversation(code: str) -> Conversation:
    instruction = INSTRUCTION_ZH if code == "zh" else INSTRUCTION.format(language=_name(code))
    return [{"role": "system", "content": [{"type": "text", "text": SYSTEM}]}, user_turn(instruction)]


def _name(code: str) -> str:
    return LANGUAGES[code].name if code in LANGUAGES else code


class Qwen25Omni(ChatAudio):
    family = "qwen2_5_omni"

    def __init__(self, model: Any, processor: Any, layout: str) -> None:
        super().__init__(model, processor, conversation, PROMPT_SOURCE)
        self.details["layout"] = layout


def _chat_template(folder: Path, tokenizer: Any) -> str:
    """The checkpoint's chat template: the tokenizer's, else the processor's `chat_template.json`."""
    if tokenizer.chat_template:
        return tokenizer.chat_template
    saved = folder / "chat_template.json"
    if not saved.is_file():
        raise UserError(f"{folder} has no chat template (neither in its tokenizer nor in chat_template.json)")
    return json.loads(saved.read_text(encoding="utf-8"))["chat_template"]


def load(folder: Path) -> Qwen25Omni:
    full = "thinker_config" in json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = load_complete(Qwen2_5OmniThinkerForConditionalGeneration, folder, "Qwen2.5-Omni thinker",
                          never_read=SPEECH_OUTPUT, dtype=torch.float32)  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True),
        tokenizer=tokenizer,
        chat_template=_chat_template(folder, tokenizer),
    )
    return Qwen25Omni(model, processor, "full (thinker loaded, talker left out)" if full else "thinker alone")
