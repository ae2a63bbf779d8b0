"""`lionrepro evaluate --model ID_OR_DIR`: a hub id is read from the local Hugging Face cache only (offline), with its
revision and weights recorded; a killed evaluation resumes to the very output of an uninterrupted one, decoding no
row twice; two gloo processes under torchrun give the hypotheses of one."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from backend_kit import clip_rows, write_qwen2_audio

from lionrepro.asr.evaluation import HYPOTHESES_FILE, RESULTS_FILE
from lionrepro.asr.hypothesis_log import PREFIX
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.corpora.manifest import manifest_fingerprint, write_manifest
from lionrepro.fingerprints import file_sha256
from lionrepro.provenance import REPO_ROOT
from lionrepro.stages.cli import main

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manifest")
    write_manifest(folder / "test.jsonl", clip_rows(folder, 8))
    return folder / "test.jsonl"


def _evaluate(model, manifest, out, *extra):
    args = ["evaluate", "--model", str(model), "--manifest", str(manifest), "--out", str(out), "--device", "cpu"]
    return main([*args, "--quiet", *extra])


def _hub_cache(root, repo_id, checkpoint):
    """The Hugging Face cache's layout of `checkpoint` as the snapshot COMMIT of `repo_id`: content-addressed blobs,
    the snapshot's files linked to them, refs/main naming the commit."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for path in checkpoint.iterdir():
        blob = hashlib.sha256(path.read_bytes()).hexdigest()
        (repo / "blobs" / blob).write_bytes(path.read_bytes())
        (snapshot / path.name).symlink_to(f"../../blobs/{blob}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)


def test_a_hub_id_is_read_from_the_local_cache_with_its_revision(manifest, tmp_path, monkeypatch, capsys):
    checkpoint = write_qwen2_audio(tmp_path / "SeaLLMs-Audio-7B")
    _hub_cache(tmp_path / "hub", "SeaLLMs/SeaLLMs-Audio-7B", checkpoint)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert _evaluate("SeaLLMs/SeaLLMs-Audio-7B", manifest, tmp_path / "out", "--limit", "1", "--datasets", "D") == 0
    results = json.loads((tmp_path / "out" / RESULTS_FILE).read_text())
    model = results["provenance"]["model"]
    assert model["revision"] == COMMIT and model["model"] == "SeaLLMs/SeaLLMs-Audio-7B"
    assert model["weights_files"] == {"model.safetensors": file_sha256(checkpoint / "model.safetensors")}
    assert results["provenance"]["manifest_sha256"] == manifest_fingerprint(manifest)
    decoding = results["decoding"]
    assert decoding["family"] == "qwen2_audio" and "Please write down what is spoken" in decoding["prompt"]
    assert "SeaLLMs" in decoding["prompt_source"] and decoding["device"] == "cpu"
    assert decoding["utterances"] == 4  # --limit 1 of each of the four language/dataset sets

    assert _evaluate("SeaLLMs/not-downloaded", manifest, tmp_path / "none") == 2
    error = capsys.readouterr().err
    assert "not in the local Hugging Face cache" in error and "Traceback" not in error


def test_a_killed_evaluation_resumes_to_the_same_output(manifest, tmp_path):
    whole = tmp_path / "whole"
    assert _evaluate(BASE, manifest, whole, "--batch-size", "1") == 0

    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "lionrepro.stages.cli", "evaluate", "--model", str(BASE), "--manifest",
               str(manifest), "--out", str(killed), "--device", "cpu", "--quiet", "--batch-size", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    written = 0
    while process.poll() is None and written < 3:  # killed once at least three rows are on disk
        time.sleep(0.05)
        written = sum(len(path.read_text().splitlines()) for path in killed.glob(f"{PREFIX}*"))
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = sorted(killed.glob(f"{PREFIX}*"))
    assert written >= 3 and not (killed / RESULTS_FILE).exists(), "the run must be killed before it finishes"
    with partial[0].open("a") as handle:
        handle.write('{"id": "en0", "hypoth')  # a line cut short by the kill

    assert _evaluate(BASE, manifest, killed, "--batch-size", "1") == 0
    results = json.loads((killed / RESULTS_FILE).read_text())
    assert 3 <= results["decoding"]["resumed_utterances"] < 8
    assert (killed / HYPOTHESES_FILE).read_text() == (whole / HYPOTHESES_FILE).read_text()
    assert not list(killed.glob(f"{PREFIX}*")), "partial files are removed once merged"
    expected = json.loads((whole / RESULTS_FILE).read_text())
    assert results["benchmarks"] == expected["benchmarks"] and results["datasets"] == expected["datasets"]


def test_one_row_at_a_time_records_table3s_seconds_per_sample(manifest, tmp_path):
    """Each row's wall time is kept (Table 3's measure on real test sets), outside the hypotheses, which stay
    reproducible; the generated tokens are in them."""
    assert _evaluate(BASE, manifest, tmp_path / "alone", "--batch-size", "1") == 0
    results = json.loads((tmp_path / "alone" / RESULTS_FILE).read_text())
    latency, wall = results["latency"], results["decoding"]["wall_seconds"]
    per_sample = latency["seconds_per_sample"]
    assert per_sample["n"] == 8 and latency["untimed_rows"] == 0 and latency["table3_protocol"]
    setup = latency["setup_seconds_left_out"]  # the first row, decoded once before it was timed
    audio = sum(json.loads(line)["duration"] for line in manifest.read_text().splitlines())
    assert latency["rtfx"] == pytest.approx(audio / (per_sample["mean"] * per_sample["n"]))
    assert set(latency["datasets_rtfx"]) == set(results["datasets"]) and all(latency["datasets_rtfx"].values())
    assert setup > 0 and 0 < per_sample["mean"] * per_sample["n"] + setup <= wall and per_sample["sd"] > 0
    assert sum(entry["n"] for entry in latency["languages"].values()) == 8
    hypotheses = [json.loads(line) for line in (tmp_path / "alone" / HYPOTHESES_FILE).read_text().splitlines()]
    assert all(h["generated_tokens"] >= 1 and not {"decode_seconds", "setup_seconds"} & set(h) for h in hypotheses)
    tokens = latency["generated_tokens_per_sample"]["mean"]
    assert tokens == sum(h["generated_tokens"] for h in hypotheses) / 8

    assert _evaluate(BASE, manifest, tmp_path / "batched", "--batch-size", "4") == 0
    batched = json.loads((tmp_path / "batched" / RESULTS_FILE).read_text())["latency"]
    assert batched["batch_sizes"] == [4] and not batched["table3_protocol"]


def test_two_gloo_processes_give_the_hypotheses_of_one(manifest, tmp_path):
    assert _evaluate(BASE, manifest, tmp_path / "one", "--batch-size", "2") == 0
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "lionrepro.stages.cli",
               "evaluate", "--model", str(BASE), "--manifest", str(manifest), "--out", str(tmp_path / "two"),
               "--device", "cpu", "--quiet", "--batch-size", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    two = json.loads((tmp_path / "two" / RESULTS_FILE).read_text())
    assert two["decoding"]["processes"] == 2
    assert (tmp_path / "two" / HYPOTHESES_FILE).read_text() == (tmp_path / "one" / HYPOTHESES_FILE).read_text()


def test_the_static_decoder_evaluates_to_generates_hypotheses_and_says_so(manifest, tmp_path, capsys):
    assert _evaluate(BASE, manifest, tmp_path / "generate", "--batch-size", "4") == 0
    assert _evaluate(BASE, manifest, tmp_path / "static", "--batch-size", "4", "--decoder", "static") == 0
    static = json.loads((tmp_path / "static" / RESULTS_FILE).read_text())
    assert static["decoding"]["decoder"] == "static"
    assert json.loads((tmp_path / "generate" / RESULTS_FILE).read_text())["decoding"]["decoder"] == "generate"
    assert (tmp_path / "static" / HYPOTHESES_FILE).read_text() == (tmp_path / "generate" / HYPOTHESES_FILE).read_text()
    seallms = write_qwen2_audio(tmp_path / "seallms")
    assert _evaluate(seallms, manifest, tmp_path / "refused", "--decoder", "static") == 2
    assert "does not serve qwen2_audio" in capsys.readouterr().err
