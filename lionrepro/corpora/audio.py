"""Audio decoding for every corpus: soundfile to read, a mono down-mix, soxr to 16 kHz, and validation.

The corpora arrive as FLAC, WAV, OGG or MP3 at 8 to 48 kHz, mono or stereo, as files or as bytes embedded in
parquet. Everything downstream (training, evaluation) assumes 16 kHz mono float32, so it is made so here, once.
`datasets`' own decoding goes through torchcodec, which is not usable here, so corpora are loaded with
`datasets.Audio(decode=False)` and decoded by this module. Bad audio raises an `AudioError` whose `reason` is the
short label under which the data stage counts skipped utterances.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

TARGET_RATE = 16_000
# Formats a 16 kHz mono file may have to be used in place rather than re-encoded.
IN_PLACE_FORMATS = ("FLAC", "WAV")


class AudioError(ValueError):
    """Audio that cannot be used; `reason` is the label it is counted under when skipped."""

    reason = "bad audio"


class MissingAudio(AudioError):
    """The audio file does not exist or cannot be opened (permissions, a directory, no reference at all)."""

    reason = "missing audio"


class CorruptAudio(AudioError):
    """The bytes or file exist but soundfile cannot decode them."""

    reason = "corrupt audio"


class EmptyAudio(AudioError):
    """The audio decodes to zero samples."""

    reason = "empty audio"


class InvalidSamples(AudioError):
    """The audio decodes to NaN or infinite samples."""

    reason = "invalid samples"


@dataclass(frozen=True)
class Waveform:
    """Decoded audio: mono float32 samples at `sample_rate`, and what the source was before conversion."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate


def _open_source(source: str | os.PathLike | bytes) -> io.BytesIO | str:
    if isinstance(source, bytes | bytearray | memoryview):
        if not len(source):
            raise EmptyAudio("the audio bytes are empty")
        return io.BytesIO(bytes(source))
    path = Path(source)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise MissingAudio(f"audio file {path} does not exist or is not readable")
    if path.stat().st_size == 0:
        raise EmptyAudio(f"audio file {path} is empty (0 bytes)")
    return str(path)


def describe(source: str | os.PathLike | bytes) -> str:
    """A short label for error messages: the path, or the size of the bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        return f"<{len(source)} bytes>"
    return str(source)


def read_audio(source: str | os.PathLike | bytes, *, target_rate: int = TARGET_RATE) -> Waveform:
    """Decode a file path or encoded bytes to mono float32 at `target_rate`; an `AudioError` if it is unusable."""
    handle = _open_source(source)
    try:
        data, rate = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise CorruptAudio(f"cannot decode {describe(source)}: {error}") from error
    if data.shape[0] == 0:
        raise EmptyAudio(f"{describe(source)} has no samples")
    if not np.isfinite(data).all():
        raise InvalidSamples(f"{describe(source)} has NaN or infinite samples")
    mono = data.mean(axis=1, dtype=np.float32)
    return Waveform(_resample(mono, rate, target_rate), target_rate, rate, data.shape[1])


def from_array(array: np.ndarray, sample_rate: int, *, target_rate: int = TARGET_RATE) -> Waveform:
    """Convert in-memory samples: 1-D, or 2-D as samples x channels (channels x samples when that is shorter)."""
    data = np.asarray(array)
    if data.ndim == 1:
        data = data[:, None]
    elif data.ndim == 2 and data.shape[0] < data.shape[1]:
        data = data.T
    elif data.ndim != 2:
        raise CorruptAudio(f"array of shape {data.shape} is not 1-D or 2-D audio")
    if np.issubdtype(data.dtype, np.integer):
        data = data / -float(np.iinfo(data.dtype).min)
    data = data.astype(np.float32, copy=False)
    if data.size == 0:
        raise EmptyAudio("array has no samples")
    if not np.isfinite(data).all():
        raise InvalidSamples("array has NaN or infinite samples")
    mono = data.mean(axis=1, dtype=np.float32)
    return Waveform(_resample(mono, sample_rate, target_rate), target_rate, sample_rate, data.shape[1])


def _resample(mono: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    if rate == target_rate:
        return np.ascontiguousarray(mono, dtype=np.float32)
    return soxr.resample(mono, rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def usable_in_place(path: str | os.PathLike, *, target_rate: int = TARGET_RATE) -> bool:
    """Whether a file on disk is already mono FLAC/WAV at `target_rate`, so a manifest may point at it as it is."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        return False
    return info.format in IN_PLACE_FORMATS and info.samplerate == target_rate and info.channels == 1


def write_flac(path: Path, waveform: Waveform) -> None:
    """Write 16-bit FLAC atomically (write, then rename), clipping to [-1, 1] as 16-bit PCM requires."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        sf.write(tmp, np.clip(waveform.samples, -1.0, 1.0), waveform.sample_rate, format="FLAC", subtype="PCM_16")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
