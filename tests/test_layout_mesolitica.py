"""The Malay Mesolitica set read from the table the user provides: `<split>.tsv` with audio paths and transcripts."""

from __future__ import annotations

import csv

import pytest
from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT
from lionrepro.errors import UserError

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "ms/Mesolitica"


def _table(root, split, header, records):
    folder = root / "mesolitica-malay"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{split}.tsv").open("w", encoding="utf-8", newline="") as table:
        writer = csv.writer(table, delimiter="\t")
        writer.writerows([header, *records])
    return folder


def test_train_reads_every_clip_relative_or_absolute_at_any_rate(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "mesolitica-malay"
    elsewhere = tmp_path / "elsewhere" / "c-003.wav"
    texts = {
        "a-001": write_clip(folder / "clips" / "a-001.flac", "ms", 0),
        "b-002": write_clip(folder / "clips" / "b-002.wav", "ms", 1, rate=22050, channels=2),
        "c-003": write_clip(elsewhere, "ms", 2, rate=44100),
    }
    paths = {"a-001": "clips/a-001.flac", "b-002": "clips/b-002.wav", "c-003": str(elsewhere)}
    records = [[paths[u], texts[u], "speaker-1"] for u in ("b-002", "c-003", "a-001")]
    _table(root, "train", ["audio", "text", "speaker"], records)
    result = ingest(KEY, root, "train", tmp_path / "out")
    assert [row["id"] for row in result.rows] == [f"ms-mesolitica-train-{u}" for u in sorted(texts)]
    assert [row["text"] for row in result.rows] == [texts[u] for u in sorted(texts)]
    assert not result.skipped
    assert_16k_mono(result.rows)


def test_an_id_column_names_the_rows(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "mesolitica-malay"
    first = write_clip(folder / "wav" / "1.wav", "ms", 0, rate=22050)
    second = write_clip(folder / "wav" / "2.wav", "ms", 1, rate=22050)
    _table(root, "validation", ["id", "audio", "text"], [["utt-2", "wav/2.wav", second], ["", "wav/1.wav", first]])
    result = ingest(KEY, root, "valid", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["ms-mesolitica-valid-1", "ms-mesolitica-valid-utt-2"]
    assert [row["text"] for row in result.rows] == [first, second]
    assert_16k_mono(result.rows)


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "mesolitica-malay"
    text = write_clip(folder / "good.flac", "ms", 0)
    write_clip(folder / "silent.flac", "ms", 1)
    (folder / "corrupt.flac").write_bytes(b"this is not a flac file")
    records = [["good.flac", text], ["gone.flac", "SENARAI TIADA"], ["corrupt.flac", "ROSAK"], ["silent.flac", " "]]
    _table(root, "test", ["audio", "text"], records)
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["ms-mesolitica-test-good"]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, result.skipped


@pytest.mark.parametrize(("header", "lacking"), [(["path", "text"], "audio"), (["audio", "sentence"], "text")])
def test_a_table_without_the_columns_says_which(tmp_path, header, lacking):
    root = tmp_path / "corpora"
    _table(root, "test", header, [["a.wav", "teks"]])
    with pytest.raises(UserError, match=f"lacks the column\\(s\\) {lacking}"):
        ingest(KEY, root, "test", tmp_path / "out")
