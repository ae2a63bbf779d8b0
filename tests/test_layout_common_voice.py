"""Common Voice read from the layout a release unpacks to per locale: a tsv with a header per split, MP3 clips."""

from __future__ import annotations

import pytest
import soundfile as sf
from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import DUPLICATE_ID, EMPTY_TRANSCRIPT

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

COLUMNS_23 = ("client_id", "path", "sentence_id", "sentence", "sentence_domain", "up_votes", "down_votes", "age",
              "gender", "accents", "variant", "locale", "segment")  # fmt: skip
COLUMNS_OLD = ("client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accents", "locale",
               "segment")  # fmt: skip


def _mp3(path, language, index, rate):
    """Write a clip as real MP3; skip the test where the installed libsndfile cannot encode MP3."""
    try:
        return write_clip(path, language, index, rate=rate, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as error:
        pytest.skip(f"libsndfile {sf.__libsndfile_version__} cannot write MP3 (needs 1.1+ with LAME): {error}")


def _write_tsv(folder, split, columns, clips):
    """`<split>.tsv` with a header, one line a (path, sentence); the other columns filled as a release fills them."""
    lines = ["\t".join(columns)]
    for n, (path, sentence) in enumerate(clips):
        values = {"client_id": f"{n:064x}", "path": path, "sentence_id": f"{n:064x}", "sentence": sentence}
        lines.append("\t".join(values.get(column, "0" if "votes" in column else "") for column in columns))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "locale", "language", "rate", "split", "source", "columns"),
    [
        ("zh/Common Voice 23", "zh-CN", "zh", 48000, "test", "test", COLUMNS_23),
        ("ta/Common Voice 23", "ta", "ta", 32000, "valid", "dev", COLUMNS_23),
        ("ta/Common Voice 23", "ta", "ta", 32000, "test", "test", COLUMNS_OLD),  # an older release: read by name
    ],
)
def test_a_split_reads_every_clip_with_its_sentence(tmp_path, key, locale, language, rate, split, source, columns):
    root = tmp_path / "corpora"
    folder = root / "cv-corpus-23.0" / locale
    clips = []
    for n, number in enumerate((40213311, 39876542, 41000007)):
        path = f"common_voice_{locale}_{number}.mp3"
        sentence = _mp3(folder / "clips" / path, language, n, rate)
        clips.append((path, f'"{sentence}' if n == 1 else sentence))  # sentences may hold an unbalanced quote
    _write_tsv(folder, source, columns, clips)
    result = ingest(key, root, split, tmp_path / "out")
    expected = sorted((f"{language}-common-voice-23-{split}-{path.removesuffix('.mp3')}", text) for path, text in clips)
    assert [(row["id"], row["text"]) for row in result.rows] == expected
    assert not result.skipped
    assert_16k_mono(result.rows)


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "cv-corpus-23.0" / "zh-CN"
    clips = folder / "clips"
    good = _mp3(clips / "common_voice_zh-CN_1.mp3", "zh", 0, 48000)
    _mp3(clips / "common_voice_zh-CN_4.mp3", "zh", 1, 48000)
    (clips / "common_voice_zh-CN_3.mp3").write_bytes(b"this is not an mp3 file")
    rows = [("common_voice_zh-CN_1.mp3", good), ("common_voice_zh-CN_2.mp3", "listed but missing"),
            ("common_voice_zh-CN_3.mp3", "corrupt"), ("common_voice_zh-CN_4.mp3", ""),
            ("common_voice_zh-CN_1.mp3", "a duplicate")]  # fmt: skip
    _write_tsv(folder, "dev", COLUMNS_23, rows)
    result = ingest("zh/Common Voice 23", root, "valid", tmp_path / "out")
    kept = [(row["id"], row["text"]) for row in result.rows]
    assert kept == [("zh-common-voice-23-valid-common_voice_zh-CN_1", good)]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1, DUPLICATE_ID: 1}, result.skipped
    assert_16k_mono(result.rows)
