"""Ingest: every kind of bad input is skipped and counted under its reason, and every good utterance survives intact."""

import io

import datasets
import numpy as np
import pytest
import soundfile as sf

from lionrepro.corpora.ingest import ingest_split, summarise
from lionrepro.corpora.manifest import FIELDS

MAX_SECONDS = 2.0


def encode(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    frames = int(round(seconds * rate))
    return (0.1 * np.random.default_rng(seed).standard_normal((frames, channels))).astype(np.float32)


@pytest.fixture
def planted(tmp_path):
    """A split with five good utterances (seconds given) and eleven bad ones, in the registry's column layout."""
    sf.write(tmp_path / "in_place.wav", noise(0.9, 16000), 16000, subtype="PCM_16")
    sf.write(tmp_path / "stereo48k.flac", noise(1.1, 48000, 2), 48000)
    good = [
        ("g8k", {"bytes": encode(noise(0.7, 8000, 2), 8000, "WAV", "PCM_16"), "path": None}, "  eight  ", 0.7),
        ("g44", {"bytes": encode(noise(1.3, 44100), 44100, "FLAC"), "path": None}, "forty four", 1.3),
        ("g48", {"bytes": encode(noise(0.5, 48000, 2), 48000, "OGG"), "path": "x.ogg"}, "ogg", 0.5),
        ("gin", {"bytes": None, "path": str(tmp_path / "in_place.wav")}, "in place", 0.9),
        ("gfl", {"bytes": None, "path": str(tmp_path / "stereo48k.flac")}, "file", 1.1),
    ]
    ok = {"bytes": encode(noise(0.4, 16000), 16000, "WAV"), "path": None}
    bad = [
        ("b1", {"bytes": b"\x00\x01corrupt", "path": None}, "corrupt", "corrupt audio"),
        ("b2", {"bytes": encode(np.zeros((0, 1), np.float32), 16000, "WAV"), "path": None}, "zero", "empty audio"),
        ("b3", {"bytes": b"", "path": None}, "no bytes", "empty audio"),
        ("b4", {"bytes": None, "path": str(tmp_path / "missing.wav")}, "missing", "missing audio"),
        ("b5", {"bytes": None, "path": None}, "nothing", "missing audio"),
        ("b6", ok, "", "empty transcript"),
        ("b7", ok, " \t\n ", "empty transcript"),
        ("b8", ok, None, "empty transcript"),
        ("b9", {"bytes": encode(noise(2.5, 8000), 8000, "WAV"), "path": None}, "long", "too long"),
        (
            "b10",
            {"bytes": encode(np.full((800, 1), np.inf, np.float32), 8000, "WAV", "FLOAT")},
            "inf",
            "invalid samples",
        ),
        ("g8k", ok, "repeat of an id", "duplicate id"),
    ]
    rows = [(i, a, t) for i, a, t, _ in good[:3]] + [(i, a, t) for i, a, t, _ in bad] + [good[3][:3], good[4][:3]]
    table = datasets.Dataset.from_dict(
        {
            "file_id": [r[0] for r in rows],
            "audio": [{"bytes": r[1].get("bytes"), "path": r[1].get("path")} for r in rows],
            "transcription": [r[2] for r in rows],
            "gender": ["x"] * len(rows),
        }
    ).cast_column("audio", datasets.Audio(sampling_rate=48000))  # decode=True, as the hub gives it
    expected_skips: dict[str, int] = {}
    for *_, reason in bad:
        expected_skips[reason] = expected_skips.get(reason, 0) + 1
    return table, {i: (t.strip(), s) for i, _, t, s in good}, expected_skips


def run(table, tmp_path, **overrides):
    options = dict(
        dataset_name="SLR65",
        language="Tamil",
        split="train",
        audio_column="audio",
        text_column="transcription",
        audio_dir=tmp_path / "audio",
        max_seconds=MAX_SECONDS,
        id_column="file_id",
    )
    return ingest_split(table, **(options | overrides))


def test_bad_input_is_counted_per_reason_and_good_rows_survive(planted, tmp_path):
    table, good, expected_skips = planted
    result = run(table, tmp_path)
    assert result.skipped == expected_skips
    assert len(result.rows) + sum(result.skipped.values()) == len(table)
    assert [row["id"] for row in result.rows] == [f"ta-slr65-train-{key}" for key in good]
    for row in result.rows:
        assert tuple(row) == FIELDS
        text, seconds = good[row["id"].rsplit("-", 1)[1]]
        assert (row["dataset"], row["language"], row["split"], row["text"]) == ("SLR65", "ta", "train", text)
        info = sf.info(row["audio"])
        assert (info.samplerate, info.channels) == (16000, 1)
        assert info.frames == round(row["duration"] * 16000)
        assert abs(row["duration"] - seconds) <= 1 / 16000
    in_place = next(row for row in result.rows if row["id"].endswith("-gin"))
    assert in_place["audio"] == str(tmp_path / "in_place.wav")
    written = sorted(p.name for p in (tmp_path / "audio" / "slr65" / "ta" / "train").iterdir())
    assert written == ["g44.flac", "g48.flac", "g8k.flac", "gfl.flac"]  # nothing for skipped rows


def test_reasons_name_examples_in_the_summary(planted, tmp_path):
    table, _, expected_skips = planted
    result = run(table, tmp_path)
    assert set(result.examples) == set(expected_skips)
    assert any("missing.wav" in example for example in result.examples["missing audio"])


def test_rerun_is_deterministic_and_reuses_written_audio(planted, tmp_path):
    table, _, _ = planted
    first = run(table, tmp_path)
    stamps = {row["audio"]: (tmp_path / row["audio"]).stat().st_mtime_ns for row in first.rows}
    second = run(table, tmp_path)
    assert second.rows == first.rows and second.skipped == first.skipped
    assert stamps == {row["audio"]: (tmp_path / row["audio"]).stat().st_mtime_ns for row in second.rows}


def test_streamed_dataset_gives_the_same_rows(planted, tmp_path):
    table, _, _ = planted
    streamed = run(table.to_iterable_dataset(), tmp_path / "a").rows
    in_memory = run(table, tmp_path / "b").rows
    assert [row | {"audio": row["audio"].replace("/a/", "/b/")} for row in streamed] == in_memory


def test_rows_are_keyed_by_index_without_an_id_column(planted, tmp_path):
    table, _, _ = planted
    result = run(table, tmp_path, id_column=None)
    assert result.rows[0]["id"] == "ta-slr65-train-0000000"
    assert "duplicate id" not in result.skipped


def test_a_lower_limit_skips_more_as_too_long(planted, tmp_path):
    table, _, expected_skips = planted
    result = run(table, tmp_path, max_seconds=1.0)
    assert result.skipped["too long"] == expected_skips["too long"] + 2  # the 1.3 s and 1.1 s clips


def test_missing_columns_are_named(planted, tmp_path):
    table, _, _ = planted
    with pytest.raises(KeyError, match="sentence"):
        run(table, tmp_path, text_column="sentence")


def test_summary_sums_splits_per_dataset(planted, tmp_path):
    table, _, expected_skips = planted
    train = run(table, tmp_path)
    test = run(table, tmp_path, split="test")
    other = run(table, tmp_path, dataset_name="FLEURS")
    summary = summarise([train, test, other])
    assert set(summary) == {"ta/SLR65", "ta/FLEURS"}
    slr65 = summary["ta/SLR65"]
    assert slr65["kept"] == 2 * len(train.rows)
    assert slr65["skipped"] == {reason: 2 * n for reason, n in sorted(expected_skips.items())}
    assert slr65["splits"]["test"] == {"kept": len(test.rows), "skipped": dict(sorted(expected_skips.items()))}
