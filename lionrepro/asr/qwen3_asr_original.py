"""Qwen3-ASR checkpoints in the original layout (`Qwen/Qwen3-ASR-*`, read by the `qwen-asr` package; most likely the
Polyglot-Lion releases too), converted to the transformers layout on load and the result cached.

transformers 5.x ignores the original `thinker_config` and would load such a folder with every weight missing (see
`model.refuse_partial_weights`). The conversion follows transformers' own `convert_qwen3_asr_to_hf.py` (read at
huggingface/transformers 060988b): weights renamed (`thinker.model.` -> `model.language_model.`, `thinker.lm_head.` ->
`lm_head.`, `thinker.` -> `model.`, the audio tower's `proj1`/`proj2` -> `multi_modal_projector.linear_1`/`linear_2`),
`thinker_config` flattened, the audio encoder's position table set to 13 (its chunks are 100 mel frames), the
mixture-of-experts and M-RoPE fields dropped, and the processor rebuilt around the checkpoint's own tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, Qwen3ASRConfig, Qwen3ASRForConditionalGeneration

from lionrepro.asr.model import build_processor
from lionrepro.errors import UserError

# Applied in this order to every weight name (a later rule sees the earlier ones' output)
RENAMES = (
    ("thinker.model.", "model.language_model."),
    ("thinker.lm_head.", "lm_head."),
    ("thinker.", "model."),
    ("model.audio_tower.proj1.", "model.multi_modal_projector.linear_1."),
    ("model.audio_tower.proj2.", "model.multi_modal_projector.linear_2."),
)
AUDIO_POSITIONS = 13  # post-convolution positions of one 100-frame chunk
_DROPPED_TEXT = ("decoder_sparse_step", "moe_intermediate_size", "num_experts_per_tok", "num_experts",
                 "norm_topk_prob", "output_router_logits", "router_aux_loss_coef", "mlp_only_layers")  # fmt: skip
_MROPE = ("mrope_interleaved", "interleaved", "mrope_section", "type")
_HEADS = ("encoder_attention_heads", "num_attention_heads")  # the audio encoder's head count, under either name


def is_original(path: Path) -> bool:
    """Whether a checkpoint folder holds the original layout (a `thinker_config` in its config.json)."""
    config = Path(path) / "config.json"
    return config.is_file() and "thinker_config" in json.loads(config.read_text(encoding="utf-8"))


def renamed(name: str) -> str:
    for old, new in RENAMES:
        name = name.replace(old, new)
    return name


def native_config(original: dict[str, Any]) -> dict[str, Any]:
    """The transformers config of an original-layout one, under the field names the installed version uses."""
    config = {k: v for k, v in original.items() if k not in ("thinker_config", "support_languages", "architectures")}
    thinker = original["thinker_config"]
    for key in ("audio_config", "text_config", "audio_token_id", "initializer_range"):
        if key in thinker:
            config[key] = json.loads(json.dumps(thinker[key]))
    audio, text = config["audio_config"], config["text_config"]
    heads = next(name for name in _HEADS if name in Qwen3ASRConfig().audio_config.to_dict())
    for name in _HEADS:
        if name in audio and name != heads:
            audio[heads] = audio.pop(name)
    audio["max_position_embeddings"] = AUDIO_POSITIONS
    for section in (audio, text):
        section.pop("model_type", None)
        section.pop("max_source_positions", None)
    for key in _DROPPED_TEXT:
        text.pop(key, None)
    if isinstance(text.get("rope_scaling"), dict):
        for key in _MROPE:
            text["rope_scaling"].pop(key, None)
    config["model_type"] = "qwen3_asr"
    return config


def convert(source: Path, target: Path) -> Path:
    """Write the transformers layout of the original-layout checkpoint `source` to `target` (written whole, then
    renamed into place); the converted weights must fit the architecture exactly."""
    source, target = Path(source), Path(target)
    config = Qwen3ASRConfig(**native_config(json.loads((source / "config.json").read_text(encoding="utf-8"))))
    weights = {}
    for shard in sorted(source.glob("model*.safetensors")):
        weights.update({renamed(name): tensor for name, tensor in load_file(shard).items()})
    with torch.device("meta"):
        expected = set(Qwen3ASRForConditionalGeneration(config).state_dict())
    tied = {"lm_head.weight"} if config.get_text_config().tie_word_embeddings else set()
    missing, unexpected = sorted(expected - set(weights) - tied), sorted(set(weights) - expected)
    if missing or unexpected:
        raise UserError(f"{source}: after conversion {len(missing)} weights missing {missing[:3]}, "
                        f"{len(unexpected)} unexpected {unexpected[:3]}. Refusing a partly random model")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        config.save_pretrained(scratch)
        save_file({name: tensor.contiguous() for name, tensor in weights.items()}, scratch / "model.safetensors",
                  metadata={"format": "pt"})  # fmt: skip
        build_processor(AutoTokenizer.from_pretrained(source, local_files_only=True)).save_pretrained(scratch)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def converted(source: Path) -> Path:
    """The transformers layout of `source`, converted once and cached under `$LIONREPRO_CACHE/converted/<hash>`,
    the hash over the source's config and weights. A lock makes the processes of a `torchrun` job, which all load
    the base at once, convert it once: the others wait, then read it (without it, one process's conversion would
    replace the folder under another that is reading it)."""
    digest = hashlib.sha256((Path(source) / "config.json").read_bytes())
    for shard in sorted(Path(source).glob("model*.safetensors")):
        digest.update(shard.read_bytes())
    cache = Path(os.environ.get("LIONREPRO_CACHE", Path.home() / ".cache" / "lionrepro"))
    target = cache / "converted" / digest.hexdigest()[:16]
    locks = cache / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"converted-{target.name}.lock"):
        return target if (target / "model.safetensors").exists() else convert(source, target)
