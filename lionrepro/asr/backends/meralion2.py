"""MERaLiON-2-10B-ASR, ported to transformers 5: its hub code is remote code for transformers 4.50 (it imports
`HybridCache`, which 5.x lacks), so the model is rebuilt here from transformers' `WhisperEncoder` and
`Gemma2ForCausalLM` around its own adapter, under the hub checkpoint's parameter names, and its safetensors are
loaded by name (refused when a weight is missing, unexpected or of another shape).

The model (the public sources in `NAMES_SOURCE`): the Whisper-large-v3 encoder's 1500 frames per 30 s go through a
LayerNorm (`ln_speech`), the adapter stacks every 15 of them (`speech_mlp_scale_factor`) into one vector, Linear +
SiLU to 5 x 1280, a gated MLP `out_proj(SiLU(gate_proj(x)) * pool_proj(x))` into Gemma-2-9B's width: 100 speech
tokens per 30 s. Audio is cut into 30 s chunks (at most 10: 300 s), each padded to 30 s, its waveform normalised to
zero mean and unit variance before the log-mel features, as MERaLiON-2's processor does; the prompt's `<SpeechHere>`
(token `speech_token_index`, 255999) becomes 100 such tokens per chunk, whose embeddings are the adapter's output.

Gemma-2 scales its input embeddings by sqrt(hidden size): transformers 4.50 did it to the whole input (text and
speech), transformers 5 does it inside the token embedding, so the speech embeddings are scaled here by the same
factor. Decoding is greedy and stops at `<end_of_turn>` (the end of Gemma's model turn) or `<eos>`; the checkpoint's
own generation settings are not used (lionrepro.asr.backends.base).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn
from transformers import Gemma2Config, Gemma2ForCausalLM, GemmaTokenizer, WhisperConfig, WhisperFeatureExtractor
from transformers.initialization import no_init_weights
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from lionrepro.asr.architectures import MeralionAdapter
from lionrepro.asr.backends.base import SAMPLE_RATE, Backend, Prompt, clips
from lionrepro.asr.model import refuse_partial_weights
from lionrepro.errors import UserError

SPEECH = "<SpeechHere>"
END_OF_TURN = "<end_of_turn>"
INSTRUCTION = (
    f"Instruction: Please transcribe this speech. \nFollow the text instruction based on the following audio: {SPEECH}"
)
PROMPT_SOURCE = (
    "the MERaLiON-2 model cards (MERaLiON/MERaLiON-2-10B-ASR; its template `Instruction: <TextHere> \\nFollow the "
    "text instruction based on the following audio: <SpeechHere>` with the ASR instruction `Please transcribe this "
    "speech.`), as one user turn in the checkpoint's chat template with the generation prompt"
)
NAMES_SOURCE = (
    "afif2100/meralion-plugin-custom@4eca94ec02209959114fb96d68f9c257b092d58c "
    "plugins/vllm-plugin-meralion2-v026/src/vllm_plugin_meralion2/vllm0101.py (modules and by-name loading) and "
    "transformers_utils/modules.py (adapter); ggml-org/llama.cpp@32e9e0448790c40f733273b95c8e90e2b5faa600 "
    "conversion/ultravox.py (the same names read from the hub files); Gemma-2 layer names as in the hub code's "
    "copy, wangyisong-njust/merilion@18cec4a7bf1455197720344a53021986f2da7d7e meralion2_bl/modeling_gemma2.py"
)
# The hub checkpoint's parameter names ({i}: a layer index), from NAMES_SOURCE: the top-level modules and the
# adapter from vllm0101.py and modules.py; under speech_encoder the names of transformers' WhisperEncoder, which
# vllm0101.py builds; under text_decoder those of Gemma2ForCausalLM (no attention biases).
HUB_KEY_PATTERNS = (
    "speech_encoder.conv1.weight",
    "speech_encoder.conv1.bias",
    "speech_encoder.conv2.weight",
    "speech_encoder.conv2.bias",
    "speech_encoder.embed_positions.weight",
    "speech_encoder.layers.{i}.self_attn.k_proj.weight",
    "speech_encoder.layers.{i}.self_attn.v_proj.weight",
    "speech_encoder.layers.{i}.self_attn.v_proj.bias",
    "speech_encoder.layers.{i}.self_attn.q_proj.weight",
    "speech_encoder.layers.{i}.self_attn.q_proj.bias",
    "speech_encoder.layers.{i}.self_attn.out_proj.weight",
    "speech_encoder.layers.{i}.self_attn.out_proj.bias",
    "speech_encoder.layers.{i}.self_attn_layer_norm.weight",
    "speech_encoder.layers.{i}.self_attn_layer_norm.bias",
    "speech_encoder.layers.{i}.fc1.weight",
    "speech_encoder.layers.{i}.fc1.bias",
    "speech_encoder.layers.{i}.fc2.weight",
    "speech_encoder.layers.{i}.fc2.bias",
    "speech_encoder.layers.{i}.final_layer_norm.weight",
    "speech_encoder.layers.{i}.final_layer_norm.bias",
    "speech_encoder.layer_norm.weight",
    "speech_encoder.layer_norm.bias",
    "ln_speech.weight",
    "ln_speech.bias",
    "speech_audio_adapter.mlp_adapter.0.weight",
    "speech_audio_adapter.mlp_adapter.0.bias",
    "speech_audio_adapter.gate_proj.weight",
    "speech_audio_adapter.gate_proj.bias",
    "speech_audio_adapter.pool_proj.weight",
    "speech_audio_adapter.pool_proj.bias",
    "speech_audio_adapter.out_proj.weight",
    "speech_audio_adapter.out_proj.bias",
    "text_decoder.model.embed_tokens.weight",
    "text_decoder.model.layers.{i}.self_attn.q_proj.weight",
    "text_decoder.model.layers.{i}.self_attn.k_proj.weight",
    "text_decoder.model.layers.{i}.self_attn.v_proj.weight",
    "text_decoder.model.layers.{i}.self_attn.o_proj.weight",
    "text_decoder.model.layers.{i}.mlp.gate_proj.weight",
    "text_decoder.model.layers.{i}.mlp.up_proj.weight",
    "text_decoder.model.layers.{i}.mlp.down_proj.weight",
    "text_decoder.model.layers.{i}.input_layernorm.weight",
    "text_decoder.model.layers.{i}.post_attention_layernorm.weight",
    "text_decoder.model.layers.{i}.pre_feedforward_layernorm.weight",
    "text_decoder.model.layers.{i}.post_feedforward_layernorm.weight",
    "text_decoder.model.norm.weight",
    "text_decoder.lm_head.weight",
)
# Gemma-2 ties its output head to the token embedding (text_config.tie_word_embeddings, true by default): the
# files then need not hold the head, and a copy they hold is ignored, as transformers ties it after loading.
TIED_HEAD = "text_decoder.lm_head.weight"
# MERaLiON2Config's and MERaLiON2Processor's defaults (configuration_meralion2.py, processing_meralion2.py)
SCALE_FACTOR, SPEECH_TOKEN_INDEX, MAX_CHUNKS = 15, 255999, 300 // 30


class Meralion2(nn.Module):
    """Whisper encoder -> `ln_speech` -> adapter -> Gemma-2, whose prompt's speech tokens take the adapter's output."""

    def __init__(self, speech: WhisperConfig, text: Gemma2Config, scale_factor: int, speech_token_index: int) -> None:
        super().__init__()
        self.speech_encoder = WhisperEncoder(speech)
        self.ln_speech = nn.LayerNorm(speech.d_model)
        self.speech_audio_adapter = MeralionAdapter(speech.d_model, text.hidden_size, scale_factor)
        self.text_decoder = Gemma2ForCausalLM(text)
        self.speech_token_index = speech_token_index
        self.speech_tokens_per_chunk = speech.max_source_positions // scale_factor

    @property
    def device(self) -> torch.device:
        return self.ln_speech.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.ln_speech.weight.dtype

    def prompt_embeds(self, input_ids: torch.Tensor, input_features: torch.Tensor) -> torch.Tensor:
        """The decoder's input: the prompt's token embeddings, its speech tokens replaced in order by the speech
        embeddings of the chunks (`input_features`, the chunks of every row in row order)."""
        frames = self.ln_speech(self.speech_encoder(input_features).last_hidden_state)
        speech = self.speech_audio_adapter(frames)
        embedding = self.text_decoder.get_input_embeddings()
        text = embedding(input_ids)
        slots = (input_ids == self.speech_token_index).unsqueeze(-1)
        if int(slots.sum()) != speech.shape[0] * speech.shape[1]:
            raise ValueError(f"{int(slots.sum())} speech tokens in the prompts, {speech.shape[:2].numel()} embeddings")
        return text.masked_scatter(slots, (speech * embedding.embed_scale.to(text.dtype)).to(text.dtype))

    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, input_features: torch.Tensor,
                 **kwargs: Any) -> torch.Tensor:  # fmt: skip
        """The prompts followed by the tokens Gemma-2 generates after them (`kwargs` go to its `generate`)."""
        embeds = self.prompt_embeds(input_ids, input_features)
        return self.text_decoder.generate(input_ids=input_ids, inputs_embeds=embeds, attention_mask=attention_mask,
                                          **kwargs)  # fmt: skip


def build(config: dict[str, Any]) -> Meralion2:
    """The model a MERaLiON-2 config.json describes, its weights left uninitialised (they are loaded next)."""
    speech = WhisperConfig.from_dict(config["speech_config"])
    text = Gemma2Config.from_dict(config["text_config"])
    speech._attn_implementation = "sdpa"
    text._attn_implementation = "eager"  # Gemma-2 soft-caps its attention scores, which SDPA cannot
    with no_init_weights():
        model = Meralion2(speech, text, config.get("speech_mlp_scale_factor", SCALE_FACTOR),
                          config.get("speech_token_index", SPEECH_TOKEN_INDEX))  # fmt: skip
    model.text_decoder.tie_weights()  # skipping the initialisation also skipped the tying
    return model


def load_weights(model: Meralion2, folder: Path) -> None:
    """The folder's safetensors (all of its shards) loaded into `model` by name, after checking every name and shape
    from the files' headers: a checkpoint that does not fit is refused, naming the weights."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise UserError(f"{folder} holds no .safetensors weights")
    found: dict[str, tuple[int, ...]] = {}
    for file in files:
        with safe_open(file, framework="pt") as weights:
            found |= {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()}
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    tied = {TIED_HEAD} if model.text_decoder.config.tie_word_embeddings else set()
    info = {
        "missing_keys": expected.keys() - found.keys() - tied,
        "unexpected_keys": found.keys() - expected.keys(),
        "mismatched_keys": [f"{name} {found[name]} for {expected[name]}" for name in expected.keys() & found.keys()
                            if found[name] != expected[name]],
    }  # fmt: skip
    refuse_partial_weights(folder, info, architecture="MERaLiON-2")
    for file in files:
        model.load_state_dict({name: t for name, t in load_file(file).items() if name not in tied}, strict=False)


class Meralion2Backend(Backend):
    family = "meralion2"
    static_decoding = True  # tests check its prompt's and steps' logits equal generate's
    # no grouped-query SDPA: Gemma-2's eager attention soft-caps its scores, which SDPA cannot
    static_options = {"shrink": True}

    def __init__(self, model: Meralion2, tokenizer: Any, features: WhisperFeatureExtractor) -> None:
        if tokenizer.convert_ids_to_tokens(model.speech_token_index) != SPEECH:
            raise UserError(f"the tokenizer's token {model.speech_token_index} (speech_token_index) is not {SPEECH}")
        chat = tokenizer.apply_chat_template([{"role": "user", "content": INSTRUCTION}], tokenize=False,
                                             add_generation_prompt=True)  # fmt: skip
        super().__init__(model, tokenizer, Prompt(chat, PROMPT_SOURCE), weight_names=NAMES_SOURCE)
        self.features = features
        end_of_turn = tokenizer.convert_tokens_to_ids(END_OF_TURN)
        if end_of_turn in (None, tokenizer.unk_token_id):
            raise UserError(f"the tokenizer has no {END_OF_TURN} (Gemma's end of a turn)")
        self.stop_ids = sorted({*self.stop_ids, end_of_turn})

    def chunks(self, samples: Any) -> list[Any]:
        """A clip cut into 30 s chunks, at least one and at most MAX_CHUNKS (the rest is dropped, as upstream)."""
        size = self.features.n_samples
        count = min(max(-(-len(samples) // size), 1), MAX_CHUNKS)
        return [samples[index * size : (index + 1) * size] for index in range(count)]

    def inputs(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        per_row = [self.chunks(samples) for samples in clips(rows)]
        features = self.features([chunk for chunks in per_row for chunk in chunks], sampling_rate=SAMPLE_RATE,
                                 padding="max_length", do_normalize=True, return_tensors="pt")  # fmt: skip
        tokens = self.model.speech_tokens_per_chunk
        texts = [self.prompt.text.replace(SPEECH, SPEECH * tokens * len(chunks)) for chunks in per_row]
        batch = self.tokenizer(texts, add_special_tokens=False, padding=True, padding_side="left", return_tensors="pt")
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
                "input_features": features["input_features"]}  # fmt: skip


def load(folder: Path) -> Meralion2Backend:
    model = build(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    load_weights(model, folder)
    return Meralion2Backend(model, GemmaTokenizer.from_pretrained(folder, local_files_only=True),
                            WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True))  # fmt: skip
