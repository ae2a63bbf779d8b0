"""OpenSLR 65 read from the layout its two archives unpack to: 48 kHz WAV, a line index per folder, no official
split (the paper's 80/10/10 is carved from all utterances)."""

from __future__ import annotations

from collections import Counter

from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT
from lionrepro.corpora.layouts import slr65

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "ta/SLR65"
SPLITS = ("train", "valid", "test")


def _part(root, part, entries):
    """`ta_in_<part>/` with a line index of `entries` (file id, transcript) and no audio yet; the folder."""
    folder = root / "openslr65" / f"ta_in_{part}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{utterance}\t{text}" for utterance, text in entries]
    (folder / "line_index.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _corpus(root, per_part):
    """Both folders with `per_part` 48 kHz utterances each; {file id: transcript}."""
    texts = {}
    for part, prefix in (("female", "taf"), ("male", "tam")):
        entries = []
        folder = root / "openslr65" / f"ta_in_{part}"
        for n in range(per_part):
            utterance = f"{prefix}_{2345 + n % 3:05d}_{348037167 + n:011d}"
            entries.append((utterance, write_clip(folder / f"{utterance}.wav", "ta", n, rate=48000)))
        _part(root, part, entries)
        texts.update(entries)
    return texts


def _keys(result):
    prefix = f"ta-slr65-{result.split}-"
    assert all(row["id"].startswith(prefix) for row in result.rows), [row["id"] for row in result.rows]
    return [row["id"].removeprefix(prefix) for row in result.rows]


def test_every_source_split_name_reads_both_folders(tmp_path):
    root = tmp_path / "corpora"
    folder = _part(root, "female", [("taf_02345_00348037167", "வணக்கம்")])
    _part(root, "male", [("tam_06789_00123456789", "நன்றி"), ("tam_06789_00123456790", "  ")])
    rows = slr65.read(root / "openslr65", "train")
    assert rows == slr65.read(root / "openslr65", "test")
    assert rows == [
        {"id": "taf_02345_00348037167", "audio": str(folder / "taf_02345_00348037167.wav"), "text": "வணக்கம்"},
        {"id": "tam_06789_00123456789", "audio": str(root / "openslr65/ta_in_male/tam_06789_00123456789.wav"),
         "text": "நன்றி"},
        {"id": "tam_06789_00123456790", "audio": str(root / "openslr65/ta_in_male/tam_06789_00123456790.wav"),
         "text": ""},
    ]  # fmt: skip


def test_carved_splits_are_disjoint_complete_and_stable(tmp_path):
    root = tmp_path / "corpora"
    texts = _corpus(root, 10)
    results = {split: ingest(KEY, root, split, tmp_path / "out") for split in SPLITS}
    keys = {split: _keys(result) for split, result in results.items()}
    assert [len(keys[split]) for split in SPLITS] == [12, 3, 5], keys  # the id hash's bands on these 20 ids
    assert sorted(key for split in SPLITS for key in keys[split]) == sorted(texts)  # complete and disjoint
    for result in results.values():
        assert [row["text"] for row in result.rows] == [texts[key] for key in _keys(result)]
        assert not result.skipped
        assert_16k_mono(result.rows)
    assert {split: _keys(ingest(KEY, root, split, tmp_path / "again")) for split in SPLITS} == keys


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    folder = root / "openslr65" / "ta_in_female"
    good = [(f"taf_00001_{n:011d}", write_clip(folder / f"taf_00001_{n:011d}.wav", "ta", n, rate=48000))
            for n in range(3)]  # fmt: skip
    (folder / "taf_00002_00000000001.wav").write_bytes(b"RIFF this is not a wav file")
    write_clip(folder / "taf_00002_00000000002.wav", "ta", 0, rate=48000)
    bad = [("taf_00002_00000000000", "பட்டியலில் உள்ளது ஆனால் இல்லை"), ("taf_00002_00000000001", "சிதைந்த கோப்பு"),
           ("taf_00002_00000000002", " ")]  # fmt: skip
    _part(root, "female", good + bad)
    _part(root, "male", [])
    results = [ingest(KEY, root, split, tmp_path / "out") for split in SPLITS]
    assert sorted(key for result in results for key in _keys(result)) == [utterance for utterance, _ in good]
    skipped = sum((Counter(result.skipped) for result in results), Counter())
    assert skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, skipped
