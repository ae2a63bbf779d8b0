"""One backend per model family, chosen from a checkpoint's config.json (`model_type`, then `architectures`), never
from its name: each loads the checkpoint whole or refuses it, prepares a batch of manifest rows with the prompt its
model card gives, and reads the transcript from what the model generates (lionrepro.asr.backends.base).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from lionrepro.asr.backends.base import Backend
from lionrepro.errors import UserError

# model_type -> the module of its family
FAMILIES = {
    "qwen3_asr": "lionrepro.asr.backends.qwen3_asr",
    "whisper": "lionrepro.asr.backends.whisper",
    "qwen2_audio": "lionrepro.asr.backends.qwen2_audio",
    "qwen2_5_omni": "lionrepro.asr.backends.qwen2_5_omni",
    "qwen2_5_omni_thinker": "lionrepro.asr.backends.qwen2_5_omni",
    "meralion2": "lionrepro.asr.backends.meralion2",
}
# architectures entry -> model_type, for a config.json that names its class but not its type
_ARCHITECTURES = {
    "Qwen3ASRForConditionalGeneration": "qwen3_asr",
    "WhisperForConditionalGeneration": "whisper",
    "Qwen2AudioForConditionalGeneration": "qwen2_audio",
    "Qwen2_5OmniForConditionalGeneration": "qwen2_5_omni",
    "Qwen2_5OmniModel": "qwen2_5_omni",
    "Qwen2_5OmniThinkerForConditionalGeneration": "qwen2_5_omni_thinker",
    "MERaLiON2ForConditionalGeneration": "meralion2",
}


def family(folder: Path) -> str:
    """The model type of the checkpoint in `folder`, as its config.json gives it, if a backend reads it."""
    config_file = Path(folder) / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"no checkpoint at {folder} (config.json missing)")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    kind = config.get("model_type")
    if kind not in FAMILIES:
        kind = next((_ARCHITECTURES[a] for a in config.get("architectures") or () if a in _ARCHITECTURES), kind)
    if kind not in FAMILIES:
        raise UserError(
            f"{folder}: no backend reads model_type {kind!r} (architectures {config.get('architectures')}); "
            f"known: {', '.join(sorted(FAMILIES))}"
        )
    return kind


def load_backend(folder: Path) -> Backend:
    """The checkpoint in `folder` loaded by its family's backend (float32, CPU, eval mode); refused, naming the
    weights, when its weights do not fit the architecture its config names."""
    folder = Path(folder)
    return importlib.import_module(FAMILIES[family(folder)]).load(folder)
