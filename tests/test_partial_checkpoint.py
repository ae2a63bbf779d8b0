"""Never a silent random model: a checkpoint missing a third of its weights (or holding weights the architecture does
not have) is refused, naming them, wherever a checkpoint is loaded; transformers alone would load it with the gaps
randomly initialised and a log line."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.errors import UserError
from lionrepro.provenance import REPO_ROOT
from lionrepro.stages.cli import main

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """The committed base with the first third of its weights (by name) gone and one stray weight added."""
    folder = tmp_path_factory.mktemp("partial") / "model"
    shutil.copytree(BASE, folder)
    weights = load_file(folder / "model.safetensors")
    names = sorted(weights)
    kept = {name: tensor for name, tensor in weights.items() if name not in names[: len(names) // 3]}
    save_file({**kept, "thinker.stray.weight": torch.zeros(2)}, folder / "model.safetensors", metadata={"format": "pt"})
    return folder, names[: len(names) // 3]


def test_loading_refuses_and_names_the_missing_and_unexpected_weights(partial):
    folder, dropped = partial
    with pytest.raises(UserError) as refused:
        load_checkpoint(folder)
    message = str(refused.value)
    assert f"{len(dropped)} missing ({dropped[0]}" in message
    assert "1 unexpected (thinker.stray.weight)" in message and "partly random" in message


def test_the_complete_checkpoint_loads():
    model, _ = load_checkpoint(BASE)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize("stage", ["evaluate", "train"])
def test_the_stages_refuse_it_in_one_line(stage, partial, tmp_path, capsys):
    folder, dropped = partial
    manifest = tmp_path / "m.jsonl"
    row = {"id": "a", "dataset": "LibriSpeech", "language": "en", "split": "test", "audio": "a.flac", "duration": 1.0,
           "text": "a"}  # fmt: skip
    manifest.write_text(json.dumps(row) + "\n")
    flag = "--checkpoint" if stage == "evaluate" else "--base"
    assert main([stage, flag, str(folder), "--manifest", str(manifest), "--out", str(tmp_path / "out")]) == 2
    assert f"does not fit the Qwen3-ASR architecture: {len(dropped)} missing" in capsys.readouterr().err
