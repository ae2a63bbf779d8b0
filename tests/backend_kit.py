"""Tiny random-weight checkpoints of every model family `lionrepro.asr.backends` reads, written in each family's real
on-disk layout (transformers' own classes and `save_pretrained`, with the tokenizer and feature-extractor files that
the hub checkpoints carry), and Lion-12 clips to transcribe with them.

The tokenizers are byte-level with no merges (each byte one token) plus the family's special tokens: offline, a few
hundred tokens, and able to write any text a random model may emit.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch
from layout_kit import write_clip
from safetensors.torch import load_file, save_file
from tokenizers import pre_tokenizers
from torch import nn
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    GemmaTokenizer,
    GenerationConfig,
    Qwen2_5OmniConfig,
    Qwen2_5OmniThinkerConfig,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2AudioConfig,
    Qwen2AudioForConditionalGeneration,
    Qwen2AudioProcessor,
    Qwen2Tokenizer,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from lionrepro.asr.evaluation import TokenBudget, transcribe
from lionrepro.corpora.audio import read_audio

LANGUAGES = ("en", "zh", "ta", "ms")
_BYTES = {char: index for index, char in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
_CHATML = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_AUDIO = {"audio_token": "<|AUDIO|>", "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
_VISION = {"image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "vision_bos_token": "<|vision_bos|>",
           "vision_eos_token": "<|vision_eos|>"}  # fmt: skip
# The form of Qwen2.5-Omni's chat template (its hub chat_template.json): a default system turn, then each audio as
# <|audio_bos|><|AUDIO|><|audio_eos|> and each text as it is, in the order given.
OMNI_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


BUDGET = TokenBudget(per_second=2.0, extra=4)  # a few tokens a clip: random weights rarely stop on their own


def transcribes_end_to_end(backend, rows: list[dict]) -> dict:
    """Transcribe `rows` through `backend` in batches of 3 and check what every family must give: one hypothesis per
    row in order, each with its reference, a string and its written language, and the prompt in the description;
    returns the description for the family's own checks."""
    hypotheses = transcribe(backend, rows, 3, budget=BUDGET, progress=False)
    assert [h["id"] for h in hypotheses] == [row["id"] for row in rows]
    for h, row in zip(hypotheses, rows, strict=True):
        assert h["reference"] == row["text"] and isinstance(h["hypothesis"], str) and "written_language" in h
    described = backend.describe()
    assert described["prompt"] == backend.prompt.text
    return described


def clip_rows(folder: Path, count: int = 4) -> list[dict]:
    """Manifest rows of `count` Lion-12 test-like clips (eSpeak NG speech), cycling through the four languages."""
    rows = []
    for index in range(count):
        code = LANGUAGES[index % len(LANGUAGES)]
        path = folder / f"{code}{index}.flac"
        text = write_clip(path, code, index)
        duration = read_audio(path).samples.shape[0] / 16_000
        rows.append({"id": f"{code}{index}", "dataset": "D", "language": code, "split": "test", "audio": str(path),
                     "duration": duration, "text": text})  # fmt: skip
    return rows


def _qwen_tokenizer(named: dict[str, str]) -> Qwen2Tokenizer:
    tokenizer = Qwen2Tokenizer(vocab=dict(_BYTES), merges=[], extra_special_tokens=named)
    tokenizer.add_special_tokens({"additional_special_tokens": [*_CHATML, *named.values()]})
    tokenizer.eos_token = "<|im_end|>"
    return tokenizer


def _text_config(vocab_size: int, **extra) -> dict:
    return {"vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, **extra}  # fmt: skip


_AUDIO_ENCODER = {"d_model": 32, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
                  "num_mel_bins": 128}  # fmt: skip


def _generation(tokenizer, **extra) -> GenerationConfig:
    ids = tokenizer.convert_tokens_to_ids
    return GenerationConfig(eos_token_id=[ids("<|im_end|>"), ids("<|endoftext|>")], pad_token_id=ids("<|endoftext|>"),
                            **extra)  # fmt: skip


def write_qwen2_audio(folder: Path) -> Path:
    """SeaLLMs-Audio-7B's layout: `Qwen2AudioForConditionalGeneration` weights, its processor and chat template."""
    tokenizer = _qwen_tokenizer(_AUDIO)
    processor = Qwen2AudioProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer)
    config = Qwen2AudioConfig(audio_config=_AUDIO_ENCODER,
                              text_config={"model_type": "qwen2", **_text_config(len(tokenizer))},
                              audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"))  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Qwen2AudioForConditionalGeneration(config)
    model.generation_config = _generation(tokenizer)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _omni_thinker_config(tokenizer) -> Qwen2_5OmniThinkerConfig:
    ids = tokenizer.convert_tokens_to_ids
    rope = {"rope_type": "default", "rope_theta": 10_000.0, "mrope_section": [1, 1, 2]}
    return Qwen2_5OmniThinkerConfig(
        audio_config={**_AUDIO_ENCODER, "output_dim": 32, "n_window": 50},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": 32,
                       "fullatt_block_indexes": [0]},  # fmt: skip
        text_config=_text_config(len(tokenizer), rope_parameters=rope),
        audio_token_index=ids("<|AUDIO|>"), image_token_index=ids("<|IMAGE|>"), video_token_index=ids("<|VIDEO|>"),
        audio_start_token_id=ids("<|audio_bos|>"), audio_end_token_id=ids("<|audio_eos|>"),
        vision_start_token_id=ids("<|vision_bos|>"), vision_end_token_id=ids("<|vision_eos|>"),
    )  # fmt: skip


def _omni_hub_name(name: str) -> str:
    """A thinker weight under its name in the hub's full checkpoint (`thinker.audio_tower.*`, `thinker.visual.*`,
    `thinker.model.*`, `thinker.lm_head.*`, as transformers 4.x named them; 5.x renames them on load, see its
    conversion_mapping.py), whichever of the two namings `save_pretrained` wrote."""
    name = re.sub(r"^model\.(audio_tower|visual)\.", r"\1.", name)
    return "thinker." + re.sub(r"^model\.language_model\.", "model.", name)


def write_qwen2_5_omni(folder: Path, *, full: bool = True) -> Path:
    """Qwen2.5-Omni's layout: the full model (`thinker_config`, `talker_config`, `token2wav_config`; `thinker.*`,
    `talker.*` and `token2wav.*` weights, as Qwen/Qwen2.5-Omni-3B/7B hold them) or, with `full=False`, the thinker
    alone as `save_pretrained` writes it. The tokenizer carries the chat template; the feature extractor is Whisper's.
    Only the thinker is a real tiny model: the talker and token2wav weights are stand-ins (text-only decoding must
    ignore them)."""
    tokenizer = _qwen_tokenizer({**_AUDIO, **_VISION})
    tokenizer.chat_template = OMNI_TEMPLATE
    thinker_config = _omni_thinker_config(tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        thinker = Qwen2_5OmniThinkerForConditionalGeneration(thinker_config)
    thinker.generation_config = _generation(tokenizer)
    thinker.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=128).save_pretrained(folder)
    if full:
        weights = {_omni_hub_name(name): tensor for name, tensor in load_file(folder / "model.safetensors").items()}
        weights |= {"talker.model.norm.weight": torch.ones(4), "token2wav.norm.weight": torch.ones(4)}
        save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
        config = Qwen2_5OmniConfig(thinker_config=thinker_config.to_dict()).to_dict()
        config["architectures"] = ["Qwen2_5OmniForConditionalGeneration"]
        (folder / "config.json").write_text(json.dumps(config, indent=2))
    return folder


def write_whisper(folder: Path) -> Path:
    """Whisper-large-v3-turbo's layout: 128 mel bins, the multilingual special tokens, and the generation config that
    Whisper's `generate` reads (languages, tasks, no-timestamps token)."""
    languages = [f"<|{code}|>" for code in LANGUAGES]
    specials = ["<|endoftext|>", "<|startoftranscript|>", *languages, "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]  # fmt: skip
    tokenizer = WhisperTokenizer(vocab=dict(_BYTES), merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    ids = tokenizer.convert_tokens_to_ids
    start, end = ids("<|startoftranscript|>"), ids("<|endoftext|>")
    config = WhisperConfig(vocab_size=len(tokenizer), num_mel_bins=128, d_model=32, encoder_layers=2, decoder_layers=2,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                           max_target_positions=64, decoder_start_token_id=start, pad_token_id=end, bos_token_id=end,
                           eos_token_id=end)  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start, eos_token_id=end, pad_token_id=end, is_multilingual=True, max_length=64,
        lang_to_id={token: ids(token) for token in languages}, no_timestamps_token_id=ids("<|notimestamps|>"),
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
    )  # fmt: skip
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer).save_pretrained(
        folder
    )
    return folder


def drop_a_third(folder: Path) -> list[str]:
    """Remove the first third of a checkpoint's weights (by name) and add a stray one; the names dropped."""
    weights = load_file(folder / "model.safetensors")
    dropped = sorted(weights)[: len(weights) // 3]
    kept = {name: tensor for name, tensor in weights.items() if name not in dropped}
    save_file({**kept, "stray.weight": torch.zeros(2)}, folder / "model.safetensors", metadata={"format": "pt"})
    return dropped


# The inverse of the Qwen3-ASR conversion (lionrepro.asr.qwen3_asr_original), as the original checkpoints name weights
ORIGINAL_NAMES = (
    ("model.multi_modal_projector.linear_1.", "thinker.audio_tower.proj1."),
    ("model.multi_modal_projector.linear_2.", "thinker.audio_tower.proj2."),
    ("model.language_model.", "thinker.model."),
    ("lm_head.", "thinker.lm_head."),
    ("model.audio_tower.", "thinker.audio_tower."),
)


def write_qwen3_asr_original(native: Path, folder: Path) -> Path:
    """`native`'s Qwen3-ASR checkpoint in the original layout (`Qwen/Qwen3-ASR-*`, read by the `qwen-asr` package):
    nested `thinker_config`, `thinker.*` weights, and the tokenizer files beside them, as the hub folders hold them."""
    folder.mkdir(parents=True)
    config = json.loads((native / "config.json").read_text())
    audio = {**config["audio_config"], "model_type": "qwen3_asr_audio_encoder", "max_source_positions": 1500}
    text = {**config["text_config"], "num_experts": 0, "mlp_only_layers": []}
    thinker = {"audio_config": audio, "text_config": text, "audio_token_id": config["audio_token_id"],
               "initializer_range": config["initializer_range"]}  # fmt: skip
    outer = {k: v for k, v in config.items() if k not in ("audio_config", "text_config", "audio_token_id")}
    (folder / "config.json").write_text(json.dumps({**outer, "thinker_config": thinker, "support_languages": ["en"]}))
    weights = {}
    for name, tensor in load_file(native / "model.safetensors").items():
        for new, old in ORIGINAL_NAMES:
            if name.startswith(new):
                name = old + name[len(new) :]
                break
        weights[name] = tensor
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(native / name, folder / name)
    assert all(name.startswith("thinker.") for name in weights)
    return folder


# The form of Gemma-2's chat template (google/gemma-2-9b-it, which MERaLiON-2's tokenizer keeps): <bos>, then each
# turn as <start_of_turn>ROLE\nTEXT<end_of_turn>\n with the assistant called `model`.
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "<start_of_turn>{{ role }}\n{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
MERALION_SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")


def _gemma_tokenizer() -> GemmaTokenizer:
    """Gemma's tokenizer class with byte-fallback tokens only, its chat turns, and `<SpeechHere>` as the last token
    (MERaLiON-2's speech placeholder, 255999 = the last of Gemma-2's 256,000)."""
    names = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "\u2581", *(f"<0x{byte:02X}>" for byte in range(256))]
    tokenizer = GemmaTokenizer(vocab={name: index for index, name in enumerate(names)}, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": ["<start_of_turn>", "<end_of_turn>", "<SpeechHere>"]})
    tokenizer.chat_template = GEMMA_TEMPLATE
    return tokenizer


def write_meralion2(folder: Path) -> Path:
    """MERaLiON-2-10B-ASR's layout: config.json of model_type `meralion2` (`speech_config` a Whisper config,
    `text_config` a Gemma-2 one, `speech_mlp_scale_factor`, `speech_token_index`), the weights under the hub's names in
    two shards with their index (without the head tied to the embedding, which `save_pretrained` leaves out), Gemma's
    tokenizer and Whisper's feature extractor. The weights come from transformers' `WhisperEncoder` and
    `Gemma2ForCausalLM` and plain layers of the adapter's shapes, not from the backend's module."""
    folder.mkdir(parents=True)
    tokenizer = _gemma_tokenizer()
    speech = WhisperConfig(**_AUDIO_ENCODER)  # 1500 positions: 3000 mel frames, 100 speech tokens per 30 s
    text = Gemma2Config(**_text_config(len(tokenizer)), head_dim=8, pad_token_id=0, eos_token_id=1, bos_token_id=2)
    width, scale = speech.d_model, 15
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        parts = {
            "speech_encoder": WhisperEncoder(speech),
            "ln_speech": nn.LayerNorm(width),
            "speech_audio_adapter.mlp_adapter.0": nn.Linear(width * scale, 5 * width),
            "speech_audio_adapter.gate_proj": nn.Linear(5 * width, 5 * width),
            "speech_audio_adapter.pool_proj": nn.Linear(5 * width, 5 * width),
            "speech_audio_adapter.out_proj": nn.Linear(5 * width, text.hidden_size),
            "text_decoder": Gemma2ForCausalLM(text),
        }
    weights = {f"{prefix}.{name}": tensor.detach().clone() for prefix, module in parts.items()
               for name, tensor in module.state_dict().items()}  # fmt: skip
    del weights["text_decoder.lm_head.weight"]
    shards = {shard: {} for shard in MERALION_SHARDS}
    for name, tensor in weights.items():
        shards[MERALION_SHARDS[name.startswith("text_decoder.")]][name] = tensor
    for shard, tensors in shards.items():
        save_file(tensors, folder / shard, metadata={"format": "pt"})
    index = {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in weights.values())},
             "weight_map": {name: shard for shard, tensors in shards.items() for name in tensors}}  # fmt: skip
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    config = {"architectures": ["MERaLiON2ForConditionalGeneration"], "model_type": "meralion2",
              "speech_config": speech.to_dict(), "text_config": text.to_dict(), "speech_mlp_scale_factor": scale,
              "speech_token_index": tokenizer.convert_tokens_to_ids("<SpeechHere>")}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer.save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=128).save_pretrained(folder)
    return folder


def drop_a_third_of_shards(folder: Path) -> list[str]:
    """`drop_a_third` for a sharded checkpoint: the first third of the weights over all its shards (by name) removed,
    a stray one added to the first shard; the names dropped."""
    shards = {path: load_file(path) for path in sorted(folder.glob("*.safetensors"))}
    dropped = sorted(name for weights in shards.values() for name in weights)
    dropped = dropped[: len(dropped) // 3]
    for number, (path, weights) in enumerate(shards.items()):
        kept = {name: tensor for name, tensor in weights.items() if name not in dropped}
        save_file(kept | ({"stray.weight": torch.zeros(2)} if number == 0 else {}), path, metadata={"format": "pt"})
    return dropped
