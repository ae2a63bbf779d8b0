"""eSpeak NG driven in-process through ctypes, from the `espeakng-loader` wheel (libespeak-ng 1.52 and its voices).

Why in-process: a subprocess per utterance would cost more than the synthesis itself (about 3 ms). Why this wheel:
Debian's espeak-ng 1.51 reads Mandarin tone digits aloud. Two things make eSpeak NG's output vary from run to run,
and both are handled here: its noise generators (libc `rand` and its own, seeded from the clock, used by the breathy
variants) are seeded from each utterance's seed before it is spoken; and the library keeps state between utterances
that no call resets (the pitch flutter phase, filter memories), so the same utterance comes out slightly different
depending on what was spoken before it in the process. A shard is therefore always synthesised by a fresh interpreter
(`python -m lionrepro.corpora.lion12.synth`, one per shard): its bytes then depend only on its list of utterances.
"""

from __future__ import annotations

import ctypes
import json
import sys
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import espeakng_loader
import numpy as np
import soundfile as sf
import soxr

from lionrepro.corpora.audio import TARGET_RATE as SAMPLE_RATE
from lionrepro.corpora.audio import from_array, write_flac
from lionrepro.provenance import write_json_atomic

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH, _RANGE, _WORDGAP = 1, 3, 4, 7  # espeak_PARAMETER
_PEAK = 0.9  # headroom below full scale after resampling and noise
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Utterance:
    """Everything that determines one utterance's audio, and where it goes."""

    id: str
    dataset: str
    language: str
    split: str
    text: str
    speaker: str
    voice: str
    rate: int
    pitch: int
    pitch_range: int
    word_gap: int
    snr_db: float | None
    seed: int  # seeds eSpeak NG's breath noise and the added background noise
    audio: str  # path relative to the corpus root


class Espeak:
    """The process's one eSpeak NG engine in synchronous mode: `speak` returns the samples at `sample_rate`."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path()
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({self.sample_rate}) with voices from {data_path}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: the library calls it
        lib.espeak_SetSynthCallback(self._callback)
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._lib = lib
        self._libc = ctypes.CDLL(None)  # the process's C library, whose `rand` eSpeak NG also draws from

    def _collect(self, wav: Any, count: int, _events: int) -> int:  # wav: POINTER(c_short)
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(
        self, text: str, voice: str, *, rate: int, pitch: int, pitch_range: int, word_gap: int, seed: int
    ) -> np.ndarray:
        """int16 samples of `text` read by `voice`."""
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice!r}")
        self._lib.espeak_ng_SetRandSeed(seed)
        self._libc.srand(seed)
        for parameter, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range), (_WORDGAP, word_gap)):
            self._lib.espeak_SetParameter(parameter, value, 0)
        self._chunks = []
        data = text.encode("utf-8") + b"\0"
        status = self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0 or not self._chunks:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r} with voice {voice!r} (status {status})")
        return np.concatenate(self._chunks)


@cache
def engine() -> Espeak:
    return Espeak()


def render(utterance: Utterance) -> np.ndarray:
    """The utterance as float32 samples at 16 kHz: synthesised, resampled with soxr, noise added, peak-limited."""
    espeak = engine()
    samples = espeak.speak(
        utterance.text,
        utterance.voice,
        rate=utterance.rate,
        pitch=utterance.pitch,
        pitch_range=utterance.pitch_range,
        word_gap=utterance.word_gap,
        seed=utterance.seed % 2**31,
    )
    audio = soxr.resample(samples.astype(np.float32) / 32768.0, espeak.sample_rate, SAMPLE_RATE, quality="HQ")
    if utterance.snr_db is not None:
        noise = np.random.default_rng(utterance.seed).standard_normal(audio.size).astype(np.float32)
        signal_power = float(np.mean(audio**2))
        audio = audio + noise * np.float32(np.sqrt(signal_power / 10 ** (utterance.snr_db / 10)))
    peak = float(np.max(np.abs(audio)))
    return audio * np.float32(_PEAK / peak) if peak > _PEAK else audio


def render_rows(utterances: list[Utterance], folder: Path) -> list[dict[str, Any]]:
    """Manifest rows of `utterances` rendered in this process to FLAC files in `folder`: for tests and benchmarks
    that need a few real clips without building the corpus (the build synthesises in shards, see the module)."""
    rows = []
    for u in utterances:
        waveform = from_array(render(u), SAMPLE_RATE)
        write_flac(folder / f"{u.id}.flac", waveform)
        rows.append(
            {
                "id": u.id,
                "dataset": u.dataset,
                "language": u.language,
                "split": u.split,
                "audio": str(folder / f"{u.id}.flac"),
                "duration": waveform.duration,
                "text": u.text,
            }
        )
    return rows


def synthesise_shard(utterances: list[Utterance], root: Path) -> dict[str, int]:
    """Write each utterance as 16 kHz mono 16-bit FLAC under `root`; its sample count by id."""
    frames = {}
    for utterance in utterances:
        audio = render(utterance)
        path = root / utterance.audio
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        frames[utterance.id] = int(audio.size)
    return frames


def shard_command(root: Path, marker: Path) -> list[str]:
    """The command that synthesises one shard in a fresh interpreter: utterances as JSON on stdin, and
    `marker` (the sample counts by id) written when the whole shard is on disk."""
    return [sys.executable, "-m", __name__, str(root), str(marker)]


def shard_input(utterances: list[Utterance]) -> str:
    return json.dumps([asdict(u) for u in utterances], ensure_ascii=False)


def main(argv: list[str]) -> int:
    root, marker = Path(argv[0]), Path(argv[1])
    utterances = [Utterance(**fields) for fields in json.loads(sys.stdin.read())]
    write_json_atomic(marker, synthesise_shard(utterances, root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
