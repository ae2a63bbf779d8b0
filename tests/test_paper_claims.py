"""The paper profile's number claims read `evaluate` results of the released checkpoints: found by hub id or by a
folder named like it, set against Table 2 under asr-evalkit's normaliser with the tolerance claims.toml argues, and
absent from the tiny profile, which has no released checkpoints."""

from __future__ import annotations

import json

import pytest

from lionrepro.asr.checkpoints import evaluations, hub_ids, paper_model
from lionrepro.claims.measured_checkpoints import evaluated_average, evaluated_competitive
from lionrepro.claims.staleness import PROFILE_VARIABLE
from lionrepro.claims.verdicts import CAVEAT, FAILS, HOLDS, NOT_YET
from lionrepro.paper import table2
from lionrepro.provenance import RESULTS_VARIABLE, write_json_atomic


def _evaluation(root, folder: str, given: str, evalkit: float, created: str = "2026-01-01T00:00:00Z") -> None:
    write_json_atomic(
        root / "evaluate" / folder / "results.json",
        {
            "average_12": evalkit + 3.0,
            "evalkit_normaliser": {"average_12": evalkit},
            "missing_benchmarks": [],
            "decoding": {"utterances": 120},
            "provenance": {
                "model": {"model": given, "revision": "abc"},
                "device": "cuda: H200",
                "commit": "0" * 40,
                "created_utc": created,
            },
        },
    )


@pytest.fixture
def paper_results(tmp_path, monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "paper")
    monkeypatch.setenv(RESULTS_VARIABLE, str(tmp_path))
    return tmp_path


def test_every_table2_model_has_a_checkpoint_and_ids_and_folders_resolve():
    assert set(hub_ids()) == {row.model for row in table2()}
    assert paper_model("knoveleng/polyglot-lion-1.7b") == "Polyglot-Lion-1.7B"
    assert paper_model("/data/models/Qwen3-ASR-1.7B-hf/") == "Qwen3-ASR-1.7B"
    assert paper_model("/data/models/polyglot-lion-0.6b") == "Polyglot-Lion-0.6B"
    assert paper_model("models/tiny-base") is None


@pytest.mark.parametrize("average, verdict", [(15.3, HOLDS), (16.5, CAVEAT), (18.0, FAILS)])
def test_the_number_itself_against_table2_within_the_argued_tolerance(paper_results, average, verdict):
    _evaluation(paper_results, "polyglot-lion-1.7b", "knoveleng/polyglot-lion-1.7b", average)
    (check,) = evaluated_average()
    assert check.verdict == verdict and check.value == average
    assert "our normaliser's average" in check.detail and "not compared" in check.detail


def test_the_newest_evaluation_counts_and_a_missing_one_says_the_command(paper_results):
    (check,) = evaluated_average()
    assert check.verdict == NOT_YET and "evaluate --model knoveleng/polyglot-lion-1.7b" in check.detail
    _evaluation(paper_results, "a", "/copies/polyglot-lion-1.7b", 18.0, "2026-01-01T00:00:00Z")
    _evaluation(paper_results, "b", "knoveleng/polyglot-lion-1.7b", 15.0, "2026-02-01T00:00:00Z")
    assert evaluations(paper_results)["Polyglot-Lion-1.7B"][0].parent.name == "b"
    assert evaluated_average()[0].verdict == HOLDS


def test_competitive_needs_both_models_evaluated_the_same_way(paper_results):
    _evaluation(paper_results, "pl", "knoveleng/polyglot-lion-1.7b", 14.85)
    (check,) = evaluated_competitive()
    assert check.verdict == NOT_YET and "MERaLiON/MERaLiON-2-10B-ASR" in check.detail
    _evaluation(paper_results, "m", "MERaLiON/MERaLiON-2-10B-ASR", 14.32)
    assert evaluated_competitive()[0].verdict == HOLDS  # 3.7% worse: within the 5% reading
    _evaluation(paper_results, "pl2", "knoveleng/polyglot-lion-1.7b", 16.0, "2026-03-01T00:00:00Z")
    assert evaluated_competitive()[0].verdict == FAILS


def test_the_tiny_profile_has_no_released_checkpoint_checks(tmp_path, monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "tiny")
    monkeypatch.setenv(RESULTS_VARIABLE, str(tmp_path))
    assert evaluated_average() == [] and evaluated_competitive() == []


def test_the_measured_table2_puts_each_evaluated_checkpoint_beside_the_paper(paper_results):
    from lionrepro.paper import BENCHMARKS, error_row
    from lionrepro.report.table2_measured import measured_table2

    _evaluation(paper_results, "pl", "knoveleng/polyglot-lion-1.7b", 15.0)
    path = paper_results / "evaluate/pl/results.json"
    results = json.loads(path.read_text())
    columns = [b.column for b in BENCHMARKS]
    results["evalkit_normaliser"]["benchmarks"] = {c: 10.0 for c in columns}
    results["benchmarks"] = {c: 12.0 for c in columns}
    write_json_atomic(path, results)
    table = measured_table2(evaluations(paper_results))
    paper_row, ours, difference, own = table.rows
    printed = error_row("Polyglot-Lion-1.7B")
    assert paper_row[2:] == [f"{float(printed.cells[c]):.2f}" for c in columns] + [f"{float(printed.avg):.2f}"]
    assert ours[2] == "10.00" and difference[2] == f"{10.0 - float(printed.cells[columns[0]]):.2f}"
    assert "not comparable" in own[1] and own[2] == "12.00"


def _timed(root, folder: str, given: str, seconds: float, batch: int, created: str) -> None:
    _evaluation(root, folder, given, 15.0, created)
    path = root / "evaluate" / folder / "results.json"
    results = json.loads(path.read_text())
    spread = {"mean": seconds, "sd": seconds / 4, "n": 120}
    results["latency"] = {"seconds_per_sample": spread, "generated_tokens_per_sample": {"mean": 20.0},
                          "batch_sizes": [batch], "table3_protocol": batch == 1}  # fmt: skip
    write_json_atomic(path, results)


def test_the_measured_table3_reads_one_at_a_time_runs_beside_the_paper(paper_results):
    from lionrepro.paper import table3
    from lionrepro.report.table3_measured import is_table3_run, measured_table3

    _timed(paper_results, "pl", "knoveleng/polyglot-lion-1.7b", 0.05, 1, "2026-01-01T00:00:00Z")
    _timed(paper_results, "m1", "MERaLiON/MERaLiON-2-10B-ASR", 0.90, 1, "2026-01-01T00:00:00Z")
    _timed(paper_results, "m4", "MERaLiON/MERaLiON-2-10B-ASR", 0.30, 4, "2026-02-01T00:00:00Z")  # newer, batched
    found = evaluations(paper_results, where=is_table3_run)
    assert found["MERaLiON-2-10B-ASR"][0].parent.name == "m1"
    table = measured_table3(found)
    rows = {row[0]: row for row in table.rows}
    printed = {row.model: row for row in table3()}
    meralion = rows["MERaLiON-2-10B-ASR"]
    assert meralion[3] == "0.9000 ± 0.2250" and meralion[7] == "18.00"  # 0.90 / 0.05 on the same device
    assert meralion[8] == f"{float(printed['MERaLiON-2-10B-ASR'].mean_s / printed['Polyglot-Lion-1.7B'].mean_s):.2f}"
    assert meralion[6] == f"{0.90 / float(printed['MERaLiON-2-10B-ASR'].mean_s):.2f}"
