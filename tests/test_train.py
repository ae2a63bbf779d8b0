"""The training loop: data order, exact resume after a kill, NaN stop, time budget, DDP under torchrun, the stages.

Everything runs the real tiny Qwen3-ASR on a handful of one-second clips, for a few steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from lionrepro.asr.model import build_model, build_processor, load_checkpoint, save_checkpoint, train_tokenizer
from lionrepro.asr.training_loop import (
    CHECKPOINTS,
    CURVE,
    NonFiniteLossError,
    TrainConfig,
    epoch_batches,
    latest_checkpoint,
    train,
    weight_checksum,
)
from lionrepro.corpora.manifest import write_manifest
from lionrepro.stages.cli import main

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RATE = 16_000
TEXTS = {
    "en": ["the cat sat", "a dog ran home", "we read books", "sun and rain"],
    "zh": ["你好世界", "我们读书", "天气很好", "小猫睡觉"],
    "ms": ["selamat pagi", "saya suka makan", "kucing tidur", "hujan turun"],
    "ta": ["வணக்கம் நண்பா", "நான் படிக்கிறேன்", "மழை பெய்கிறது", "பூனை தூங்குகிறது"],
}
FAST = {"batch_size": 4, "lr": 1e-3, "warmup_ratio": 0.25, "log_every": 1, "progress": False, "device": "cpu"}


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    """16 clips (four per language) of 0.5-1.1 s tones and noise, with their texts."""
    folder = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(0)
    rows = []
    for lang, texts in TEXTS.items():
        for i, text in enumerate(texts):
            duration = 0.5 + 0.2 * i
            t = np.arange(int(duration * SAMPLE_RATE)) / SAMPLE_RATE
            samples = 0.3 * np.sin(2 * np.pi * (150 + 40 * len(rows)) * t) + 0.01 * rng.normal(size=t.size)
            path = folder / f"{lang}-{i}.wav"
            soundfile.write(path, samples.astype(np.float32), SAMPLE_RATE)
            rows.append(
                {
                    "id": f"{lang}-{i}",
                    "dataset": "Toy",
                    "language": lang,
                    "split": "train",
                    "audio": str(path),
                    "duration": duration,
                    "text": text,
                }
            )
    return rows


@pytest.fixture(scope="module")
def base(tmp_path_factory, rows) -> Path:
    """A freshly initialised tiny model with a tokenizer over the rows' texts, saved as a checkpoint."""
    processor = build_processor(train_tokenizer([row["text"] for row in rows], 400))
    path = tmp_path_factory.mktemp("base") / "model"
    save_checkpoint(build_model("tiny", processor, seed=0), processor, path)
    return path


def _train(base: Path, rows: list[dict], out: Path, **settings) -> tuple[str, object]:
    model, processor = load_checkpoint(base)
    result = train(TrainConfig(**{**FAST, **settings}), model, processor, rows, out)
    return weight_checksum(model), result


def _curve_steps(out: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (out / CURVE).read_text().splitlines()]


def test_epoch_order_is_a_function_of_seed_and_epoch_and_buckets_by_length():
    durations = np.random.default_rng(1).uniform(0.5, 10, size=103)
    first = epoch_batches(durations, 8, seed=3, epoch=0, bucket_batches=4, shortest_first=False)
    assert first.shape == (12, 8)  # the 7 rows beyond whole batches are dropped
    assert np.array_equal(first, epoch_batches(durations, 8, seed=3, epoch=0, bucket_batches=4, shortest_first=False))
    assert not np.array_equal(first, epoch_batches(durations, 8, 3, epoch=1, bucket_batches=4, shortest_first=False))
    assert len(set(first.ravel())) == first.size
    spread = np.mean([np.ptp(durations[batch]) for batch in first])
    unsorted = np.mean([np.ptp(durations[batch]) for batch in np.arange(96).reshape(12, 8)])
    assert spread < unsorted / 2  # similar lengths together: less padding
    curriculum = epoch_batches(durations, 8, seed=3, epoch=0, bucket_batches=4, shortest_first=True)
    assert np.all(np.diff(durations[curriculum.ravel()]) >= 0)


def test_config_rejects_unknown_settings_and_counts_epochs():
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainConfig.from_section({"steps": 3, "learning_rate": 1e-3})
    assert TrainConfig.from_section({"epochs": 2.0, "batch_size": 4, "grad_accum": 2}).total_steps(17) == 4
    # batch_size is per process: two processes take 8 rows a micro-batch, so an epoch of 17 rows has 2
    assert TrainConfig.from_section({"epochs": 2.0, "batch_size": 4, "grad_accum": 2}).total_steps(17, 2) == 2
    assert TrainConfig.from_section({"steps": 10}, steps=None, lr=0.5) == TrainConfig(steps=10, lr=0.5)


def test_precision_bf16_autocasts_the_forward_pass_on_a_cpu_and_enters_the_fingerprint(base, rows, tmp_path):
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        TrainConfig.from_section({"precision": "fp16"})
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert [TrainConfig(precision=p).autocast_bf16(cpu) for p in ("auto", "bf16", "fp32")] == [False, True, False]
    assert [TrainConfig(precision=p).autocast_bf16(cuda) for p in ("auto", "bf16", "fp32")] == [True, True, False]

    dtypes = {}
    for precision in ("auto", "bf16"):
        model, processor = load_checkpoint(base)
        seen = set()
        model.lm_head.register_forward_hook(lambda _module, _inputs, output, seen=seen: seen.add(output.dtype))
        result = train(TrainConfig(**{**FAST, "steps": 2, "precision": precision}), model, processor, rows,
                       tmp_path / precision)  # fmt: skip
        dtypes[precision] = (seen, weight_checksum(model), result.fingerprint["settings"].get("precision"))
        assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay fp32
        assert np.isfinite(result.loss)
    assert dtypes["auto"][0] == {torch.float32} and dtypes["bf16"][0] == {torch.bfloat16}
    assert dtypes["auto"][1] != dtypes["bf16"][1]
    # "auto" is the value every run had before the setting existed: its fingerprints stay as recorded
    assert dtypes["auto"][2] is None and dtypes["bf16"][2] == "bf16"


def test_resume_after_a_kill_gives_the_same_weights_as_an_uninterrupted_run(base, rows, tmp_path):
    settings = {"steps": 5, "grad_accum": 2, "checkpoint_every": 2}
    reference, _ = _train(base, rows, tmp_path / "whole", **settings)

    model, processor = load_checkpoint(base)
    forwards = 0

    def kill(*_):  # the 7th forward is the middle of step 4: the last checkpoint is step 2
        nonlocal forwards
        forwards += 1
        if forwards == 7:
            raise KeyboardInterrupt

    model.lm_head.register_forward_hook(kill)
    out = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**{**FAST, **settings}), model, processor, rows, out)
    assert latest_checkpoint(out).name == "step-0000002"
    (out / CHECKPOINTS / ".step-0000004.tmp").mkdir()  # a checkpoint the kill cut short is never resumed from

    resumed, result = _train(base, rows, out, **settings)
    assert result.resumed_from == 2 and result.steps == 5
    assert resumed == reference
    assert _curve_steps(out) == [1, 2, 3, 4, 5]


def test_resume_refuses_a_checkpoint_of_other_settings(base, rows, tmp_path):
    _train(base, rows, tmp_path, steps=1)
    with pytest.raises(ValueError, match="other settings or rows"):
        _train(base, rows, tmp_path, steps=1, lr=0.5)


def test_a_planted_nan_stops_training_with_the_step(base, rows, tmp_path):
    model, processor = load_checkpoint(base)
    forwards = 0

    def plant_nan(_module, _inputs, output):
        nonlocal forwards
        forwards += 1
        return output * float("nan") if forwards == 3 else output

    model.lm_head.register_forward_hook(plant_nan)
    config = TrainConfig(**{**FAST, "steps": 5, "checkpoint_every": 1})
    with pytest.raises(NonFiniteLossError, match=r"the loss is nan at step 3 \(not applied; the last checkpoint is "):
        train(config, model, processor, rows, tmp_path)
    assert latest_checkpoint(tmp_path).name == "step-0000002"


def test_a_time_budget_stops_the_run_and_says_so(base, rows, tmp_path):
    _, result = _train(base, rows, tmp_path, steps=50, max_minutes=1e-6)
    assert (result.steps, result.stopped_by) == (1, "time budget")
    assert load_checkpoint(tmp_path / "model")  # the final model is written all the same


def test_torchrun_two_processes_shard_batches_and_keep_identical_weights(base, rows, tmp_path):
    manifest = tmp_path / "train.jsonl"
    write_manifest(manifest, rows)
    settings = {"steps": 2, "batch_size": 4, "lr": 1e-3, "log_every": 1}
    profile = tmp_path / "profile.toml"
    profile.write_text('name = "test"\nseed = 0\n[train]\n' + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "-m",
        "lionrepro.stages.cli",
        "--profile",
        str(profile),
        "train",
        "--base",
        str(base),
        "--manifest",
        str(manifest),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--batch-size",
        "2",
        "--quiet",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((out / "train.json").read_text())
    checksums = record["result"]["weight_checksums"]
    assert record["result"]["world_size"] == 2 and len(checksums) == 2 and checksums[0] == checksums[1]
    assert record["result"]["fingerprint"]["settings"]["processes"] == 2  # the global batch depends on it
    assert checksums[0] == weight_checksum(load_checkpoint(out / "model")[0])
    targets = record["provenance"]["training_targets"]
    assert targets["naming_a_language"] == 0 and list(targets["prefixes"]) == ["language None"]

    # batch_size is per process: one process with 4 rows a batch computes the losses of two processes with 2 each
    model, processor = load_checkpoint(base)
    train(TrainConfig(**settings, device="cpu", progress=False), model, processor, rows, tmp_path / "single")
    two = [json.loads(line)["loss"] for line in (out / CURVE).read_text().splitlines()]
    one = [json.loads(line)["loss"] for line in (tmp_path / "single" / CURVE).read_text().splitlines()]
    assert two == pytest.approx(one, rel=1e-4)


def test_train_stage_with_tags_names_the_language_in_every_target(base, rows, tmp_path):
    manifest = tmp_path / "train.jsonl"
    write_manifest(manifest, rows)
    args = [
        "train",
        "--base",
        str(base),
        "--manifest",
        str(manifest),
        "--out",
        str(tmp_path / "run"),
        "--tags",
        "--steps",
        "1",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main(args) == 0
    targets = json.loads((tmp_path / "run" / "train.json").read_text())["provenance"]["training_targets"]
    assert targets["naming_a_language"] == targets["rows"] == len(rows)
    assert set(targets["prefixes"]) == {"language English", "language Chinese", "language Malay", "language Tamil"}


def test_pretrain_base_trains_without_tamil_and_saves_a_loadable_checkpoint(rows, tmp_path):
    manifest = tmp_path / "train.jsonl"
    write_manifest(manifest, rows)
    out = tmp_path / "base"
    args = [
        "pretrain-base",
        "--manifest",
        str(manifest),
        "--text-manifest",
        str(manifest),
        "--out",
        str(out),
        "--steps",
        "1",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main(args) == 0
    record = json.loads((out / "train.json").read_text())
    assert record["rows_per_language"] == {"en": 4, "ms": 4, "zh": 4}
    assert record["provenance"]["training_targets"]["naming_a_language"] == 12
    model, processor = load_checkpoint(out / "model")
    assert isinstance(model, torch.nn.Module) and processor.tokenizer("வணக்கம்")["input_ids"]
