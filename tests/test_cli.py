"""The `lionrepro` command: stages run from the command line, and bad requests get a clear message."""

import importlib
import json

import pytest

from lionrepro.config import load_profile
from lionrepro.corpora.manifest import read_manifest, write_manifest
from lionrepro.stages.cli import STAGES, main


def _rows(language: str, dataset: str, n: int) -> list[dict]:
    return [
        {"id": f"{dataset}-{i}", "dataset": dataset, "language": language, "split": "train", "audio": f"{i}.flac",
         "duration": 1.0, "text": "x"}
        for i in range(n)
    ]  # fmt: skip


def test_balance_stage_writes_a_balanced_manifest_and_its_counts(tmp_path, capsys):
    source = tmp_path / "train.jsonl"
    write_manifest(source, _rows("en", "A", 6) + _rows("en", "B", 2) + _rows("ta", "C", 3))
    out = tmp_path / "balanced.jsonl"
    assert main(["balance", str(source), "--out", str(out), "--seed", "7"]) == 0
    rows = read_manifest(out)
    # en: N* = 6, two datasets -> 12; ta: 3 -> N** = 12, so ta is replicated x4: 24 rows, 12 per language.
    assert len(rows) == 24
    assert sum(r["language"] == "ta" for r in rows) == 12
    counts = json.loads(out.with_suffix(".counts.json").read_text())
    assert counts["n_star_star"] == 12 and counts["seed"] == 7 and counts["reading"] == "union"
    assert counts["provenance"]["profile"] == "tiny"
    assert "-> 12" in capsys.readouterr().out


def test_balance_stage_can_skip_stage1(tmp_path):
    source = tmp_path / "train.jsonl"
    write_manifest(source, _rows("en", "A", 6) + _rows("en", "B", 2) + _rows("ta", "C", 3))
    out = tmp_path / "stage2.jsonl"
    assert main(["balance", str(source), "--out", str(out), "--reading", "none"]) == 0
    rows = read_manifest(out)
    # No Stage 1: en keeps its 6 + 2 rows, each once (N** = 8); ta's 3 are replicated x3 and subsampled to 8.
    assert sorted(r["id"] for r in rows if r["language"] == "en") == sorted(f"A-{i}" for i in range(6)) + ["B-0", "B-1"]
    assert sum(r["language"] == "ta" for r in rows) == 8
    assert json.loads(out.with_suffix(".counts.json").read_text())["reading"] == "none"


def test_a_manifest_row_missing_a_field_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "language": "en"}) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: row lacks dataset"):
        read_manifest(bad)


def test_tables_stage_regenerates_tables(tmp_path):
    assert main(["tables", "--out", str(tmp_path)]) == 0
    for name in ("table1", "table2", "table3", "table4", "table1_balanced"):
        for suffix in ("md", "tex", "csv"):
            assert (tmp_path / f"{name}.{suffix}").read_text().strip()


def test_every_stage_module_defines_its_arguments_and_run(capsys):
    for name, (module_name, _) in STAGES.items():
        module = importlib.import_module(module_name)
        assert callable(module.add_arguments) and callable(module.run), module_name
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert f"lionrepro {name}" in capsys.readouterr().out


def test_a_stage_that_cannot_be_imported_says_why(monkeypatch, capsys):
    monkeypatch.setitem(STAGES, "data", ("lionrepro.stages.no_such_stage", "a stage whose module is missing"))
    assert main(["data"]) == 2
    assert "stage 'data' cannot run here: No module named 'lionrepro.stages.no_such_stage'" in capsys.readouterr().err


def test_profiles_load_and_unknown_ones_are_refused():
    assert load_profile("tiny")["name"] == "tiny"
    assert load_profile("paper")["name"] == "paper"
    with pytest.raises(ValueError, match="unknown profile"):
        load_profile("huge")
