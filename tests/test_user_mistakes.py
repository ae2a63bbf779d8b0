"""A user's mistake ends in one line that says what is wrong and what to do, never in a traceback: an unknown
profile, a missing manifest, checkpoint or corpus, a bad flag value, a GPU asked for where there is none. Every stage
is run with the mistakes that apply to it."""

from __future__ import annotations

import json

import pytest
import torch

from lionrepro.provenance import REPO_ROOT
from lionrepro.stages.cli import STAGES, main

BASE = "models/tiny-base/model"
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the answer where there is no GPU")


def _answer(argv: list[str], capsys) -> tuple[int | str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse, and the stages' own one-line exits
        code = exit_info.code
    err = capsys.readouterr().err
    return code, err + (code if isinstance(code, str) else "")


def _one_line(code, message: str, *expected: str) -> None:
    assert code not in (0, None), message
    assert "Traceback" not in message
    # argparse's usage lines and progress bars (a checkpoint loading) are not the answer; the answer is one line
    lines = [line for line in message.strip().splitlines() if not line.startswith(("usage:", " ")) and "%|" not in line]
    assert len(lines) == 1, message
    for text in expected:
        assert text in lines[0], lines[0]


# The least each stage needs on its command line before it looks at the profile
REQUIRED = {"balance": ["x.jsonl", "--out", "y.jsonl"], "train": ["--base", BASE], "evaluate": ["--checkpoint", BASE]}


@pytest.mark.parametrize("stage", list(STAGES))
def test_an_unknown_profile(stage, capsys):
    code, message = _answer(["--profile", "nonexistent", stage, *REQUIRED.get(stage, [])], capsys)
    _one_line(code, message, "unknown profile 'nonexistent'", "tiny", ".toml")


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "train.jsonl"
    row = {"id": "a-1", "dataset": "LibriSpeech", "language": "en", "split": "train", "audio": str(tmp_path / "a.flac"),
           "duration": 1.0, "text": "hello"}  # fmt: skip
    path.write_text("\n".join(json.dumps({**row, "id": f"a-{i}"}) for i in range(20)) + "\n")
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["balance", "missing.jsonl", "--out", "out.jsonl"], "manifest missing.jsonl does not exist"),
        (["evaluate", "--checkpoint", "no-such-model", "--manifest", "m.jsonl"], "no checkpoint at no-such-model"),
        (["train", "--base", "no-such-model", "--manifest", "m.jsonl"], "no checkpoint at no-such-model"),
        (["pretrain-base", "--manifest", "missing.jsonl", "--text-manifest", "missing.jsonl"], "does not exist"),
        (["experiments", "--base", "no-such-model"], "no base checkpoint: no checkpoint at no-such-model"),
    ],
)
def test_a_missing_manifest_or_checkpoint(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, message = _answer(argv, capsys)
    _one_line(code, message, expected)


def test_a_missing_corpus_record(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path))
    code, message = _answer(["evaluate", "--checkpoint", BASE], capsys)
    _one_line(code, message, "summary.json not found", "lionrepro data")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["data", "--scale", "lots"], "invalid float value: 'lots'"),
        (["train", "--base", BASE, "--steps", "many"], "invalid int value: 'many'"),
        (["speed", "--models", "gpt-5"], "invalid choice: 'gpt-5'"),
        (["cost", "--batch-size", "1.5"], "invalid int value: '1.5'"),
        (["balance", "x.jsonl", "--out", "y.jsonl", "--reading", "both"], "invalid choice: 'both'"),
        (["tables", "--seed", "zero"], "invalid int value: 'zero'"),
    ],
)
def test_a_bad_flag_value(argv, expected, capsys):
    code, message = _answer(argv, capsys)
    _one_line(code, message, expected)


@NO_GPU
@pytest.mark.parametrize(
    "argv",
    [
        ["speed", "--device", "cuda"],
        ["cost", "--device", "cuda"],
        ["evaluate", "--checkpoint", BASE, "--manifest", "{manifest}", "--device", "cuda"],
        ["train", "--base", BASE, "--manifest", "{manifest}", "--device", "cuda", "--out", "{out}"],
    ],
)
def test_no_gpu_where_one_is_asked_for(argv, capsys, manifest, tmp_path):
    argv = [arg.format(manifest=manifest, out=tmp_path / "out") for arg in argv]
    code, message = _answer(argv, capsys)
    _one_line(code, message, "--device cuda asks for a GPU", "sees none here")


# The paper profile where nothing is present: no corpus, no checkpoint in the (empty) Hugging Face cache, no GPU
# (`train` and `experiments` need all three, and name every one that is missing at once).
PAPER_WITH_NOTHING = [
    (["data"], ["pass --corpora-dir ROOT"]),
    (["data", "--corpora-dir", "corpora"], ["none of the 12 corpora asked for is under corpora", "REPRODUCE.md"]),
    (["data", "--corpora-dir", "corpora", "--datasets", "en/Nope"], ["unknown datasets ['en/Nope']"]),
    (["balance", "results/paper/data/manifests/train.jsonl", "--out", "b.jsonl"], ["does not exist"]),
    (
        ["train"],
        [
            "no base checkpoint: [pretrain] base Qwen/Qwen3-ASR-1.7B-hf: not a folder",
            "not in the local Hugging Face cache",
            "run `lionrepro --profile paper data --corpora-dir ROOT` first",
            "no GPU",
            "pass --device cpu",
        ],
    ),
    (["train", "--base", "Qwen/Qwen3-ASR-0.6B-hf", "--device", "cpu"], ["--base Qwen/Qwen3-ASR-0.6B-hf: not a folder"]),
    (["evaluate", "--model", "Qwen/Qwen3-ASR-1.7B-hf"], ["summary.json not found", "lionrepro data"]),
    (["evaluate", "--model", "Qwen/Qwen3-ASR-1.7B-hf", "--manifest", "m.jsonl"], ["not in the local Hugging Face"]),
    (["experiments"], ["no base checkpoint: [pretrain] base", "no manifests", "no GPU"]),
    (["experiments", "--base", BASE, "--device", "cpu"], ["no manifests: results/paper/data/summary.json not found"]),
]


@NO_GPU
@pytest.mark.parametrize(("argv", "expected"), PAPER_WITH_NOTHING, ids=[" ".join(a) for a, _ in PAPER_WITH_NOTHING])
def test_the_paper_profile_with_nothing_present(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIONREPRO_RESULTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    (tmp_path / "m.jsonl").write_text("")
    argv = [str(REPO_ROOT / BASE) if arg == BASE else arg for arg in argv]
    code, message = _answer(["--profile", "paper", *argv], capsys)
    _one_line(code, message, *expected)


def test_the_paper_profile_without_a_train_split_names_the_missing_manifest(capsys, tmp_path, monkeypatch):
    """A data record of test sets only (`--splits test`) has no training manifest to fine-tune on."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIONREPRO_RESULTS", raising=False)
    record = tmp_path / "results" / "paper" / "data" / "summary.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"manifests": {"test": str(tmp_path / "test.jsonl")}, "balanced_manifest": None}))
    (tmp_path / "test.jsonl").write_text("")
    code, message = _answer(["--profile", "paper", "experiments", "--base", str(REPO_ROOT / BASE), "--device", "cpu"],
                            capsys)  # fmt: skip
    _one_line(code, message, "no train, balanced manifest in results/paper/data/summary.json", "--corpora-dir ROOT")
