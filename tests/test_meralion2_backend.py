"""MERaLiON-2-10B-ASR through its port to transformers 5: the module's parameter names are the hub checkpoint's (the
key list taken from public sources, lionrepro.asr.backends.meralion2.HUB_KEY_PATTERNS); a tiny MERaLiON-2 written in
the hub's sharded layout, from transformers' own Whisper encoder and Gemma-2 (not from the port), is loaded by name
and transcribes Lion-12 clips end to end with the model card's prompt; speech tokens take the adapter's output;
checkpoints missing weights or of other shapes are refused, naming them."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
from backend_kit import MERALION_SHARDS, clip_rows, drop_a_third_of_shards, transcribes_end_to_end, write_meralion2
from safetensors.torch import load_file, save_file
from transformers import GenerationConfig

from lionrepro.asr.backends import family, load_backend
from lionrepro.asr.backends.meralion2 import HUB_KEY_PATTERNS, INSTRUCTION, NAMES_SOURCE, PROMPT_SOURCE, build
from lionrepro.asr.evaluation import RESULTS_FILE
from lionrepro.corpora.manifest import write_manifest
from lionrepro.errors import UserError
from lionrepro.stages.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """Under a folder name of another family: the config decides, not the name."""
    return write_meralion2(tmp_path_factory.mktemp("meralion") / "whisper-large-v3")


@pytest.fixture(scope="module")
def backend(checkpoint):
    return load_backend(checkpoint)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return clip_rows(tmp_path_factory.mktemp("clips"), 4)


def _patterns(names):
    return {re.sub(r"\blayers\.\d+\.", "layers.{i}.", name) for name in names}


def test_the_port_has_exactly_the_hub_checkpoints_parameter_names(checkpoint):
    model = build(json.loads((checkpoint / "config.json").read_text()))
    assert _patterns(model.state_dict()) == set(HUB_KEY_PATTERNS)
    # the adapter's shapes (modules.py): 15 frames of width d stacked, Linear to 5 d, gated 5 d, out to Gemma's width
    d, hidden = model.speech_encoder.config.d_model, model.text_decoder.config.hidden_size
    shapes = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    assert shapes["speech_audio_adapter.mlp_adapter.0.weight"] == (5 * d, 15 * d)
    assert shapes["speech_audio_adapter.gate_proj.weight"] == shapes["speech_audio_adapter.pool_proj.weight"]
    assert shapes["speech_audio_adapter.gate_proj.weight"] == (5 * d, 5 * d)
    assert shapes["speech_audio_adapter.out_proj.weight"] == (hidden, 5 * d)
    assert shapes["ln_speech.weight"] == (d,)
    # the tiny hub-layout checkpoint holds the same names, its head tied to the embedding and left out
    written = {name for shard in MERALION_SHARDS for name in load_file(checkpoint / shard)}
    assert _patterns(written) == set(HUB_KEY_PATTERNS) - {"text_decoder.lm_head.weight"}


def test_meralion2_transcribes_lion12_clips_through_its_backend(checkpoint, backend, rows, tmp_path):
    assert family(checkpoint) == "meralion2" and backend.family == "meralion2"
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["MERaLiON2ForConditionalGeneration"]}))
    assert family(tmp_path) == "meralion2"
    assert backend.prompt.text == (
        "<bos><start_of_turn>user\nInstruction: Please transcribe this speech. \nFollow the text instruction based on "
        "the following audio: <SpeechHere><end_of_turn>\n<start_of_turn>model\n"
    )
    assert INSTRUCTION in backend.prompt.text and backend.prompt.source == PROMPT_SOURCE
    assert backend.tokenizer.convert_tokens_to_ids("<end_of_turn>") in backend.stop_ids
    assert transcribes_end_to_end(backend, rows)["weight_names"] == NAMES_SOURCE


def test_each_30_s_chunk_becomes_100_speech_tokens_filled_with_the_adapters_output(backend, rows, tmp_path):
    long = tmp_path / "long.flac"
    sf.write(long, np.random.default_rng(0).uniform(-0.1, 0.1, 16_000 * 31).astype(np.float32), 16_000)
    batch = backend.inputs([rows[0], {**rows[0], "audio": str(long)}])
    model, speech_id = backend.model, backend.model.speech_token_index
    assert batch["input_features"].shape == (3, 128, 3000)  # 1 chunk, then 2
    assert (batch["input_ids"] == speech_id).sum(dim=1).tolist() == [100, 200]
    assert batch["attention_mask"][0, 0] == 0 and batch["attention_mask"][1].all()  # left-padded
    assert len(backend.chunks(np.zeros(16_000 * 400))) == 10  # at most 300 s, as the processor cuts it
    with torch.no_grad():
        embeds = model.prompt_embeds(batch["input_ids"], batch["input_features"])
        speech = model.speech_audio_adapter(model.ln_speech(model.speech_encoder(batch["input_features"])[0]))
        text = model.text_decoder.get_input_embeddings()(batch["input_ids"])
    slots = batch["input_ids"] == speech_id
    scale = model.text_decoder.config.hidden_size**0.5  # Gemma-2's embedding scale, on speech tokens too
    torch.testing.assert_close(embeds[slots], speech.reshape(-1, speech.shape[-1]) * scale)
    torch.testing.assert_close(embeds[~slots], text[~slots])


def test_generation_reads_the_speech_embeddings_not_the_placeholder_tokens(backend, rows):
    batch, model = backend.batch(rows[:2]), backend.model
    config = GenerationConfig(max_new_tokens=1, do_sample=False, pad_token_id=0, output_scores=True,
                              return_dict_in_generate=True)  # fmt: skip
    mask = batch["attention_mask"]
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        first = model.generate(**batch, generation_config=config).scores[0]
        embeds = model.prompt_embeds(batch["input_ids"], batch["input_features"])
        with_speech = model.text_decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions)
        placeholders = model.text_decoder(input_ids=batch["input_ids"], attention_mask=mask, position_ids=positions)
    torch.testing.assert_close(first, with_speech.logits[:, -1])
    assert not torch.allclose(first, placeholders.logits[:, -1])


def test_the_static_decoder_computes_generates_logits_through_the_soft_capped_attention(backend, rows):
    """The port's Gemma-2 runs eager attention (it soft-caps scores): the static decoder's boolean masks reach it as
    the additive masks eager attention adds. The prompt's and the next step's logits equal `generate`'s scores (the
    random port writes one token over and over, so its tokens alone would show little)."""
    from lionrepro.asr.decode_families import family_of
    from lionrepro.asr.static_decoding import prompt_masks, prompt_positions

    batch, model = backend.batch(rows), backend.model
    assert model.text_decoder.config._attn_implementation == "eager"
    assert model.text_decoder.config.attn_logit_softcapping
    config = GenerationConfig(max_new_tokens=2, do_sample=False, pad_token_id=0, eos_token_id=[1],
                              output_scores=True, return_dict_in_generate=True)  # fmt: skip
    valid = batch["attention_mask"].bool()
    prompt = valid.shape[1]
    with torch.inference_mode():
        scores = model.generate(**batch, generation_config=config).scores
        family = family_of(model)
        cache = family.make_cache(prompt + 8, batch)
        mask, key_valid = prompt_masks(valid, prompt + 8)
        positions = prompt_positions(valid)
        first = family.prefill(batch, cache, mask, positions)
        key_valid[:, prompt] = True
        second = family.step(first.argmax(-1, keepdim=True), cache, key_valid[:, None, None, :], positions[:, -1:] + 1)
    torch.testing.assert_close(first, scores[0], rtol=0, atol=0)
    torch.testing.assert_close(second, scores[1], rtol=0, atol=0)
    tokens = backend.generate(batch, [5, 3, 6, 2])
    assert backend.use_decoder("static").generate(batch, [5, 3, 6, 2]) == tokens
    backend.use_decoder("generate")


def test_a_copy_of_the_tied_head_in_the_files_is_ignored(checkpoint, tmp_path):
    folder = shutil.copytree(checkpoint, tmp_path / "with-head")
    shard = folder / MERALION_SHARDS[1]
    weights = load_file(shard)
    head = torch.zeros_like(weights["text_decoder.model.embed_tokens.weight"])
    save_file(weights | {"text_decoder.lm_head.weight": head}, shard, metadata={"format": "pt"})
    decoder = load_backend(folder).model.text_decoder
    assert decoder.lm_head.weight is decoder.model.embed_tokens.weight and decoder.lm_head.weight.abs().sum() > 0


@pytest.fixture(scope="module")
def partial(checkpoint, tmp_path_factory):
    folder = shutil.copytree(checkpoint, tmp_path_factory.mktemp("partial") / checkpoint.name)
    return folder, drop_a_third_of_shards(folder)


def test_a_checkpoint_missing_a_third_of_its_weights_is_refused_naming_them(partial):
    folder, dropped = partial
    with pytest.raises(UserError) as refused:
        load_backend(folder)
    message = str(refused.value)
    assert int(re.search(r"(\d+) missing", message).group(1)) == len(dropped) and dropped[0] in message, message
    assert "1 unexpected (stray.weight)" in message and "Refusing a partly random model" in message


def test_a_checkpoint_of_other_shapes_is_refused_naming_them(checkpoint, tmp_path):
    folder = shutil.copytree(checkpoint, tmp_path / "other-shapes")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "speech_mlp_scale_factor": 5}))
    with pytest.raises(UserError, match=r"1 mismatched \(speech_audio_adapter\.mlp_adapter\.0\.weight \(160, 480\)"):
        load_backend(folder)


@pytest.mark.parametrize("profile", ["tiny", "paper"])
def test_evaluate_refuses_it_in_one_line_in_both_profiles(profile, partial, rows, tmp_path, capsys):
    folder, dropped = partial
    write_manifest(tmp_path / "test.jsonl", rows[:1])
    argv = ["--profile", profile, "evaluate", "--model", str(folder), "--manifest", str(tmp_path / "test.jsonl"),
            "--out", str(tmp_path / "out"), "--device", "cpu", "--quiet"]  # fmt: skip
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    error = stderr.splitlines()[-1]
    assert error.startswith("lionrepro evaluate: ") and "Traceback" not in stderr
    assert dropped[0] in error and "Refusing a partly random model" in error
    assert not (tmp_path / "out" / RESULTS_FILE).exists()
