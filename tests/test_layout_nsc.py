"""NSC Part 1 read from IMDA's layout: 16 kHz WAV per speaker session, one script per session, split by speaker."""

from __future__ import annotations

from layout_kit import assert_16k_mono, ingest, write_clip

from lionrepro.corpora.audio import CorruptAudio, MissingAudio
from lionrepro.corpora.ingest import EMPTY_TRANSCRIPT
from lionrepro.corpora.layouts import list_split, nsc
from lionrepro.corpora.registry import corpus

MISSING, CORRUPT = MissingAudio.reason, CorruptAudio.reason

KEY = "en/NSC"
CHANNEL0 = ("NSC", "PART1", "DATA", "CHANNEL0")
# Speakers 0001-0040 as the rule splits them (checked below): the fixtures pick from these
VALIDATION, TEST = ("0004", "0014", "0025", "0033"), ("0008", "0010")


def _wave(root, speaker, session):
    return root.joinpath(*CHANNEL0, "WAVE", f"SPEAKER{speaker}", f"SESSION{session}")


def _script(root, speaker, session, lines, **options):
    script = root.joinpath(*CHANNEL0, "SCRIPT", f"0{speaker}{session}.TXT")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("".join(f"{line}\n" for line in lines), **{"encoding": "utf-8", **options})


def _utterance(wave, utterance, index):
    """A 16 kHz WAV clip for `utterance` and its two script lines (as distributed, then normalised)."""
    spoken = write_clip(wave / f"{utterance}.WAV", "en", index, format="WAV")
    text = f"{spoken.capitalize()}."
    return text, [f"{utterance}\t{text}", f"\t{spoken}"]


def _speaker(row_id, split):
    return row_id.removeprefix(f"en-nsc-{split}-")[1:5]


def test_the_rule_puts_about_three_percent_of_speakers_in_validation_and_in_test():
    splits = [nsc.split_of(f"{n:04d}") for n in range(1, 10_000)]
    assert 0.02 < splits.count("validation") / len(splits) < 0.04
    assert 0.02 < splits.count("test") / len(splits) < 0.04
    speakers = {f"{n:04d}": nsc.split_of(f"{n:04d}") for n in range(1, 41)}
    assert [s for s, split in speakers.items() if split == "validation"] == list(VALIDATION)
    assert [s for s, split in speakers.items() if split == "test"] == list(TEST)


def test_test_split_reads_every_utterance_with_its_text_as_distributed(tmp_path):
    root = tmp_path / "corpora"
    texts = {}
    for n, (speaker, session) in enumerate([(TEST[0], 0), (TEST[0], 1), (TEST[1], 0), ("0001", 0)]):
        wave = _wave(root, speaker, session)
        lines = []
        for u in range(2):
            utterance = f"0{speaker}{session}{u + 1:03d}"
            text, pair = _utterance(wave, utterance, n + u)
            lines += pair
            if speaker in TEST:
                texts[utterance] = text
        # the first with a byte-order mark and Windows line ends, as an editor on Windows may leave them
        options = {"encoding": "utf-8-sig", "newline": "\r\n"} if n == 0 else {}
        _script(root, speaker, session, lines, **options)
    result = ingest(KEY, root, "test", tmp_path / "out")
    assert [row["id"] for row in result.rows] == [f"en-nsc-test-{u}" for u in sorted(texts)]
    assert [row["text"] for row in result.rows] == [texts[u] for u in sorted(texts)]
    assert not result.skipped
    assert_16k_mono(result.rows)


def test_splits_are_disjoint_by_speaker_cover_every_speaker_and_are_stable(tmp_path):
    root = tmp_path / "corpora"
    speakers = {f"{n:04d}" for n in range(1, 41)}
    for n, speaker in enumerate(sorted(speakers)):
        _script(root, speaker, 0, _utterance(_wave(root, speaker, 0), f"0{speaker}0001", n)[1])
    found = {}
    for split in ("train", "valid", "test"):
        result = ingest(KEY, root, split, tmp_path / "out")
        assert not result.skipped
        found[split] = {_speaker(row["id"], split) for row in result.rows}
        again = ingest(KEY, root, split, tmp_path / "again")
        assert [row["id"] for row in again.rows] == [row["id"] for row in result.rows]
    assert found["valid"] == set(VALIDATION) and found["test"] == set(TEST)
    assert not (found["train"] & found["valid"] or found["train"] & found["test"] or found["valid"] & found["test"])
    assert found["train"] | found["valid"] | found["test"] == speakers


def test_train_is_the_first_utterances_in_id_order(tmp_path, monkeypatch):
    monkeypatch.setitem(nsc.UTTERANCES, "train", 3)
    root = tmp_path / "corpora"
    for speaker in ("0002", "0001"):  # listed audio need not be there to be listed
        _script(root, speaker, 0, [f"0{speaker}0{u:03d}\tA SENTENCE" for u in (2, 1)])
    rows = list_split(corpus("en", "NSC"), root, "train")
    assert [row["id"] for row in rows] == ["000010001", "000010002", "000020001"]


def test_planted_bad_rows_are_counted_by_reason(tmp_path):
    root = tmp_path / "corpora"
    wave = _wave(root, "0001", 0)
    lines = _utterance(wave, "000010001", 0)[1]
    lines += ["000010002\tLISTED BUT MISSING", "\tlisted but missing"]
    (wave / "000010003.WAV").write_bytes(b"this is not a wav file")
    lines += ["000010003\tCORRUPT", "\tcorrupt"]
    write_clip(wave / "000010004.WAV", "en", 1, format="WAV")
    lines += ["000010004\t", "\t"]
    _script(root, "0001", 0, lines)
    result = ingest(KEY, root, "train", tmp_path / "out")
    assert [row["id"] for row in result.rows] == ["en-nsc-train-000010001"]
    assert result.skipped == {MISSING: 1, CORRUPT: 1, EMPTY_TRANSCRIPT: 1}, result.skipped
