"""The four architectures of the paper's speed comparison, built at full size with random weights.

Speed and training cost depend on shapes, not on the weights' values, and the weights cannot be downloaded here:
so each model is built from its published configuration (see shared/paper/README.md, "Architectures") with the
real transformers classes, on any device and dtype, optionally with fewer layers (for depth extrapolation on a
CPU), and on the meta device to count parameters exactly without allocating memory.

Every model is driven through one path: `make_inputs` builds a realistic prompt for a clip of a given duration
(audio placeholders at the model's own frame rate) and `generate_fixed` runs transformers' greedy `generate` with
a KV cache for exactly N new tokens, so decoding length is the same for every model.

MERaLiON-2-10B-ASR has no transformers class (upstream uses `trust_remote_code`); it is assembled here from
transformers' `WhisperEncoder` (large-v3) and `Gemma2ForCausalLM` (Gemma-2-9B) around the adapter of MERaLiON-2's
public inference code: 15 encoder frames are concatenated (1500 frames -> 100 speech tokens per 30 s), a
Linear(15 d -> 5 d) + SiLU, then a gated MLP `out(SiLU(gate(x)) * pool(x))` with 5 d hidden units, into the
decoder's width (d = 1280). Every input is padded to 30 s, as MERaLiON-2 does. One deviation, for a like-for-like
kernel: transformers runs Gemma-2 only with eager attention because SDPA cannot soft-cap attention scores (a tanh on
the scores, negligible work); here its decoder runs SDPA like the other models, without that cap.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    GenerationConfig,
    GenerationMixin,
    Qwen3ASRConfig,
    Qwen3ASRForConditionalGeneration,
    WhisperConfig,
    WhisperForConditionalGeneration,
)
from transformers.initialization import no_init_weights
from transformers.modeling_utils import PreTrainedModel
from transformers.models.whisper.modeling_whisper import WhisperEncoder

ATTENTION = "sdpa"  # one attention kernel for every model
MEL_BINS = 128
MEL_FRAMES_PER_SECOND = 100
WHISPER_WINDOW_FRAMES = 3000  # Whisper (and MERaLiON-2) pad every input to 30 s of mel frames


@dataclass(frozen=True)
class Architecture:
    """One architecture: its registry name, its row in the paper's tables and its published size."""

    name: str
    paper_model: str  # the model's name in Tables 2 and 3
    published_params: str  # as printed in Table 2's `params` column
    encoder_layers: int
    decoder_layers: int
    fine_tuned_as: str | None = None  # the paper's model made by fine-tuning this one (same architecture)


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("qwen3-asr-0.6b", "Qwen3-ASR-0.6B", "0.6B", 18, 28, fine_tuned_as="Polyglot-Lion-0.6B"),
        Architecture("qwen3-asr-1.7b", "Qwen3-ASR-1.7B", "1.7B", 24, 28, fine_tuned_as="Polyglot-Lion-1.7B"),
        Architecture("meralion-2-10b-asr", "MERaLiON-2-10B-ASR", "10B", 32, 42),
        Architecture("whisper-large-v3-turbo", "Whisper-large-v3-turbo", "0.8B", 32, 4),
    )
}
NAMES = tuple(ARCHITECTURES)
MERALION = "meralion-2-10b-asr"  # the baseline of the speed and size claims
# The architectures the paper fine-tuned, with the Polyglot-Lion model (Tables 2 and 3) each one became
POLYGLOT_OF = {a.name: a.fine_tuned_as for a in ARCHITECTURES.values() if a.fine_tuned_as}
# A Qwen3-ASR a few hundred times smaller, same classes and code path: for tests of the measuring machinery only
TINY = Architecture("qwen3-asr-tiny", "Qwen3-ASR (tiny test configuration)", "-", 4, 4)

# Qwen3-ASR per size: audio encoder and Qwen3 decoder widths (README "Architectures"); depths are in ARCHITECTURES
_QWEN_TEXT_HEADS = {"num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128}
_QWEN3_ASR = {
    "qwen3-asr-0.6b": {
        "audio": {
            "d_model": 896,
            "encoder_attention_heads": 14,
            "encoder_ffn_dim": 3584,
            "downsample_hidden_size": 480,
        },
        "text": {"hidden_size": 1024, "intermediate_size": 3072, **_QWEN_TEXT_HEADS},
    },
    "qwen3-asr-1.7b": {
        "audio": {
            "d_model": 1024,
            "encoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "downsample_hidden_size": 480,
        },
        "text": {"hidden_size": 2048, "intermediate_size": 6144, **_QWEN_TEXT_HEADS},
    },
    TINY.name: {
        "audio": {"d_model": 64, "encoder_attention_heads": 2, "encoder_ffn_dim": 128, "downsample_hidden_size": 16},
        "text": {
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
        },
    },
}
_QWEN_PROMPT_PREFIX = 9  # <|im_start|>system\n<|im_end|>\n<|im_start|>user\n<|audio_start|>
_QWEN_PROMPT_SUFFIX = 6  # <|audio_end|><|im_end|>\n<|im_start|>assistant\n
_TEXT_TOKEN = 1000  # an ordinary (non-special) token id standing for prompt text

_WHISPER_LARGE_V3 = dict(
    vocab_size=51866,
    num_mel_bins=MEL_BINS,
    d_model=1280,
    encoder_attention_heads=20,
    decoder_attention_heads=20,
    encoder_ffn_dim=5120,
    decoder_ffn_dim=5120,
    max_source_positions=1500,
    max_target_positions=448,
    pad_token_id=50256,
    bos_token_id=50257,
    eos_token_id=50257,
    decoder_start_token_id=50258,
)
# <|startoftranscript|><|en|><|transcribe|><|notimestamps|>: the forced prompt of a Whisper transcription
_WHISPER_PROMPT = (50258, 50259, 50360, 50364)

_GEMMA2_9B = dict(
    vocab_size=256000,
    hidden_size=3584,
    intermediate_size=14336,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=256,
    query_pre_attn_scalar=256,
    sliding_window=4096,
    max_position_embeddings=8192,
    tie_word_embeddings=True,
    pad_token_id=0,
    eos_token_id=1,
    bos_token_id=2,
)
MERALION_STACK = 15  # encoder frames concatenated into one speech token
MERALION_ADAPTER_EXPANSION = 5
MERALION_SPEECH_TOKENS = 1500 // MERALION_STACK  # per 30 s window
_MERALION_PROMPT_PREFIX = 16  # Gemma chat turn + "Instruction: Please transcribe this speech. Follow the text ..."
_MERALION_PROMPT_SUFFIX = 5  # <end_of_turn>\n<start_of_turn>model\n


def architecture(name: str) -> Architecture:
    if name == TINY.name:
        return TINY
    if name not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(NAMES)}")
    return ARCHITECTURES[name]


def qwen3_asr_config(name: str, encoder_layers: int, decoder_layers: int) -> Qwen3ASRConfig:
    widths = _QWEN3_ASR[name]
    return Qwen3ASRConfig(
        audio_config={
            "model_type": "qwen3_asr_encoder",
            "encoder_layers": encoder_layers,
            "n_window": 50,
            "n_window_infer": 800,
            "output_dim": widths["text"]["hidden_size"],  # the projector writes the LLM's width
            **widths["audio"],
        },
        text_config={
            "model_type": "qwen3",
            "vocab_size": 151936,
            "num_hidden_layers": decoder_layers,
            "max_position_embeddings": 65536,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0},
            "tie_word_embeddings": True,
            **widths["text"],
        },
        tie_word_embeddings=True,
    )


def whisper_config(encoder_layers: int, decoder_layers: int) -> WhisperConfig:
    return WhisperConfig(encoder_layers=encoder_layers, decoder_layers=decoder_layers, **_WHISPER_LARGE_V3)


def gemma2_config(decoder_layers: int) -> Gemma2Config:
    # attn_logit_softcapping=None: SDPA cannot soft-cap attention scores (see Meralion2ASR); the final-logit cap stays
    return Gemma2Config(num_hidden_layers=decoder_layers, attn_logit_softcapping=None, **_GEMMA2_9B)


class MeralionAdapter(nn.Module):
    """MERaLiON-2's speech adapter: stack `scale_factor` encoder frames into one speech token, Linear + SiLU, then a
    gated MLP into the decoder's width, under the hub checkpoint's names (lionrepro.asr.backends.meralion2 loads the
    released weights into it; its dropout, which has no weights and does nothing at inference, left out)."""

    def __init__(self, speech_dim: int, text_dim: int, scale_factor: int = MERALION_STACK) -> None:
        super().__init__()
        hidden = speech_dim * MERALION_ADAPTER_EXPANSION
        self.scale_factor = scale_factor
        self.mlp_adapter = nn.Sequential(nn.Linear(speech_dim * scale_factor, hidden), nn.SiLU())
        self.gate_proj = nn.Linear(hidden, hidden)
        self.pool_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, text_dim)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        batch, length, width = frames.shape
        stacked = self.mlp_adapter(frames.reshape(batch, length // self.scale_factor, width * self.scale_factor))
        return self.out_proj(nn.functional.silu(self.gate_proj(stacked)) * self.pool_proj(stacked))


class Meralion2ASR(nn.Module):
    """Whisper-large-v3 encoder -> 15-frame stacking adapter -> Gemma-2-9B decoder, generating from embeddings."""

    def __init__(self, encoder_layers: int, decoder_layers: int) -> None:
        super().__init__()
        encoder_config = whisper_config(encoder_layers, 1)
        encoder_config._attn_implementation = ATTENTION
        decoder_config = gemma2_config(decoder_layers)
        decoder_config._attn_implementation = "eager"  # transformers refuses sdpa for Gemma-2 at construction
        self.speech_encoder = WhisperEncoder(encoder_config)
        self.speech_audio_adapter = MeralionAdapter(encoder_config.d_model, decoder_config.hidden_size)
        self.text_decoder = Gemma2ForCausalLM(decoder_config)
        # ... because SDPA cannot apply Gemma-2's attention-logit soft-capping (an elementwise tanh on the scores).
        # To time every model with the same kernel, the decoder runs SDPA without that cap (see module docstring).
        self.text_decoder.config._attn_implementation = ATTENTION
        self.config = self.text_decoder.config

    def prompt_embeds(self, input_ids: torch.Tensor, input_features: torch.Tensor) -> torch.Tensor:
        """The decoder's input: text embeddings with the speech tokens written over the placeholders."""
        speech = self.speech_audio_adapter(self.speech_encoder(input_features).last_hidden_state)
        embeds = self.text_decoder.get_input_embeddings()(input_ids)
        start = _MERALION_PROMPT_PREFIX
        return torch.cat([embeds[:, :start], speech.to(embeds.dtype), embeds[:, start + speech.shape[1] :]], dim=1)

    def generate(
        self,
        input_ids: torch.Tensor,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor,
        generation_config: GenerationConfig,
    ) -> torch.Tensor:
        embeds = self.prompt_embeds(input_ids, input_features)
        return self.text_decoder.generate(
            inputs_embeds=embeds, attention_mask=attention_mask, generation_config=generation_config
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
    ):  # -> transformers' CausalLMOutputWithPast
        embeds = self.prompt_embeds(input_ids, input_features)
        return self.text_decoder(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels)


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _layers(name: str, num_layers_override: tuple[int, int] | None) -> tuple[int, int]:
    arch = architecture(name)
    return num_layers_override or (arch.encoder_layers, arch.decoder_layers)


def build(
    name: str,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    num_layers_override: tuple[int, int] | None = None,
) -> nn.Module:
    """The architecture with random weights (`fill_random_`), allocated directly on `device` in `dtype`.

    `num_layers_override` = (encoder layers, decoder layers) keeps every width and only changes the depth.
    """
    encoder_layers, decoder_layers = _layers(name, num_layers_override)
    meta = torch.device(device).type == "meta"
    skip_init = contextlib.nullcontext() if meta else no_init_weights()
    with torch.device(device), _default_dtype(dtype), skip_init:
        if name.startswith("qwen3-asr"):
            config = qwen3_asr_config(name, encoder_layers, decoder_layers)
            model = Qwen3ASRForConditionalGeneration._from_config(config, attn_implementation=ATTENTION, dtype=dtype)
        elif name == "whisper-large-v3-turbo":
            config = whisper_config(encoder_layers, decoder_layers)
            model = WhisperForConditionalGeneration._from_config(config, attn_implementation=ATTENTION, dtype=dtype)
        elif name == "meralion-2-10b-asr":
            model = Meralion2ASR(encoder_layers, decoder_layers)
        else:
            architecture(name)  # raises with the known names
            raise AssertionError(name)
    if not meta:
        for module in model.modules():  # skipping the init also skipped tying: tie embeddings and heads again
            if isinstance(module, PreTrainedModel):
                module.tie_weights()
        fill_random_(model)
    return model.eval()


_POOL_SIZE = 1_000_003  # prime, so the tiled pattern does not line up with any weight's rows


@torch.no_grad()
def fill_random_(model: nn.Module, std: float = 0.02, seed: int = 0) -> None:
    """Finite random weights, fast: N(0, std) values tiled from a pool of a million draws into every matrix,
    ones for norm scales and zeros for biases. Drawing 10B normals one by one takes minutes on a CPU; the values
    do not matter for speed, only that they are finite and not denormal."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    pool_cpu = torch.randn(_POOL_SIZE, generator=generator) * std
    pools: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}
    for name, param in model.named_parameters():
        if param.ndim == 1:
            param.fill_(0.0 if name.endswith("bias") else 1.0)
            continue
        key = (param.device, param.dtype)
        pool = pools.setdefault(key, pool_cpu.to(device=param.device, dtype=param.dtype))
        flat = param.view(-1)
        for start in range(0, flat.numel(), _POOL_SIZE):
            stop = min(start + _POOL_SIZE, flat.numel())
            flat[start:stop].copy_(pool[: stop - start])


def count_parameters(name: str, num_layers_override: tuple[int, int] | None = None) -> int:
    """Exact number of parameters, built on the meta device (nothing allocated); tied weights counted once."""
    model = build(name, device="meta", num_layers_override=num_layers_override)
    return sum(p.numel() for p in model.parameters())  # parameters() yields a shared (tied) tensor once


def qwen3_asr_audio_tokens(mel_frames: int, n_window: int = 50) -> int:
    """Audio placeholders Qwen3-ASR puts in the prompt for `mel_frames` frames: 13 per full 1 s chunk plus the
    remainder through three stride-2 convolutions (the arithmetic of Qwen3ASRProcessor and the encoder)."""
    chunk = 2 * n_window
    remainder = mel_frames % chunk
    tail = 0
    if remainder:
        tail = remainder
        for _ in range(3):
            tail = (tail - 1) // 2 + 1
    return (mel_frames // chunk) * 13 + tail


def mel_frames(duration_s: float) -> int:
    return max(1, round(duration_s * MEL_FRAMES_PER_SECOND))


def make_inputs(
    name: str,
    durations_s: list[float],
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Model inputs for a batch of clips of the given durations (random log-mel features; content is irrelevant).

    Qwen3-ASR gets its prompt with one placeholder per audio token, left-padded to the longest clip as its
    processor does for generation; Whisper and MERaLiON-2 get every clip padded to 30 s.
    """
    generator = torch.Generator().manual_seed(seed)
    batch = len(durations_s)
    frames = [mel_frames(d) for d in durations_s]
    if name.startswith("qwen3-asr"):
        padded = math.ceil(max(frames) / MEL_FRAMES_PER_SECOND) * MEL_FRAMES_PER_SECOND
        features = torch.randn(batch, MEL_BINS, padded, generator=generator)
        feature_mask = (torch.arange(padded)[None, :] < torch.tensor(frames)[:, None]).long()
        audio_tokens = [qwen3_asr_audio_tokens(f) for f in frames]
        lengths = [_QWEN_PROMPT_PREFIX + n + _QWEN_PROMPT_SUFFIX for n in audio_tokens]
        width = max(lengths)
        audio_token_id = Qwen3ASRConfig().audio_token_id
        pad_id = Qwen3ASRConfig().pad_token_id
        input_ids = torch.full((batch, width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((batch, width), dtype=torch.long)
        for row, (n, length) in enumerate(zip(audio_tokens, lengths, strict=True)):
            prompt = [_TEXT_TOKEN] * _QWEN_PROMPT_PREFIX + [audio_token_id] * n + [_TEXT_TOKEN] * _QWEN_PROMPT_SUFFIX
            input_ids[row, width - length :] = torch.tensor(prompt)
            attention_mask[row, width - length :] = 1
        inputs = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "input_features": features.to(dtype),
            "input_features_mask": feature_mask,
        }
    else:
        if max(frames) > WHISPER_WINDOW_FRAMES:
            raise ValueError(f"{name}: clips longer than 30 s are not modelled (got {max(durations_s)} s)")
        features = torch.randn(batch, MEL_BINS, WHISPER_WINDOW_FRAMES, generator=generator).to(dtype)
        if name == "whisper-large-v3-turbo":
            inputs = {
                "input_features": features,
                "decoder_input_ids": torch.tensor([_WHISPER_PROMPT] * batch, dtype=torch.long),
            }
        else:
            length = _MERALION_PROMPT_PREFIX + MERALION_SPEECH_TOKENS + _MERALION_PROMPT_SUFFIX
            inputs = {
                "input_ids": torch.full((batch, length), _TEXT_TOKEN, dtype=torch.long),
                "attention_mask": torch.ones((batch, length), dtype=torch.long),
                "input_features": features,
            }
    return {key: value.to(device) for key, value in inputs.items()}


def prompt_length(name: str, inputs: dict[str, torch.Tensor]) -> int:
    """Tokens the decoder sees before generating (the prompt, audio tokens included)."""
    if name == "whisper-large-v3-turbo":
        return inputs["decoder_input_ids"].shape[1]
    return inputs["input_ids"].shape[1]


def fixed_length_generation_config(model: nn.Module, new_tokens: int) -> GenerationConfig:
    """Greedy decoding with a KV cache for exactly `new_tokens` tokens (EOS is suppressed until then)."""
    config = model.config
    return GenerationConfig(
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        num_beams=1,
        use_cache=True,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        bos_token_id=getattr(config, "bos_token_id", None),
        decoder_start_token_id=getattr(config, "decoder_start_token_id", None),
    )


@torch.inference_mode()
def generate_fixed(model: nn.Module, inputs: dict[str, torch.Tensor], new_tokens: int) -> torch.Tensor:
    """Exactly `new_tokens` greedy tokens per clip, through transformers' generate; returns only the new tokens.

    Whisper goes through the generic `GenerationMixin.generate` (its own wrapper adds language detection and
    timestamp logic the other models do not have), so every model runs the same decoding loop.
    """
    config = fixed_length_generation_config(model, new_tokens)
    if isinstance(model, WhisperForConditionalGeneration):
        out = GenerationMixin.generate(model, **inputs, generation_config=config)
        start = inputs["decoder_input_ids"].shape[1]
    elif isinstance(model, Meralion2ASR):
        out = model.generate(generation_config=config, **inputs)
        start = 0  # generating from embeddings returns only the new tokens
    else:
        out = model.generate(**inputs, generation_config=config)
        start = inputs["input_ids"].shape[1]
    generated = out[:, start:]
    if generated.shape[1] != new_tokens:
        raise RuntimeError(f"generated {generated.shape[1]} tokens, expected exactly {new_tokens}")
    return generated
