"""Ingestion time per hour of audio, for REPRODUCE.md's "Real corpora": three corpora laid out as distributed, filled
with synthetic Lion-12 speech at each one's real rate and codec (LibriSpeech: 16 kHz FLAC, used in place; AISHELL-3:
44.1 kHz WAV, resampled; Common Voice: 48 kHz MP3, decoded and resampled), read and ingested by `build_real` as
`lionrepro --profile paper data` does. Synthetic audio, this machine: the numbers are labelled so in the output.

Usage: python benchmarks/measure_ingestion.py OUT.json [--minutes M] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from layout_kit import write_clip  # noqa: E402

from lionrepro.corpora.real_corpora import build_real  # noqa: E402
from lionrepro.provenance import provenance, write_json_atomic  # noqa: E402


def librispeech(root: Path, n: int) -> None:
    folder = root / "LibriSpeech" / "test-clean" / "1" / "2"
    lines = [f"1-2-{u:04d} {write_clip(folder / f'1-2-{u:04d}.flac', 'en', u).upper()}" for u in range(n)]
    (folder / "1-2.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def aishell3(root: Path, n: int) -> None:
    folder = root / "AISHELL-3" / "test"
    lines = []
    for u in range(n):
        name = f"SSB0005{u:04d}.wav"
        text = write_clip(folder / "wav" / "SSB0005" / name, "zh", u, rate=44100)
        lines.append(f"{name}\t" + " ".join(f"{c} x1" for c in text))
    (folder / "content.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def common_voice(root: Path, n: int) -> None:
    folder = root / "cv-corpus-23.0" / "ta"
    lines = ["client_id\tpath\tsentence"]
    for u in range(n):
        text = write_clip(folder / "clips" / f"c{u}.mp3", "ta", u, rate=48000, format="MP3")
        lines.append(f"x\tc{u}.mp3\t{text}")
    (folder / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


CASES = {
    "en/LibriSpeech": (librispeech, "16 kHz FLAC, referenced in place"),
    "zh/AISHELL-3": (aishell3, "44.1 kHz WAV, resampled to 16 kHz FLAC"),
    "ta/Common Voice 23": (common_voice, "48 kHz MP3, decoded and resampled to 16 kHz FLAC"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--clips", type=int, default=200, help="utterances per corpus")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    measured = {}
    for key, (make, codec) in CASES.items():
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch) / "corpora"
            make(root, args.clips)
            began = time.perf_counter()
            built = build_real(root, [key], ["test"], Path(scratch) / "out", max_seconds=30.0, workers=args.workers)
            seconds = time.perf_counter() - began
            (result,) = built.results
            hours = sum(row["duration"] for row in result.rows) / 3600
            measured[key] = {
                "audio": codec,
                "utterances": len(result.rows),
                "audio_hours": hours,
                "wall_s": seconds,
                "seconds_per_audio_hour": seconds / hours,
            }
            print(f"{key}: {codec}: {seconds / hours:.0f} s per audio hour ({len(result.rows)} clips, {seconds:.1f} s)")
    write_json_atomic(
        args.out,
        {
            "provenance": provenance(stage="ingestion benchmark", workers=args.workers, clips=args.clips),
            "audio": "synthetic (Lion-12 speech, eSpeak NG) in each corpus's distributed layout, rate and codec",
            "corpora": measured,
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
