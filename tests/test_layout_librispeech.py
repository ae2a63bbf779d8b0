"""LibriSpeech read from the layout OpenSLR 12 unpacks to: FLAC at 16 kHz, one transcript file per chapter."""

from __future__ import annotations

import pytest
from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import DUPLICATE_ID, EMPTY_TRANSCRIPT, TOO_LONG

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "en/LibriSpeech"


def _chapter(root, part, speaker, chapter, lines):
    folder = root / "LibriSpeech" / part / str(speaker) / str(chapter)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_test_clean_reads_every_utterance_with_its_transcript(tmp_path):
    root = tmp_path / "corpora"
    texts = {}
    for speaker, chapter in ((61, 70968), (121, 121726)):
        ids = [f"{speaker}-{chapter}-{u:04d}" for u in range(2)]
        folder = _chapter(root, "test-clean", speaker, chapter, [])
        lines = []
        for n, utterance in enumerate(ids):
            text = write_clip(folder / f"{utterance}.flac", "en", n + speaker).upper()
            texts[utterance] = text
            lines.append(f"{utterance} {text}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert [row["id"] for row in result.rows] == [f"en-librispeech-test-{u}" for u in sorted(texts)]
    assert [row["text"] for row in result.rows] == [texts[u] for u in sorted(texts)]
    assert not result.skipped
    assert_16k_mono(result.rows)


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = _chapter(root, "dev-clean", 84, 121123, [])
    write_clip(folder / "84-121123-0000.flac", "en", 0)
    (folder / "84-121123-0002.flac").write_bytes(b"this is not a flac file")
    write_clip(folder / "84-121123-0003.flac", "en", 1)
    (folder / "84-121123-0005.flac").write_bytes(b"")
    lines = ["84-121123-0000 A GOOD ONE", "84-121123-0001 LISTED BUT MISSING", "84-121123-0002 CORRUPT",
             "84-121123-0003 ", "84-121123-0000 A DUPLICATE", "84-121123-0005 EMPTY FILE"]  # fmt: skip
    (folder / "84-121123.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest(KEY, root, "valid", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["en-librispeech-valid-84-121123-0000"]
    assert result.skipped[EMPTY_TRANSCRIPT] == 1 and result.skipped[DUPLICATE_ID] == 1
    assert result.skipped[MISSING] == 1 and result.skipped[CORRUPT] == 1, result.skipped
    assert sum(result.skipped.values()) == 5, result.skipped  # the empty file is corrupt or empty audio


@pytest.mark.parametrize("max_seconds", [0.5])
def test_a_clip_over_the_cap_is_skipped(tmp_path, max_seconds):
    root = tmp_path / "corpora"
    folder = _chapter(root, "test-clean", 1, 2, [])
    text = write_clip(folder / "1-2-0000.flac", "en", 0)
    (folder / "1-2.trans.txt").write_text(f"1-2-0000 {text}\n", encoding="utf-8")
    result = ingest(KEY, root, "test", tmp_path / "out", max_seconds=max_seconds)
    assert not result.rows and result.skipped == {TOO_LONG: 1}


def test_decoding_threads_change_nothing_but_the_time(tmp_path):
    root = tmp_path / "corpora"
    folder = _chapter(root, "test-clean", 7, 8, [])
    lines = [f"7-8-{u:04d} {write_clip(folder / f'7-8-{u:04d}.flac', 'en', u, rate=22050)}" for u in range(6)]
    (folder / "7-8-0009.flac").write_bytes(b"corrupt")
    (folder / "7-8.trans.txt").write_text("\n".join([*lines, "7-8-0009 BAD", "7-8-0010 GONE"]) + "\n")
    one = ingest(KEY, root, "test", tmp_path / "one")
    four = ingest(KEY, root, "test", tmp_path / "four", workers=4)
    assert [(r["id"], r["duration"], r["text"]) for r in one.rows] == [
        (r["id"], r["duration"], r["text"]) for r in four.rows
    ]
    assert one.skipped == four.skipped == {CORRUPT: 1, MISSING: 1}
