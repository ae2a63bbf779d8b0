"""The corpus registry against Table 1, fast offline failures, and the real loading path on small local copies."""

import io
import socket

import datasets
import numpy as np
import pytest
import soundfile as sf
from huggingface_hub import constants as hub_constants

from lionrepro import paper
from lionrepro.corpora import registry as corpora
from lionrepro.corpora.ingest import ingest_split
from lionrepro.corpora.registry import CorpusUnavailable, corpus, load_split, registry


@pytest.fixture(autouse=True)
def private_datasets_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def encode(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt)
    return buffer.getvalue()


def clip(index: int, rate: int, channels: int) -> np.ndarray:
    frames = rate // 4 + 100 * index
    return (0.1 * np.random.default_rng(index).standard_normal((frames, channels))).astype(np.float32)


def test_registry_covers_exactly_table1():
    assert sorted(entry.key for entry in registry()) == sorted(row.key for row in paper.table1())


def test_every_entry_says_where_to_get_it_and_how_sure_it_is():
    for entry in registry():
        assert entry.confidence in corpora.CONFIDENCE and entry.licence and entry.notes and entry.source_url
        assert entry.hub_id or entry.hub_hint, entry.key
        assert (entry.confidence == "unknown") <= (not entry.hub_id), entry.key


def test_carved_splits_partition_the_source():
    for entry in (e for e in registry() if e.carve):
        bands = sorted(band for split in paper.SPLITS if (band := entry.source_split(split)[1]))
        assert bands[0][0] == 0 and bands[-1][1] == 1.0
        assert all(a[1] == b[0] for a, b in zip(bands, bands[1:], strict=False))


def test_a_bad_registry_entry_is_rejected():
    good = corpus("ta", "FLEURS")
    with pytest.raises(ValueError, match="exactly once"):
        corpora.Corpus(**{**good.__dict__, "splits": {"train": "train"}}).check()
    with pytest.raises(ValueError, match="metric"):
        corpora.Corpus(**{**good.__dict__, "metric": "cer"}).check()


@pytest.mark.parametrize("entry", registry(), ids=lambda e: e.key)
def test_offline_fails_at_once_naming_the_dataset_and_the_way_out(entry, monkeypatch):
    def no_network(*args, **kwargs):  # "at once": nothing waits on a network; checked without a clock
        raise AssertionError("the offline path opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(CorpusUnavailable) as raised:
        load_split(entry, "test", streaming=True)
    message = str(raised.value)
    assert entry.key in message and "local_dir" in message
    assert (entry.hub_id or "no copy on the hub") in message
    assert ("token" in message) == (entry.access == "gated")


def test_an_unreachable_hub_fails_at_once_without_offline_mode(monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "ENDPOINT", "http://127.0.0.1:9")
    probes = []

    def refused(address, timeout=None, *args, **kwargs):
        probes.append((address, timeout))
        raise ConnectionRefusedError(address)

    def no_download(*args, **kwargs):
        raise AssertionError("load_dataset was tried after the hub probe failed")

    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.setattr(datasets, "load_dataset", no_download)
    with pytest.raises(CorpusUnavailable, match="unreachable"):
        load_split(corpus("en", "LibriSpeech"), "test")
    # one probe, bounded by its timeout, and no download attempt: "at once" without a clock
    assert probes == [(("127.0.0.1", 9), corpora.HUB_PROBE_SECONDS)]


def fleurs_like(rates_and_channels) -> datasets.Dataset:
    """Rows with FLEURS's columns: embedded audio bytes at the given rates and channel counts."""
    rows = [encode(clip(i, rate, ch), rate, fmt) for i, (rate, ch, fmt) in enumerate(rates_and_channels)]
    return datasets.Dataset.from_dict(
        {
            "id": [7] * len(rows),  # FLEURS ids repeat across speakers
            "audio": [{"bytes": data, "path": f"{i}.wav"} for i, data in enumerate(rows)],
            "transcription": [f"sentence {i}" for i in range(len(rows))],
            "raw_transcription": [f"Sentence {i}." for i in range(len(rows))],
        }
    ).cast_column("audio", datasets.Audio())


@pytest.mark.parametrize("streaming", [False, True])
def test_save_to_disk_copy_goes_through_ingest(tmp_path, streaming):
    entry = corpus("ta", "FLEURS")
    inputs = [(48000, 2, "WAV"), (44100, 1, "FLAC"), (8000, 2, "OGG")]
    datasets.DatasetDict({"test": fleurs_like(inputs), "train": fleurs_like(inputs[:1])}).save_to_disk(tmp_path / "d")
    split = load_split(entry, "test", streaming=streaming, local_dir=tmp_path / "d")
    result = ingest_split(
        split,
        dataset_name=entry.dataset,
        language=entry.language,
        split="test",
        audio_column=entry.audio_column,
        text_column=entry.text_column,
        audio_dir=tmp_path / "audio",
        max_seconds=30,
        id_column=entry.id_column,
    )
    assert result.skipped == {}
    assert [row["text"] for row in result.rows] == ["sentence 0", "sentence 1", "sentence 2"]
    for row, (rate, channels, _) in zip(result.rows, inputs, strict=True):
        assert abs(row["duration"] - clip(int(row["text"][-1]), rate, channels).shape[0] / rate) <= 1 / 16000
        assert sf.info(row["audio"]).samplerate == 16000 and sf.info(row["audio"]).channels == 1


def test_one_folder_per_split_and_a_missing_split(tmp_path):
    entry = corpus("zh", "FLEURS")
    fleurs_like([(16000, 1, "WAV")] * 2).save_to_disk(tmp_path / "validation")
    assert load_split(entry, "valid", local_dir=tmp_path).num_rows == 2
    with pytest.raises(CorpusUnavailable, match="zh/FLEURS.*test"):
        load_split(entry, "test", local_dir=tmp_path)


def test_common_voice_release_folder(tmp_path):
    """train.tsv / dev.tsv / test.tsv with relative clip names under clips/, MP3 audio, quotes in sentences."""
    entry = corpus("ta", "Common Voice 23")
    (tmp_path / "clips").mkdir()
    for split, count in (("train", 3), ("dev", 2), ("test", 1)):
        lines = ["client_id\tpath\tsentence\tup_votes"]
        for i in range(count):
            name = f"common_voice_ta_{split}{i}.mp3"
            (tmp_path / "clips" / name).write_bytes(encode(clip(i, 48000, 1), 48000, "MP3"))
            lines.append(f'c{i}\t{name}\t"வணக்கம்" {split} {i}\t2')
        (tmp_path / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    split = load_split(entry, "valid", local_dir=tmp_path)
    assert split.num_rows == 2 and split[0]["sentence"] == '"வணக்கம்" dev 0'
    result = ingest_split(
        split,
        dataset_name=entry.dataset,
        language=entry.language,
        split="valid",
        audio_column=entry.audio_column,
        text_column=entry.text_column,
        audio_dir=tmp_path / "audio",
        max_seconds=30,
    )
    assert result.skipped == {} and len(result.rows) == 2
    assert all(sf.info(row["audio"]).samplerate == 16000 for row in result.rows)


@pytest.mark.parametrize("streaming", [False, True])
def test_carved_splits_are_disjoint_and_cover_the_source(tmp_path, streaming):
    entry = corpus("ta", "SLR65")
    rows = 200
    table = datasets.Dataset.from_dict(
        {
            "file_id": [f"f{i}" for i in range(rows)],
            "audio": [{"bytes": b"", "path": None}] * rows,
            "transcription": ["t"] * rows,
        }
    )
    table.save_to_disk(tmp_path / "train")
    ids = {
        split: [r["file_id"] for r in load_split(entry, split, streaming=streaming, local_dir=tmp_path)]
        for split in paper.SPLITS
    }
    assert sorted(sum(ids.values(), [])) == sorted(f"f{i}" for i in range(rows))
    assert 0.7 * rows < len(ids["train"]) < 0.9 * rows and min(len(ids["valid"]), len(ids["test"])) > 0.05 * rows


def test_no_local_copy_is_named(tmp_path):
    with pytest.raises(CorpusUnavailable, match="neither"):
        load_split(corpus("ms", "Mesolitica"), "train", local_dir=tmp_path)
    with pytest.raises(CorpusUnavailable, match="not a directory"):
        load_split(corpus("ms", "Mesolitica"), "train", local_dir=tmp_path / "absent")
