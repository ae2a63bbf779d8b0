"""AISHELL-1 read from the layout OpenSLR 33 unpacks to: WAV at 16 kHz under wav/<split>/<speaker>/, one transcript of
space-separated words for all three splits."""

from __future__ import annotations

from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "zh/AISHELL-1"


def _folder(root):
    return root / "data_aishell"


def _transcript(root, lines):
    path = _folder(root) / "transcript" / "aishell_transcript_v0.8.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _words(text):
    """The sentence segmented into two-character words, as the transcript gives it."""
    return " ".join(text[i : i + 2] for i in range(0, len(text), 2))


def test_each_split_reads_the_utterances_of_its_speakers(tmp_path):
    root = tmp_path / "corpora"
    speakers = {"train": ["S0002", "S0003"], "dev": ["S0724"], "test": ["S0764", "S0765"]}
    texts, lines = {"train": {}, "dev": {}, "test": {}}, []
    for part, names in speakers.items():
        for s, speaker in enumerate(names):
            for u in range(2):
                utterance = f"BAC009{speaker}W{u + 121:04d}"
                wav = _folder(root) / "wav" / part / speaker / f"{utterance}.wav"
                texts[part][utterance] = write_clip(wav, "zh", 2 * s + u)
                lines.append(f"{utterance} {_words(texts[part][utterance])}")
    write_clip(_folder(root) / "wav" / "test" / "S0764" / "BAC009S0764W0999.wav", "zh", 0)  # no transcript line
    _transcript(root, lines)
    for split, part in (("train", "train"), ("valid", "dev"), ("test", "test")):
        result = ingest(KEY, root, split, tmp_path / "out")
        expected = sorted(texts[part])
        assert [row["id"] for row in result.rows] == [f"zh-aishell-1-{split}-{u}" for u in expected]
        assert [row["text"] for row in result.rows] == [texts[part][u] for u in expected]
        assert all(" " not in row["text"] for row in result.rows)
        assert not result.skipped, result.skipped
        assert_16k_mono(result.rows)


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    speaker_dir = _folder(root) / "wav" / "dev" / "S0724"
    text = write_clip(speaker_dir / "BAC009S0724W0121.wav", "zh", 0)
    (speaker_dir / "BAC009S0724W0123.wav").write_bytes(b"this is not a wav file")
    write_clip(speaker_dir / "BAC009S0724W0124.wav", "zh", 1)
    write_clip(speaker_dir / "BAC009S0724W0125.wav", "zh", 2)  # a wav file with no transcript line: not an utterance
    lines = [f"BAC009S0724W0121 {_words(text)}", "BAC009S0724W0122 列出 但 缺失", "BAC009S0724W0123 损坏 的 文件",
             "BAC009S0724W0124"]  # fmt: skip
    _transcript(root, lines)
    result = ingest(KEY, root, "valid", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["zh-aishell-1-valid-BAC009S0724W0121"]
    assert [row["text"] for row in result.rows] == [text]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, result.skipped
