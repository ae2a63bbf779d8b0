"""FLEURS read from the layout google/fleurs distributes per config: a headerless tsv per split and 16 kHz WAV."""

from __future__ import annotations

import pytest
import soundfile as sf
from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import DUPLICATE_ID, EMPTY_TRANSCRIPT

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason


def _record(prompt_id, file_name, raw_transcription, num_samples=0):
    """A tsv line as distributed; the normalised transcription differs from the raw one, which is the one read."""
    transcription = raw_transcription.strip('".').lower()
    characters = " ".join("|".join(transcription.split())) + " |"
    columns = [str(prompt_id), file_name, raw_transcription, transcription, characters, str(num_samples), "FEMALE"]
    return "\t".join(columns)


def _write_tsv(folder, split, lines):
    (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "config", "language", "split", "source"),
    [("zh/FLEURS", "cmn_hans_cn", "zh", "test", "test"), ("ms/FLEURS", "ms_my", "ms", "valid", "dev")],
)
def test_a_split_reads_every_recording_with_its_raw_transcription(tmp_path, key, config, language, split, source):
    root = tmp_path / "corpora"
    folder = root / "fleurs" / config
    # Two speakers read prompt 1906 (its `id` repeats, its file names differ); the raw text keeps an unbalanced quote.
    recordings = [(1906, "9083134771542365014.wav", 0), (1906, "15811440213318386329.wav", 0), (77, "1254823.wav", 1)]
    texts, lines = {}, []
    for prompt_id, file_name, clip in recordings:
        audio = folder / "audio" / source / file_name
        raw = f'"{write_clip(audio, language, clip)}.'
        texts[file_name.removesuffix(".wav")] = raw
        lines.append(_record(prompt_id, file_name, raw, sf.info(audio).frames))
    _write_tsv(folder, source, lines)
    result = ingest(key, root, split, tmp_path / "out")
    assert [row["id"] for row in result.rows] == [f"{language}-fleurs-{split}-{stem}" for stem in sorted(texts)]
    assert [row["text"] for row in result.rows] == [texts[stem] for stem in sorted(texts)]
    assert not result.skipped
    assert_16k_mono(result.rows)


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "fleurs" / "ta_in"
    audio = folder / "audio" / "dev"
    good = write_clip(audio / "1001.wav", "ta", 0)
    write_clip(audio / "1004.wav", "ta", 1)
    audio.joinpath("1003.wav").write_bytes(b"this is not a wav file")
    lines = [
        _record(1, "1001.wav", good),
        _record(2, "1002.wav", "listed but missing"),
        _record(3, "1003.wav", "corrupt"),
        _record(4, "1004.wav", ""),
        _record(1, "1001.wav", "a duplicate"),
    ]
    _write_tsv(folder, "dev", lines)
    result = ingest("ta/FLEURS", root, "valid", tmp_path / "out")
    assert [(row["id"], row["text"]) for row in result.rows] == [("ta-fleurs-valid-1001", good)]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1, DUPLICATE_ID: 1}, result.skipped
    assert_16k_mono(result.rows)
