"""An original-layout Qwen3-ASR checkpoint (`thinker_config`, `thinker.*` weights, as `Qwen/Qwen3-ASR-*` and the
`qwen-asr` package have it) is converted on load and gives the very logits of the transformers-layout model it was
written from; the conversion is cached."""

from __future__ import annotations

import json
import shutil

import torch
from layout_kit import write_clip
from safetensors.torch import load_file, save_file

from lionrepro.asr import qwen3_asr_original
from lionrepro.asr.finetune_format import generation_batch
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.provenance import REPO_ROOT

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL
# The inverse of the conversion, as the original checkpoints name their weights
ORIGINAL_NAMES = (
    ("model.multi_modal_projector.linear_1.", "thinker.audio_tower.proj1."),
    ("model.multi_modal_projector.linear_2.", "thinker.audio_tower.proj2."),
    ("model.language_model.", "thinker.model."),
    ("lm_head.", "thinker.lm_head."),
    ("model.audio_tower.", "thinker.audio_tower."),
)


def _original_layout(native, folder):
    """Write `native`'s checkpoint in the original layout: nested config, thinker.* weights, the tokenizer files."""
    folder.mkdir(parents=True)
    config = json.loads((native / "config.json").read_text())
    audio = {**config["audio_config"], "model_type": "qwen3_asr_audio_encoder", "max_source_positions": 1500}
    text = {**config["text_config"], "num_experts": 0, "mlp_only_layers": []}
    thinker = {"audio_config": audio, "text_config": text, "audio_token_id": config["audio_token_id"],
               "initializer_range": config["initializer_range"]}  # fmt: skip
    outer = {k: v for k, v in config.items() if k not in ("audio_config", "text_config", "audio_token_id")}
    (folder / "config.json").write_text(json.dumps({**outer, "thinker_config": thinker, "support_languages": ["en"]}))
    weights = {}
    for name, tensor in load_file(native / "model.safetensors").items():
        for new, old in ORIGINAL_NAMES:
            if name.startswith(new):
                name = old + name[len(new) :]
                break
        weights[name] = tensor
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(native / name, folder / name)
    assert all(name.startswith("thinker.") for name in weights)


def test_an_original_checkpoint_loads_with_identical_logits(tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_CACHE", str(tmp_path / "cache"))
    original = tmp_path / "Qwen3-ASR-tiny"
    _original_layout(BASE, original)
    assert qwen3_asr_original.is_original(original) and not qwen3_asr_original.is_original(BASE)
    native, processor = load_checkpoint(BASE)
    converted, _ = load_checkpoint(original)
    clip = tmp_path / "clip.flac"
    text = write_clip(clip, "en", 0)
    rows = [{"id": "a", "dataset": "LibriSpeech", "language": "en", "split": "test", "audio": str(clip),
             "duration": 2.0, "text": text}]  # fmt: skip
    batch = generation_batch(rows, processor)
    with torch.no_grad():
        expected, got = native(**batch).logits, converted(**batch).logits
    assert expected.shape == got.shape and torch.equal(expected, got)
    cached = list((tmp_path / "cache" / "converted").iterdir())
    assert len(cached) == 1 and qwen3_asr_original.converted(original) == cached[0]
