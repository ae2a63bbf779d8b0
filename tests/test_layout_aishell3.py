"""AISHELL-3 read from the layout OpenSLR 93 unpacks to: WAV at 44.1 kHz under <part>/wav/<speaker>/, a content.txt
per part giving each character followed by its pinyin; the paper's valid split carved from the official train."""

from __future__ import annotations

from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "zh/AISHELL-3"
RATE = 44100


def _part(root, part, utterances):
    """Write `<part>/wav/SPK/<id>.wav` for each utterance id and its content.txt; the sentences by id."""
    folder = root / "AISHELL-3" / part
    texts, lines = {}, []
    for n, utterance in enumerate(utterances):
        texts[utterance] = write_clip(folder / "wav" / utterance[:7] / f"{utterance}.wav", "zh", n, rate=RATE)
        lines.append(f"{utterance}.wav\t{_with_pinyin(texts[utterance])}")
    _content(folder, lines)
    return texts


def _content(folder, lines):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "content.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _with_pinyin(text):
    """Each character followed by a pinyin syllable, as content.txt gives them."""
    return " ".join(f"{char} pin{n % 5 + 1}" for n, char in enumerate(text))


def test_test_reads_every_utterance_as_its_characters(tmp_path):
    root = tmp_path / "corpora"
    texts = _part(root, "test", ["SSB00050001", "SSB00050002", "SSB00120353"])
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert [row["id"] for row in result.rows] == [f"zh-aishell-3-test-{u}" for u in sorted(texts)]
    assert [row["text"] for row in result.rows] == [texts[u] for u in sorted(texts)]
    assert not any(char.isascii() for row in result.rows for char in row["text"])
    assert not result.skipped, result.skipped
    assert_16k_mono(result.rows)


def test_valid_is_carved_from_train_the_same_way_on_every_read(tmp_path):
    root = tmp_path / "corpora"
    # speakers 5 and 18: 8 utterances, of which the id hash puts SSB00180003 (only) in valid's 10% band
    texts = _part(root, "train", [f"SSB{speaker:04d}{u:04d}" for speaker in (5, 18) for u in range(1, 5)])
    reads = []
    for attempt in range(2):
        splits = {split: ingest(KEY, root, split, tmp_path / f"out{attempt}").rows for split in ("train", "valid")}
        ids = {
            split: {row["id"].removeprefix(f"zh-aishell-3-{split}-") for row in rows} for split, rows in splits.items()
        }
        assert ids["train"] and ids["valid"] and not ids["train"] & ids["valid"]
        assert ids["train"] | ids["valid"] == set(texts)
        assert all(row["text"] == texts[row["id"][-11:]] for rows in splits.values() for row in rows)
        assert_16k_mono(splits["train"] + splits["valid"])
        reads.append(ids)
    assert reads[0] == reads[1]


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "AISHELL-3" / "test"
    text = write_clip(folder / "wav" / "SSB0005" / "SSB00050001.wav", "zh", 0, rate=RATE)
    (folder / "wav" / "SSB0005" / "SSB00050003.wav").write_bytes(b"this is not a wav file")
    write_clip(folder / "wav" / "SSB0005" / "SSB00050004.wav", "zh", 1, rate=RATE)
    lines = [f"SSB00050001.wav\t{_with_pinyin(text)}", "SSB00050002.wav\t列 lie4 出 chu1",
             "SSB00050003.wav\t损 sun3 坏 huai4", "SSB00050004.wav\t"]  # fmt: skip
    _content(folder, lines)
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["zh-aishell-3-test-SSB00050001"]
    assert [row["text"] for row in result.rows] == [text]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, result.skipped
