"""Building Lion-12 for real at a tiny scale: audio format, determinism, caching, resuming, manifests, the stage."""

import hashlib
import json
from pathlib import Path

import datasets
import pytest
import soundfile as sf

from lionrepro import paper
from lionrepro.corpora.lion12.build import Lion12Config, build, load_split
from lionrepro.corpora.lion12.voices import dataset_slug
from lionrepro.corpora.manifest import read_manifest
from lionrepro.stages import cli

# About 700 utterances: every dataset and split present, Table 1's order kept where the floors allow.
TINY = {"scale": 0.001, "seed": 0, "vocab_size": 120, "min_samples": {"train": 10, "valid": 4, "test": 8}}
SHARD = 300


def _config(cache_dir: Path, **changes) -> Lion12Config:
    return Lion12Config(**{**TINY, **changes}, shard_size=SHARD, workers=2, cache_dir=cache_dir)


def _digests(root: Path) -> dict[str, str]:
    """sha256 of every FLAC file and manifest under a build, by path relative to it."""
    files = [*root.rglob("*.flac"), *(root / "manifests").glob("*.jsonl")]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def _rows(corpus) -> list[dict]:
    return [row for split in paper.SPLITS for row in read_manifest(corpus.manifests[split])]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lion12-cache")


@pytest.fixture(scope="module")
def corpus(cache):
    return build(_config(cache))


def test_the_build_synthesised_every_planned_utterance(corpus):
    rows = _rows(corpus)
    assert corpus.synthesised == len(rows) > 600
    assert corpus.skipped and all(not entry["skipped"] for entry in corpus.skipped.values())


def test_audio_is_16k_mono_flac_and_matches_the_manifest(corpus):
    for row in _rows(corpus):
        info = sf.info(row["audio"])
        assert (info.samplerate, info.channels, info.format) == (16_000, 1, "FLAC"), row["id"]
        assert info.frames / info.samplerate == pytest.approx(row["duration"], abs=1e-9)
        assert 0.3 < row["duration"] < 8.0, row


def test_a_second_build_reuses_the_cache(corpus, cache):
    again = build(_config(cache))
    assert again.synthesised == 0
    assert again.root == corpus.root and again.manifests == corpus.manifests


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """The same configuration built again from nothing, in another cache."""
    return build(_config(tmp_path_factory.mktemp("lion12-rebuilt")))


def test_rebuilding_with_the_same_seed_gives_identical_bytes(corpus, rebuilt):
    assert rebuilt.synthesised == corpus.synthesised
    assert rebuilt.root.name == corpus.root.name  # same key
    ours, theirs = _digests(corpus.root), _digests(rebuilt.root)
    flac = {path: digest for path, digest in ours.items() if path.endswith(".flac")}
    assert len(flac) == corpus.synthesised
    assert flac == {path: digest for path, digest in theirs.items() if path.endswith(".flac")}
    for split in paper.SPLITS:  # the manifests differ only in the cache root inside each audio path
        ours_text = corpus.manifests[split].read_text(encoding="utf-8").replace(str(corpus.root), "ROOT")
        assert ours_text == rebuilt.manifests[split].read_text(encoding="utf-8").replace(str(rebuilt.root), "ROOT")


def test_an_interrupted_build_resumes_with_the_same_bytes(rebuilt):
    before = _digests(rebuilt.root)
    (rebuilt.root / "build.json").unlink()  # as if stopped during the last shard
    markers = sorted((rebuilt.root / "shards").glob("*.json"))
    markers[-1].unlink()
    resumed = build(_config(rebuilt.root.parent.parent))
    assert resumed.synthesised == rebuilt.synthesised - SHARD * (len(markers) - 1)
    assert 0 < resumed.synthesised <= SHARD
    assert _digests(resumed.root) == before


def test_the_datasets_are_hf_datasets_with_undecoded_audio(corpus):
    for row in paper.table1():
        code = row.language.code
        assert (corpus.root / dataset_slug(code, row.dataset) / "hf" / "dataset_dict.json").exists()
        split = load_split(corpus.root, code, row.dataset, "test")
        assert isinstance(split.features["audio"], datasets.Audio) and not split.features["audio"].decode
        first = split[0]
        assert Path(first["audio"]["path"]).exists() and first["audio"]["bytes"] is None
    manifest_ids = {r["id"] for r in _rows(corpus)}
    hf_ids = {
        i
        for row in paper.table1()
        for split in paper.SPLITS
        for i in load_split(corpus.root, row.language.code, row.dataset, split)["id"]
    }
    assert manifest_ids == hf_ids


def test_the_data_stage_writes_the_summary_and_an_exactly_balanced_manifest(
    corpus, cache, tmp_path, monkeypatch, capsys
):
    profile = tmp_path / "tiny-test.toml"
    profile.write_text(
        f"""name = "tiny-test"
seed = 0
[balance]
stage1_size = "union"
[data]
corpus = "lion12"
scale = {TINY["scale"]}
vocab_size = {TINY["vocab_size"]}
min_samples = {{ train = 10, valid = 4, test = 8 }}
shard_size = {SHARD}
cache_dir = "{cache}"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("LIONREPRO_RESULTS", str(tmp_path / "results"))
    assert cli.main(["data", "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "reused the cache" in out and "LibriSpeech" in out and "Total" in out

    summary = json.loads((tmp_path / "results" / "data" / "summary.json").read_text(encoding="utf-8"))
    assert summary["key"] == corpus.key and summary["provenance"]["profile"] == "tiny-test"
    balanced = read_manifest(Path(summary["balanced_manifest"]))
    per_language = {code: sum(r["language"] == code for r in balanced) for code in ("en", "zh", "ta", "ms")}
    assert len(set(per_language.values())) == 1, per_language
    counts = json.loads(Path(summary["balanced_counts"]).read_text(encoding="utf-8"))
    assert {lang["final"] for lang in counts["languages"]} == set(per_language.values())
    train_ids = {r["id"] for r in read_manifest(corpus.manifests["train"])}
    assert {r["id"] for r in balanced} <= train_ids  # training utterances only, never valid or test ones
