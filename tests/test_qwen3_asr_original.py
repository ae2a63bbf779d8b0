"""An original-layout Qwen3-ASR checkpoint (`thinker_config`, `thinker.*` weights, as `Qwen/Qwen3-ASR-*` and the
`qwen-asr` package have it) is converted on load and gives the very logits of the transformers-layout model it was
written from; the conversion is cached."""

from __future__ import annotations

import torch
from backend_kit import write_qwen3_asr_original
from layout_kit import write_clip

from lionrepro.asr import qwen3_asr_original
from lionrepro.asr.finetune_format import generation_batch
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.provenance import REPO_ROOT

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL


def test_an_original_checkpoint_loads_with_identical_logits(tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_CACHE", str(tmp_path / "cache"))
    original = tmp_path / "Qwen3-ASR-tiny"
    write_qwen3_asr_original(BASE, original)
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
