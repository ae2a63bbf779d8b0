"""OpenSLR 127 (IISc-MILE Tamil) read from the layout its archive unpacks to: 16 kHz WAV, one transcript file per
utterance, official train and test (the paper's valid carved from train)."""

from __future__ import annotations

from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "ta/SLR127"


def _transcript(root, split, name, text):
    path = root / "mile_tamil_asr_corpus" / split / "trans_files" / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _audio(root, split, name):
    return root / "mile_tamil_asr_corpus" / split / "audio_files" / f"{name}.wav"


def _utterances(root, split, names):
    """A 16 kHz WAV and its transcript file (with a trailing newline) per name; {name: transcript}."""
    texts = {}
    for n, name in enumerate(names):
        texts[name] = write_clip(_audio(root, split, name), "ta", n)
        _transcript(root, split, name, texts[name] + "\n")
    return texts


def _keys(result):
    prefix = f"ta-slr127-{result.split}-"
    assert all(row["id"].startswith(prefix) for row in result.rows), [row["id"] for row in result.rows]
    return [row["id"].removeprefix(prefix) for row in result.rows]


def test_valid_is_carved_from_train_and_test_is_as_listed(tmp_path):
    root = tmp_path / "corpora"
    train = _utterances(root, "train", [f"train_spk{n % 4:03d}_{n:05d}" for n in range(12)])
    test = _utterances(root, "test", [f"test_spk{n % 2:03d}_{n:05d}" for n in range(3)])
    write_clip(_audio(root, "test", "no_transcript"), "ta", 0)  # audio alone is not an utterance
    results = {split: ingest(KEY, root, split, tmp_path / "out") for split in ("train", "valid", "test")}
    keys = {split: _keys(result) for split, result in results.items()}
    assert keys["train"] and keys["valid"], keys  # 12 rows leave 10/2 with the fixed hash bands
    assert sorted(keys["train"] + keys["valid"]) == sorted(train)  # disjoint and complete
    assert [row["id"] for row in results["test"].rows] == [f"ta-slr127-test-{name}" for name in sorted(test)]
    texts = {**train, **test}
    for split, result in results.items():
        assert [row["text"] for row in result.rows] == [texts[key] for key in keys[split]]
        assert not result.skipped
        assert_16k_mono(result.rows)
        source = "test" if split == "test" else "train"  # 16 kHz mono WAV is used where it lies
        assert [row["audio"] for row in result.rows] == [str(_audio(root, source, k).resolve()) for k in keys[split]]


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    good = _utterances(root, "test", ["test_00000", "test_00001"])
    _transcript(root, "test", "test_00002", "ஒலி கோப்பு இல்லை")
    _transcript(root, "test", "test_00003", "சிதைந்த கோப்பு")
    _audio(root, "test", "test_00003").write_bytes(b"RIFF this is not a wav file")
    _transcript(root, "test", "test_00004", "  \n")
    write_clip(_audio(root, "test", "test_00004"), "ta", 2)
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert _keys(result) == sorted(good)
    assert [row["text"] for row in result.rows] == [good[key] for key in sorted(good)]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, result.skipped
