"""`lionrepro --profile paper data`: the real corpora read from a folder of local copies in their distributed layouts,
manifests and Algorithm 1 under the paper profile's own results folder, a missing corpus reported in one line while
the others are read, and the tiny profile's results left alone."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
from layout_kit import write_clip

from lionrepro.stages.cli import main


def _librispeech(root, part, speaker, chapter, count):
    folder = root / "LibriSpeech" / part / str(speaker) / str(chapter)
    lines = []
    for u in range(count):
        utterance = f"{speaker}-{chapter}-{u:04d}"
        lines.append(f"{utterance} {write_clip(folder / f'{utterance}.flac', 'en', u).upper()}")
    (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIONREPRO_RESULTS", raising=False)
    return tmp_path


def test_test_clean_becomes_a_manifest_under_the_paper_results(workdir):
    lines = _librispeech(workdir / "corpora", "test-clean", 61, 70968, 3)
    argv = [
        "--profile",
        "paper",
        "data",
        "--corpora-dir",
        "corpora",
        "--datasets",
        "en/LibriSpeech",
        "--splits",
        "test",
    ]
    assert main(argv) == 0
    manifest = workdir / "results" / "paper" / "data" / "manifests" / "test.jsonl"
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows] == [line.split(" ", 1)[1] for line in lines]
    for row in rows:
        info = sf.info(row["audio"])
        assert row["duration"] == pytest.approx(info.frames / info.samplerate) and info.samplerate == 16000
    record = json.loads((workdir / "results" / "paper" / "data" / "summary.json").read_text(encoding="utf-8"))
    (entry,) = record["summary"]
    assert entry["samples"] == {"test": 3} and entry["paper_samples"] == {"test": 2619}
    assert not (workdir / "results" / "data").exists()  # the tiny profile's data record is untouched
    first = manifest.read_bytes()
    assert main(argv) == 0 and manifest.read_bytes() == first  # the same copy gives the same manifest


def test_a_missing_corpus_is_one_line_and_the_others_are_read(workdir, capsys):
    _librispeech(workdir / "corpora", "train-clean-100", 19, 198, 2)
    _librispeech(workdir / "corpora", "train-clean-100", 26, 495, 1)
    argv = ["--profile", "paper", "data", "--corpora-dir", "corpora", "--datasets", "en/LibriSpeech,zh/AISHELL-1",
            "--splits", "train"]  # fmt: skip
    assert main(argv) == 1
    out, err = capsys.readouterr()
    (line,) = [line for line in out.splitlines() if line.startswith("zh/AISHELL-1")]
    assert "not found at corpora/data_aishell" in line and "openslr.org/33" in line
    assert "missing under corpora: zh/AISHELL-1" in err
    train = workdir / "results" / "paper" / "data" / "manifests"
    assert len((train / "train.jsonl").read_text().splitlines()) == 3
    assert len((train / "train_balanced.jsonl").read_text().splitlines()) == 3  # one language, one dataset


def test_without_a_corpora_folder_it_says_what_to_pass(workdir, capsys):
    assert main(["--profile", "paper", "data"]) == 2
    assert "pass --corpora-dir ROOT" in capsys.readouterr().err
