"""`lionrepro experiments` end to end on a toy world: four fine-tunes of one base at two seeds, two jobs at a time,
the base scored, the seeds pooled, the comparisons, resumption without retraining, and the measured claims that read
the summary.

The world is the real tiny Qwen3-ASR, two steps per run, and two tone clips per Table 2 test set, so that the
12-benchmark average exists; the scores are those of an untrained model and are not asserted, the plumbing is.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest
import soundfile

from lionrepro import paper
from lionrepro.asr.finetune_format import OUTPUT_READING
from lionrepro.asr.model import build_model, build_processor, save_checkpoint, train_tokenizer
from lionrepro.claims import measured_experiments
from lionrepro.claims.staleness import stale_experiments
from lionrepro.claims.verdicts import CAVEAT, FAILS, HOLDS, NOT_YET
from lionrepro.config import load_profile
from lionrepro.corpora.manifest import write_manifest
from lionrepro.fingerprints import file_sha256
from lionrepro.stages.cli import main

RATE = 16_000
WORDS = {"en": "cat dog sun", "zh": "你好世界", "ta": "வணக்கம் நண்பா", "ms": "saya suka makan"}
PROFILE = """
name = "toy"
seed = 0
[pretrain]
out = "{base_dir}"
[train]
steps = 2
batch_size = 4
lr = 1e-3
warmup_ratio = 0.5
checkpoint_every = 1
log_every = 1
device = "cpu"
threads = 1
[evaluate]
batch_size = 8
budget = {{ per_second = 2.0, extra = 2 }}
[experiments]
seeds = [0, 1]
workers = 2
bootstrap = {{ resamples = 50, seed = 0, level = 0.95 }}
comparisons = [["base", "recipe"], ["natural", "recipe"], ["tags", "recipe"], ["control", "recipe"]]
[experiments.runs.recipe]
what = "recipe"
rows = "balanced"
tags = false
[experiments.runs.natural]
what = "natural"
rows = "train"
tags = false
[experiments.runs.tags]
what = "tags"
rows = "balanced"
tags = true
[experiments.runs.control]
what = "control"
rows = "balanced"
languages = ["en", "zh", "ms"]
tags = false
"""


def _rows(folder: Path, split: str, per_dataset: int) -> list[dict]:
    rows = []
    for b in paper.BENCHMARKS:
        for i in range(per_dataset):
            path = folder / f"{b.column}-{split}-{i}.wav"
            t = np.arange(int((0.4 + 0.1 * i) * RATE)) / RATE
            soundfile.write(path, (0.3 * np.sin(2 * np.pi * (120 + 10 * len(rows)) * t)).astype(np.float32), RATE)
            rows.append(
                {
                    "id": f"{b.column}-{split}-{i}",
                    "dataset": b.dataset,
                    "language": b.language.code,
                    "split": split,
                    "audio": str(path),
                    "duration": t.size / RATE,
                    "text": WORDS[b.language.code],
                }
            )
    return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("world")
    results = root / "results"
    manifests = {split: root / f"{split}.jsonl" for split in ("train", "test", "balanced")}
    train = _rows(root, "train", 2)
    write_manifest(manifests["train"], train)
    write_manifest(manifests["balanced"], train + [r for r in train if r["language"] == "en"])  # a stand-in
    write_manifest(manifests["test"], _rows(root, "test", 2))
    summary = {
        "manifests": {"train": str(manifests["train"]), "test": str(manifests["test"])},
        "balanced_manifest": str(manifests["balanced"]),
    }
    (results / "data").mkdir(parents=True)
    (results / "data" / "summary.json").write_text(json.dumps(summary))
    processor = build_processor(train_tokenizer(list(WORDS.values()) * 5, 400))
    base_dir = root / "base"
    save_checkpoint(build_model("tiny", processor, seed=0), processor, base_dir / "model")
    profile = root / "toy.toml"
    profile.write_text(PROFILE.format(base_dir=base_dir))
    return {"results": results, "profile": profile}


@pytest.fixture(scope="module")
def summary(world) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        assert main(["--profile", str(world["profile"]), "experiments", "--quiet"]) == 0
    return json.loads((world["results"] / "experiments" / "summary.json").read_text())


def _seed(summary: dict, name: str, seed: int = 0) -> dict:
    return summary["runs"][name]["seeds"][str(seed)]


def test_every_run_at_every_seed_and_the_base_are_scored_with_equal_budgets(summary):
    runs = summary["runs"]
    assert list(runs) == ["base", "recipe", "natural", "tags", "control"] and summary["seeds"] == [0, 1]
    assert list(runs["base"]["seeds"]) == ["all"] and runs["base"]["sd"] is None
    for name in runs:
        if name != "base":
            assert list(runs[name]["seeds"]) == ["0", "1"]
            assert {seed["steps"] for seed in runs[name]["seeds"].values()} == {2}
            assert Path(runs[name]["seeds"]["1"]["train_record"]).parent.name == "seed-1"
        for entry in runs[name]["seeds"].values():
            assert entry["average_12"] is not None and set(entry["languages"]) <= {"en", "zh", "ta", "ms"}
            assert len(read_manifest_hypotheses(entry["results"])) == 24


def test_a_run_is_the_mean_of_its_seeds_with_their_sd(summary):
    for name, run in summary["runs"].items():
        seeds = list(run["seeds"].values())
        assert run["average_12"] == pytest.approx(statistics.fmean(s["average_12"] for s in seeds))
        for code, value in run["languages"].items():
            assert value == pytest.approx(statistics.fmean(s["languages"][code] for s in seeds))
        overall = [s["implicit_lid"]["overall"] for s in seeds]
        assert run["implicit_lid"]["overall"] == pytest.approx(statistics.fmean(overall))
        if name != "base":
            assert run["sd"]["average_12"] == pytest.approx(statistics.stdev(s["average_12"] for s in seeds))
            assert run["sd"]["benchmarks"].keys() == run["benchmarks"].keys()


def test_seeds_train_different_models_and_two_jobs_at_a_time_change_nothing(world, summary, tmp_path):
    """The seed is the run's, not the worker's: seed 1 starts another data order, and training the same jobs one at a
    time gives the same weights as two at a time."""
    records = [json.loads(Path(_seed(summary, "recipe", seed)["train_record"]).read_text()) for seed in (0, 1)]
    assert [r["provenance"]["config"]["seed"] for r in records] == [0, 1]
    assert records[0]["result"]["weight_checksums"] != records[1]["result"]["weight_checksums"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        out = tmp_path / "one-at-a-time"
        assert main(["--profile", str(world["profile"]), "experiments", "--quiet", "--only", "recipe", "--workers", "1",
                     "--out", str(out)]) == 0  # fmt: skip
    alone = json.loads((out / "summary.json").read_text())["runs"]["recipe"]["seeds"]
    for seed in ("0", "1"):
        again = json.loads(Path(alone[seed]["train_record"]).read_text())["result"]["weight_checksums"]
        assert again == records[int(seed)]["result"]["weight_checksums"]
        assert alone[seed]["average_12"] == summary["runs"]["recipe"]["seeds"][seed]["average_12"]


def read_manifest_hypotheses(results: str) -> list[dict]:
    return [json.loads(line) for line in (Path(results).parent / "hypotheses.jsonl").read_text().splitlines()]


def test_each_run_trains_on_what_its_table_says(summary):
    records = {
        name: json.loads(Path(_seed(summary, name)["train_record"]).read_text())
        for name in summary["runs"]
        if name != "base"
    }
    assert records["control"]["rows_per_language"].keys() == {"en", "zh", "ms"}
    assert records["recipe"]["rows_per_language"]["en"] == 2 * records["natural"]["rows_per_language"]["en"]
    assert records["recipe"]["provenance"]["training_targets"]["naming_a_language"] == 0
    tags = records["tags"]["provenance"]["training_targets"]
    assert tags["naming_a_language"] == tags["rows"] > 0


def test_comparisons_are_bootstraps_over_the_seeds_of_the_recipe(summary):
    comparisons = summary["comparisons"]
    assert set(comparisons) == {"recipe-vs-base", "recipe-vs-natural", "recipe-vs-tags", "recipe-vs-control"}
    runs = summary["runs"]
    assert comparisons["recipe-vs-base"]["seeds"] == [1, 2] and comparisons["recipe-vs-tags"]["seeds"] == [2, 2]
    for stat in comparisons.values():
        a, b = runs[stat["a"]], runs[stat["b"]]
        assert stat["average_12"]["a"] == pytest.approx(a["average_12"])
        assert stat["average_12"]["difference"] == pytest.approx(b["average_12"] - a["average_12"])
        low, high = stat["average_12"]["low"] - 1e-9, stat["average_12"]["high"] + 1e-9  # float sums
        assert low <= stat["average_12"]["difference"] <= high


def test_a_second_call_reuses_the_finished_runs(world, summary, capfd):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        assert main(["--profile", str(world["profile"]), "experiments", "--quiet", "--only", "recipe"]) == 0
    printed = capfd.readouterr().out  # the jobs print from their worker processes
    assert printed.count("recipe: trained already") == 2 and "[8/8]" in printed
    again = json.loads((world["results"] / "experiments" / "summary.json").read_text())
    assert again["runs"]["recipe"]["average_12"] == summary["runs"]["recipe"]["average_12"]


def test_the_summary_records_what_its_numbers_depend_on(world, summary):
    inputs = summary["inputs"]
    assert inputs["profile"]["train"]["steps"] == 2 and "max_minutes" not in inputs["profile"]["train"]
    assert inputs["profile"]["experiments"]["runs"]["recipe"]["rows"] == "balanced"
    assert set(inputs["manifests"]) == {"train", "balanced", "test"} and len(inputs["base_sha256"]) == 64
    assert inputs["profile"]["experiments"]["seeds"] == [0, 1] and "workers" not in inputs["profile"]["experiments"]
    assert inputs["output_reading"] == OUTPUT_READING  # a new reading makes the summary stale, and re-scores
    record = json.loads(Path(_seed(summary, "recipe")["train_record"]).read_text())
    assert record["result"]["fingerprint"]["initial_weights_sha256"]
    assert record["result"]["fingerprint"]["settings"]["threads"] == 1
    scored = json.loads(Path(_seed(summary, "recipe")["results"]).read_text())
    assert scored["provenance"]["inputs"]["checkpoint_sha256"] == file_sha256(
        Path(_seed(summary, "recipe")["checkpoint"]) / "model.safetensors"
    )
    assert scored["provenance"]["inputs"]["output_reading"] == OUTPUT_READING
    assert scored["decoding"]["output_reading"] == OUTPUT_READING


def test_a_committed_record_without_its_weights_is_trained_again(world, summary, capfd):
    """A fresh clone has the records but not the weights (they are not committed): same inputs, so it retrains."""
    model = Path(_seed(summary, "control", 1)["checkpoint"])
    shutil.rmtree(model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        assert main(["--profile", str(world["profile"]), "experiments", "--quiet", "--only", "control"]) == 0
    assert capfd.readouterr().out.count("control: trained already") == 1 and (model / "model.safetensors").exists()


def test_a_finished_run_of_other_inputs_is_refused_not_reused(world, summary, tmp_path):
    changed = tmp_path / "changed.toml"
    changed.write_text(world["profile"].read_text().replace("lr = 1e-3", "lr = 2e-3"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        with pytest.raises(SystemExit, match=r"other inputs \(settings lr 0.001 -> 0.002\): delete"):
            main(["--profile", str(changed), "experiments", "--quiet", "--only", "recipe"])


def test_unknown_runs_and_a_missing_base_are_refused(world, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(world["results"]))
    with pytest.raises(SystemExit, match="unknown experiments"):
        main(["--profile", str(world["profile"]), "experiments", "--only", "nope"])
    assert main(["--profile", str(world["profile"]), "experiments", "--base", str(tmp_path)]) == 2
    assert f"no base checkpoint: --base {tmp_path}: {tmp_path} holds no weights file" in capsys.readouterr().err


def test_measured_claims_read_the_summary(world, summary, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(world["results"]))
    tags = {check.name: check for check in measured_experiments.no_language_tags()}
    assert tags["training targets"].verdict == HOLDS
    assert tags["inference prompt"].verdict == HOLDS
    for checks in (measured_experiments.average_error(), measured_experiments.competitive()):
        assert checks and all(check.verdict != NOT_YET for check in checks)
        assert all(check.evidence["summary"].endswith("summary.json") for check in checks)


def test_measured_claims_wait_for_the_experiments(tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path))
    for checks in (measured_experiments.no_language_tags(), measured_experiments.average_error()):
        assert {check.verdict for check in checks} == {NOT_YET}


def test_staleness_names_what_changed_and_the_command(world, summary, tmp_path, monkeypatch):
    monkeypatch.setenv("LIONREPRO_RESULTS", str(world["results"]))
    assert stale_experiments(load_profile(str(world["profile"]))) == []
    changed = tmp_path / "changed.toml"
    changed.write_text(world["profile"].read_text().replace("steps = 2", "steps = 3"))
    (problem,) = stale_experiments(load_profile(str(changed)))
    assert "is stale: [train] steps 2 -> 3; run `lionrepro experiments`" in problem
    (fewer,) = stale_experiments(load_profile(str(world["profile"])) | {"experiments": {}})
    assert "seeds" in fewer


def test_a_command_line_override_is_recorded_as_an_input(world, summary, tmp_path):
    """A study run with --lr records the rate it trained at, not the profile's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIONREPRO_RESULTS", str(world["results"]))
        out = tmp_path / "study"
        assert main(["--profile", str(world["profile"]), "experiments", "--quiet", "--only", "recipe", "--lr", "2e-3",
                     "--out", str(out)]) == 0  # fmt: skip
    inputs = json.loads((out / "summary.json").read_text())["inputs"]
    assert inputs["profile"]["train"]["lr"] == 2e-3 and summary["inputs"]["profile"]["train"]["lr"] == 1e-3


@pytest.mark.parametrize(
    ("difference", "high", "verdict"),
    [(1.0, 2.5, HOLDS), (1.0, 4.0, CAVEAT), (3.5, 5.0, FAILS), (-2.0, 0.5, HOLDS)],
)
def test_competitive_is_non_inferiority_within_the_margin(difference, high, verdict, tmp_path, monkeypatch):
    """Tagged average 60: the margin is +3 points (5%). The interval's upper end decides, not significance."""
    runs = {name: {"seeds": {"0": {"results": f"{name}.json"}}} for name in ("recipe", "tags")}
    stat = {"a": 60.0, "b": 60.0 + difference, "difference": difference, "low": difference - 1.5, "high": high,
            "significant": difference - 1.5 > 0}  # fmt: skip
    summary = {
        "provenance": {"commit": "c", "device": "cpu", "created_utc": "t"},
        "runs": runs,
        "comparisons": {"recipe-vs-tags": {"average_12": stat}},
    }
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "summary.json").write_text(json.dumps(summary))
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path))
    (check,) = measured_experiments.competitive()
    assert check.verdict == verdict, check.detail
    assert "14.85 against 14.32" in check.detail


def _difference(difference: float, significant: bool) -> dict[str, float | bool]:
    return {"a": 20.0, "b": 20.0 + difference, "difference": difference, "low": difference - 1.0,
            "high": difference + 1.0, "significant": significant}  # fmt: skip


@pytest.mark.parametrize(
    ("mandarin", "significant", "verdict", "said"),
    [
        (5.42, True, CAVEAT, "More than the tolerance worse than the base: Mandarin +5.42 (significant)."),
        (4.98, True, HOLDS, "Significantly worse than the base within the tolerance: Mandarin +4.98."),
        (4.98, False, HOLDS, "No language more than the tolerance worse than the base. The control"),
    ],
)
def test_a_language_worse_than_the_base_is_named_even_within_the_tolerance(
    mandarin, significant, verdict, said, tmp_path, monkeypatch
):
    """The tolerance (5 points) decides the verdict; a significant loss under it is still said, not hidden."""
    languages = {"en": 20.0, "zh": 20.0 + mandarin, "ms": 20.0, "ta": 50.0}
    record = tmp_path / "train.json"
    record.write_text(json.dumps({"rows_per_language": {"en": 4, "zh": 3, "ms": 1, "ta": 2}}))
    seeds = {"0": {"results": "results.json", "train_record": str(record)}}
    runs = {name: {"seeds": seeds, "average_12": 30.0, "languages": languages}
            for name in ("base", "recipe", "natural", "control")}  # fmt: skip
    versus = {"average_12": _difference(-10.0, True),
              "languages": {"en": _difference(0.0, False), "zh": _difference(mandarin, significant),
                            "ms": _difference(-1.0, False), "ta": _difference(-80.0, True)}}  # fmt: skip
    summary = {
        "provenance": {"commit": "c", "device": "cpu", "created_utc": "t"},
        "runs": runs,
        "comparisons": {"recipe-vs-base": versus, "recipe-vs-natural": versus},
    }
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "summary.json").write_text(json.dumps(summary))
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path))
    check = measured_experiments.average_error()[0]
    assert check.verdict == verdict and said in check.detail, check.detail
    assert ("within the tolerance" in check.detail) == (verdict == HOLDS and significant)
