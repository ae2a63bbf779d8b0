"""Audio decoding: every rate, channel count, sample type and container the corpora use comes out 16 kHz mono."""

import io

import numpy as np
import pytest
import soundfile as sf

from lionrepro.corpora import audio


def encode(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1).astype(np.float32)


@pytest.mark.parametrize(
    ("rate", "channels", "fmt", "subtype"),
    [
        (8000, 1, "WAV", "PCM_16"),
        (8000, 2, "WAV", "PCM_16"),
        (44100, 2, "FLAC", "PCM_24"),
        (48000, 1, "WAV", "FLOAT"),
        (48000, 2, "OGG", "VORBIS"),
        (22050, 1, "MP3", "MPEG_LAYER_III"),
        (16000, 2, "FLAC", "PCM_16"),
    ],
)
def test_any_input_becomes_16k_mono_with_its_duration(rate, channels, fmt, subtype):
    samples = tone(1.25, rate, channels)
    waveform = audio.read_audio(encode(samples, rate, fmt, subtype))
    assert waveform.sample_rate == 16000 and waveform.samples.ndim == 1 and waveform.samples.dtype == np.float32
    assert (waveform.source_rate, waveform.source_channels) == (rate, channels)
    if fmt != "MP3":  # MP3 pads the start with encoder delay
        assert abs(waveform.samples.shape[0] - samples.shape[0] * 16000 / rate) <= 1


def test_down_mix_is_the_channel_mean():
    left = tone(0.5, 16000)[:, 0]
    stereo = np.stack([left, -0.5 * left], axis=1)
    waveform = audio.read_audio(encode(stereo, 16000, "WAV", "FLOAT"))
    np.testing.assert_allclose(waveform.samples, 0.25 * left, atol=1e-6)


def test_arrays_int16_and_channels_first():
    samples = (tone(0.5, 8000, 2) * 32767).astype(np.int16)
    from_rows = audio.from_array(samples, 8000)
    from_columns = audio.from_array(samples.T, 8000)
    assert from_rows.source_channels == from_columns.source_channels == 2
    np.testing.assert_array_equal(from_rows.samples, from_columns.samples)
    assert from_rows.samples.shape[0] == 8000 and np.abs(from_rows.samples).max() <= 1.0


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (b"this is not audio", audio.CorruptAudio),
        (b"", audio.EmptyAudio),
        (encode(np.zeros((0, 1), np.float32), 16000, "WAV"), audio.EmptyAudio),
        (encode(np.full((100, 1), np.nan, np.float32), 16000, "WAV", "FLOAT"), audio.InvalidSamples),
        ("/nonexistent/clip.wav", audio.MissingAudio),
    ],
)
def test_bad_audio_raises_its_reason(source, error):
    with pytest.raises(error) as raised:
        audio.read_audio(source)
    assert raised.value.reason == error.reason


def test_a_directory_or_an_empty_file_is_not_audio(tmp_path):
    with pytest.raises(audio.MissingAudio):
        audio.read_audio(tmp_path)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(audio.EmptyAudio):
        audio.read_audio(tmp_path / "empty.wav")


def test_only_16k_mono_flac_or_wav_is_used_in_place(tmp_path):
    cases = {
        "ok.wav": (16000, 1, "WAV", True),
        "ok.flac": (16000, 1, "FLAC", True),
        "stereo.wav": (16000, 2, "WAV", False),
        "8k.wav": (8000, 1, "WAV", False),
        "mono.ogg": (16000, 1, "OGG", False),
    }
    for name, (rate, channels, fmt, expected) in cases.items():
        sf.write(tmp_path / name, tone(0.2, rate, channels), rate, format=fmt)
        assert audio.usable_in_place(tmp_path / name) is expected, name
    (tmp_path / "junk.wav").write_bytes(b"junk")
    assert not audio.usable_in_place(tmp_path / "junk.wav")


def test_write_flac_round_trips_and_leaves_no_temporary_file(tmp_path):
    waveform = audio.read_audio(encode(tone(0.5, 44100, 2) * 4, 44100, "WAV", "FLOAT"))  # clips beyond 1.0
    target = tmp_path / "out" / "x.flac"
    audio.write_flac(target, waveform)
    info = sf.info(str(target))
    assert (info.format, info.samplerate, info.channels, info.frames) == ("FLAC", 16000, 1, waveform.samples.shape[0])
    assert [p.name for p in target.parent.iterdir()] == ["x.flac"]
