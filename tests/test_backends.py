"""One backend per model family, chosen from the checkpoint's config: a tiny random-weight model of each family, saved
in its real on-disk layout, is loaded through its backend and transcribes Lion-12 clips end to end (the text is
noise; the path is real); the prompt each model card gives is recorded; a checkpoint missing a third of its weights is
refused, naming them, by every backend and through `evaluate` in both profiles."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
import torch
from backend_kit import (
    BUDGET,
    clip_rows,
    drop_a_third,
    transcribes_end_to_end,
    write_qwen2_5_omni,
    write_qwen2_audio,
    write_qwen3_asr_original,
    write_whisper,
)

from lionrepro.asr.backends import family, load_backend
from lionrepro.asr.backends.qwen2_5_omni import SPEECH_OUTPUT
from lionrepro.asr.evaluation import RESULTS_FILE, TokenBudget, transcribe
from lionrepro.asr.qwen3_asr_original import renamed
from lionrepro.asr.static_decoding import StaticGreedyDecoder
from lionrepro.asr.training_loop import FINAL_MODEL
from lionrepro.config import load_profile
from lionrepro.corpora.manifest import write_manifest
from lionrepro.errors import UserError
from lionrepro.provenance import REPO_ROOT
from lionrepro.stages.cli import main

BASE = REPO_ROOT / load_profile("tiny")["pretrain"]["out"] / FINAL_MODEL


def _qwen3_native(folder):
    shutil.copytree(BASE, folder)
    return folder


def _qwen3_original(folder):
    write_qwen3_asr_original(BASE, folder)
    return folder


# layout -> (writer, model_type in its config, backend family, what its prompt must contain)
LAYOUTS = {
    "qwen3_asr native": (_qwen3_native, "qwen3_asr", "qwen3_asr",
                         "<|audio_pad|><|audio_end|><|im_end|>\n<|im_start|>assistant\n"),
    "qwen3_asr original": (_qwen3_original, "qwen3_asr", "qwen3_asr", "<|im_start|>assistant\n"),
    "whisper": (write_whisper, "whisper", "whisper", ""),
    "seallms-audio (qwen2_audio)": (write_qwen2_audio, "qwen2_audio", "qwen2_audio",
                                    "Please write down what is spoken in the audio file."),
    "qwen2.5-omni full": (write_qwen2_5_omni, "qwen2_5_omni", "qwen2_5_omni",
                          "Transcribe the {language} audio into text without any punctuation marks."),
    "qwen2.5-omni thinker": (lambda folder: write_qwen2_5_omni(folder, full=False), "qwen2_5_omni_thinker",
                             "qwen2_5_omni", "You are a speech recognition model."),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _conversion_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LIONREPRO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Every layout written once, under a folder name that names another family (the config decides, not the name)."""
    root = tmp_path_factory.mktemp("checkpoints")
    return {layout: writer(root / f"whisper-large-v3-{index}") for index, (layout, (writer, *_)) in
            enumerate(LAYOUTS.items())}  # fmt: skip


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return clip_rows(tmp_path_factory.mktemp("clips"), 4)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_family_transcribes_lion12_clips_through_its_backend(layout, checkpoints, rows):
    _, model_type, backend_family, in_prompt = LAYOUTS[layout]
    assert family(checkpoints[layout]) == model_type
    backend = load_backend(checkpoints[layout])
    assert backend.family == backend_family
    assert in_prompt in backend.prompt.text and backend.prompt.source
    assert transcribes_end_to_end(backend, rows)["family"] == backend_family


@pytest.mark.parametrize("layout", ["qwen3_asr native", "qwen3_asr original"])
def test_the_static_decoder_writes_the_hypotheses_of_generate(layout, checkpoints, tmp_path_factory):
    """The trained base writes transcripts of different lengths that end on their own: the rows end at their stop
    tokens or budgets and leave the batch, and every hypothesis is generate's."""
    rows = clip_rows(tmp_path_factory.mktemp("static-clips"), 10)
    budget = TokenBudget(per_second=6.0, extra=8)
    backend = load_backend(checkpoints[layout])
    by_generate = transcribe(backend, rows, 8, budget=budget, progress=False)
    static = transcribe(backend.use_decoder("static"), rows, 8, budget=budget, progress=False)
    assert backend.describe()["decoder"] == "static"
    assert static == by_generate
    assert not all(h["hit_token_budget"] for h in static)  # some rows stopped on their own
    assert len({h["generated_tokens"] for h in static}) > 2  # of different lengths


def test_setting_up_is_timed_apart_from_decoding(checkpoints, tmp_path_factory, monkeypatch):
    """A warm-up decode of the first batch, and the static decoder's graph captures (on a GPU: at a decoder's first
    batch), are left out of the batches' decoding seconds and passed beside them. Here a second of sleep at each new
    decoder's first prefill stands in for a capture (the CPU captures none)."""
    rows = clip_rows(tmp_path_factory.mktemp("setup-clips"), 6)
    backend = load_backend(checkpoints["qwen3_asr native"]).use_decoder("static")
    first_prefill = StaticGreedyDecoder.prefill

    def prefill_capturing(decoder):
        if decoder.full is None:
            time.sleep(1.0)
            decoder.capture_seconds += 1.0
        first_prefill(decoder)

    monkeypatch.setattr(StaticGreedyDecoder, "prefill", prefill_capturing)
    timings, again = [], []
    expected = transcribe(backend, rows, 3, budget=BUDGET, progress=False, on_batch=lambda *t: timings.append(t[1:]))
    assert backend.capture_seconds == 1.0  # the second batch of 3 rows fits the first's decoder
    assert [setup for _, setup in timings] == [1.0, 0.0]
    replayed = transcribe(backend, rows, 3, budget=BUDGET, progress=False, on_batch=lambda *t: again.append(t[1:]))
    assert replayed == expected
    assert backend.capture_seconds == 1.0 and [setup for _, setup in again] == [0.0, 0.0]
    assert abs(timings[0][0] - again[0][0]) < 0.5  # the first batch's seconds leave its second of "capture" out

    warmed = []
    by_generate = load_backend(checkpoints["qwen3_asr native"])
    assert transcribe(by_generate, rows, 3, budget=BUDGET, progress=False, warm_up=True,
                      on_batch=lambda d, s, u: warmed.append(u)) == expected  # fmt: skip
    assert warmed[0] > 0 and warmed[1:] == [0.0]  # the first batch was decoded once before it was timed


def test_families_the_static_decoder_does_not_serve_are_refused(checkpoints):
    with pytest.raises(UserError, match="does not serve whisper"):
        load_backend(checkpoints["whisper"]).use_decoder("static")
    with pytest.raises(UserError, match="one of generate, static"):
        load_backend(checkpoints["qwen3_asr native"]).use_decoder("beam")


def test_a_backend_moved_to_bf16_transcribes_with_its_features_in_bf16(checkpoints, rows):
    backend = load_backend(checkpoints["whisper"]).to(torch.device("cpu"), torch.bfloat16)
    assert backend.model.dtype == torch.bfloat16
    assert backend.batch(rows[:1])["input_features"].dtype == torch.bfloat16
    assert len(transcribe(backend, rows[:1], 1, budget=BUDGET, progress=False)) == 1


def test_qwen3_asr_parses_the_language_prefix_off(checkpoints, rows):
    hypotheses = transcribe(load_backend(checkpoints["qwen3_asr native"]), rows, 4, budget=BUDGET, progress=False)
    for h in hypotheses:
        if h["raw_output"].startswith("language "):
            assert "<asr_text>" not in h["hypothesis"] and h["predicted_language"] in h["raw_output"]


def test_the_omni_prompt_names_the_row_language_as_the_cookbook_does(checkpoints, rows):
    backend = load_backend(checkpoints["qwen2.5-omni full"])
    prompts = backend.tokenizer.batch_decode(backend.inputs(rows[:2])["input_ids"], skip_special_tokens=True)
    assert "Transcribe the English audio" in prompts[0] and "请将这段中文语音转换为纯文本" in prompts[1]


def test_a_config_naming_only_its_architecture_is_read_and_an_unknown_one_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["WhisperForConditionalGeneration"]}))
    assert family(tmp_path) == "whisper"
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "wav2vec2"}))
    with pytest.raises(UserError, match="no backend reads model_type 'wav2vec2'"):
        family(tmp_path)


def _names(weight: str, message: str) -> bool:
    """Whether `message` names the checkpoint's `weight` as the model calls it: renamed as our Qwen3-ASR conversion
    does, or with its `thinker.` prefix dropped (transformers 5.17's Qwen2.5-Omni thinker; 5.24 adds `model.`)."""
    return renamed(weight) in message or weight.removeprefix("thinker.") in message


@pytest.fixture(scope="module")
def partial(checkpoints, tmp_path_factory):
    """Each layout with the first third of its weights gone and a stray weight added: the names dropped."""
    root = tmp_path_factory.mktemp("partial")
    broken = {}
    for layout, folder in checkpoints.items():
        copy = shutil.copytree(folder, root / folder.name)
        dropped = drop_a_third(copy)  # Qwen2.5-Omni's talker and token2wav weights are never read: not missed
        broken[layout] = (copy, [name for name in dropped if not name.startswith(SPEECH_OUTPUT)])
    return broken


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_checkpoint_missing_a_third_of_its_weights_is_refused_naming_them(layout, partial):
    folder, dropped = partial[layout]
    with pytest.raises((UserError, ValueError)) as refused:
        load_backend(folder)
    message = str(refused.value)
    missing = int(re.search(r"(\d+) (weights )?missing", message).group(1))
    assert missing >= len(dropped) and _names(dropped[0], message) and "stray.weight" in message, message
    assert "Refusing a partly random model" in message


@pytest.mark.parametrize("profile", ["tiny", "paper"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_evaluate_refuses_it_in_one_line_in_both_profiles(layout, profile, partial, rows, tmp_path, capsys):
    folder, dropped = partial[layout]
    write_manifest(tmp_path / "test.jsonl", rows[:1])
    argv = ["--profile", profile, "evaluate", "--model", str(folder), "--manifest", str(tmp_path / "test.jsonl"),
            "--out", str(tmp_path / "out"), "--device", "cpu", "--quiet"]  # fmt: skip
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    error = stderr.splitlines()[-1]  # after transformers' own loading report
    assert error.startswith("lionrepro evaluate: ") and "Traceback" not in stderr
    assert _names(dropped[0], error) and "Refusing a partly random model" in error
    assert not (tmp_path / "out" / RESULTS_FILE).exists()
