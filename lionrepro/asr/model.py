"""Qwen3-ASR models for the replication: transformers' native classes, a tiny CPU configuration and the real sizes.

Everything runs through `Qwen3ASRForConditionalGeneration`, `Qwen3ASRProcessor` and `Qwen3ASRFeatureExtractor`, so
the tiny profile exercises the same code path (prompt, audio placeholders, windowed encoder, generation) as the
paper's 0.6B and 1.7B models.

The tiny model cannot use Qwen's 151,936-token tokenizer (its embedding alone would be ~9x the rest of the model
and it is not available offline), so `train_tokenizer` trains a small byte-level BPE on the training text of all
four languages, like Qwen's tokenizer covers Tamil script even though Qwen3-ASR never heard Tamil. Its
pre-tokenizer differs from Qwen's in two ways, both for a model this small:

- combining marks stay inside words (`[\\p{L}\\p{M}]+`): Qwen's `\\p{L}+` cuts Tamil words at every vowel sign,
  which made a Lion-12 Tamil sentence ~21 tokens against ~5 for English or Malay; now ~4, like them;
- every Han character is its own pre-token, so BPE learns one token per character and no token that ends inside
  a character's UTF-8 bytes: a model that emits such a fragment decodes it to a replacement character, an inserted
  character under CER, and a token is then exactly the unit that Mandarin's CER counts.

With transformers' default initialisation (normal, std 0.02) the audio encoder's convolution stem outputs ~2,500x
less than the sinusoidal positions added to it: in the tiny model a tone and noise change the logits by at most
~7e-4 (their spread is ~0.3), and a model trained from scratch learns only a text model (issue 5's studies).
`build_model` re-initialises the stem with He (Kaiming) init, after which the same two clips differ by ~0.9.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from torch import nn
from transformers import (
    GenerationConfig,
    PreTrainedTokenizerFast,
    Qwen3ASRConfig,
    Qwen3ASRFeatureExtractor,
    Qwen3ASRForConditionalGeneration,
    Qwen3ASRProcessor,
)

from lionrepro.asr.architectures import architecture, qwen3_asr_config
from lionrepro.errors import UserError

# Qwen's special tokens, as its processor and prompt use them. <|endoftext|> is first so that padding is id 0.
PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
AUDIO_START = "<|audio_start|>"
AUDIO_PAD = "<|audio_pad|>"
AUDIO_END = "<|audio_end|>"
ASR_TEXT = "<asr_text>"
SPECIAL_TOKENS = (PAD_TOKEN, IM_START, IM_END, AUDIO_START, AUDIO_END, AUDIO_PAD, ASR_TEXT)

# Qwen2's split pattern with marks kept in words and Han characters isolated (see the module docstring).
_SPLIT_PATTERN = (
    r"\p{Han}|(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{M}\p{N}]?[\p{L}\p{M}]+|\p{N}"
    r"| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Text the prompt and targets always contain, mixed into tokenizer training so that each becomes a few whole tokens
# ("language", " None", " Tamil", ...) rather than letters that the tiny model would have to spell out.
_FORMAT_WORDS = ("system", "user", "assistant", "language None", "language English", "language Chinese")
_FORMAT_WORDS += ("language Malay", "language Tamil")
_FORMAT_REPEATS = 1000

# Upstream's ChatML prompt: an (empty) system turn always, audio as <|audio_start|><|audio_pad|><|audio_end|> (the
# processor expands <|audio_pad|> to one placeholder per audio token), no newline between audio and <|im_end|>.
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\n<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}"
    "{{- message['content'] -}}"
    "{%- else -%}"
    "{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'audio' -%}"
    "{{- '<|audio_start|><|audio_pad|><|audio_end|>' -}}"
    "{%- elif item['type'] == 'text' -%}"
    "{{- item['text'] -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- endif -%}"
)


@dataclass(frozen=True)
class TinyConfig:
    """The CPU model: Qwen3-ASR's layout at width 192 (3.6M parameters with Lion-12's 1.7k-token vocabulary).

    Scratch studies on the 2-core machine (issue 5): steps matter more than size there; this width and depth learned
    all four languages in 15 minutes where a 1.5M model did not.
    """

    width: int = 192  # encoder d_model = decoder hidden size
    encoder_layers: int = 4
    encoder_heads: int = 4
    encoder_ffn: int = 768
    conv_channels: int = 32  # Qwen3-ASR uses 480; 32 keeps the stem at ~1/30 of the model
    decoder_layers: int = 3
    decoder_heads: int = 4
    decoder_kv_heads: int = 2
    decoder_head_dim: int = 48
    decoder_ffn: int = 576
    rope_theta: float = 10_000.0  # prompts are < 300 tokens; Qwen's 1e6 is for 32k+ contexts
    max_positions: int = 4096
    vocab_size: int = 2048  # asked of the BPE trainer; merges run out earlier on Lion-12's text


TINY = TinyConfig()
MODEL_NAMES = ("tiny", "0.6B", "1.7B")
_PUBLISHED = {"0.6B": "qwen3-asr-0.6b", "1.7B": "qwen3-asr-1.7b"}


def _training_text(texts: Iterable[str]) -> Iterator[str]:
    return chain(texts, (word for word in _FORMAT_WORDS for _ in range(_FORMAT_REPEATS)))


def train_tokenizer(texts: Iterable[str], vocab_size: int = TINY.vocab_size) -> PreTrainedTokenizerFast:
    """A byte-level BPE over `texts` with Qwen3-ASR's special tokens; the same texts give the same tokenizer.

    The audio token attributes (`audio_token`, `audio_bos_token`, `audio_eos_token`) are what `Qwen3ASRProcessor`
    reads; the end of a turn, <|im_end|>, is the end-of-sequence token as in Qwen's chat tokenizers.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_training_text(texts), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        extra_special_tokens={"audio_token": AUDIO_PAD, "audio_bos_token": AUDIO_START, "audio_eos_token": AUDIO_END},
    )


def build_processor(tokenizer: PreTrainedTokenizerFast) -> Qwen3ASRProcessor:
    """Qwen3-ASR's processor (128-mel features, placeholder expansion) around `tokenizer`, with the ChatML template."""
    return Qwen3ASRProcessor(
        feature_extractor=Qwen3ASRFeatureExtractor(), tokenizer=tokenizer, chat_template=CHAT_TEMPLATE
    )


def _tiny_config(vocab_size: int) -> Qwen3ASRConfig:
    return Qwen3ASRConfig(
        audio_config={
            "model_type": "qwen3_asr_encoder",
            "d_model": TINY.width,
            "encoder_layers": TINY.encoder_layers,
            "encoder_attention_heads": TINY.encoder_heads,
            "encoder_ffn_dim": TINY.encoder_ffn,
            "downsample_hidden_size": TINY.conv_channels,
            "output_dim": TINY.width,
        },
        text_config={
            "model_type": "qwen3",
            "vocab_size": vocab_size,
            "hidden_size": TINY.width,
            "intermediate_size": TINY.decoder_ffn,
            "num_hidden_layers": TINY.decoder_layers,
            "num_attention_heads": TINY.decoder_heads,
            "num_key_value_heads": TINY.decoder_kv_heads,
            "head_dim": TINY.decoder_head_dim,
            "max_position_embeddings": TINY.max_positions,
            "rope_parameters": {"rope_type": "default", "rope_theta": TINY.rope_theta},
            "tie_word_embeddings": True,
        },
        tie_word_embeddings=True,
    )


def _config(name: str, tokenizer: PreTrainedTokenizerFast) -> Qwen3ASRConfig:
    """The named configuration with its special-token ids taken from `tokenizer` (the same as Qwen's for Qwen's)."""
    if name == "tiny":
        config = _tiny_config(len(tokenizer))
    elif name in _PUBLISHED:
        arch = architecture(_PUBLISHED[name])
        config = qwen3_asr_config(arch.name, arch.encoder_layers, arch.decoder_layers)
        if len(tokenizer) > config.text_config.vocab_size:
            raise ValueError(f"a {len(tokenizer)}-token tokenizer does not fit {name}'s published vocabulary")
    else:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    ids = tokenizer.convert_tokens_to_ids
    config.audio_token_id = ids(tokenizer.audio_token)
    config.pad_token_id = tokenizer.pad_token_id
    config.eos_token_id = [ids(PAD_TOKEN), tokenizer.eos_token_id]
    config.text_config.pad_token_id = tokenizer.pad_token_id
    return config


@torch.no_grad()
def _he_init_conv_stem(model: Qwen3ASRForConditionalGeneration) -> None:
    """He (Kaiming) init for the encoder's three GELU convolutions and their projection, biases zero.

    With it the stem's output is of the order of the sinusoidal positions added to it (unit amplitude), so the
    audio reaches the decoder from the first step (see the module docstring).
    """
    encoder = model.model.audio_tower
    for conv in (encoder.conv2d1, encoder.conv2d2, encoder.conv2d3):
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(conv.bias)
    nn.init.kaiming_normal_(encoder.conv_out.weight, nonlinearity="linear")


def build_model(name: str, processor: Qwen3ASRProcessor, seed: int = 0) -> Qwen3ASRForConditionalGeneration:
    """A freshly initialised Qwen3-ASR ("tiny", "0.6B" or "1.7B"), its ids matching `processor`'s tokenizer.

    The seed fixes the weights without touching the caller's random state.
    """
    config = _config(name, processor.tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ASRForConditionalGeneration._from_config(config, attn_implementation="sdpa")
        _he_init_conv_stem(model)
    model.generation_config = GenerationConfig(
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, do_sample=False
    )
    return model


def save_checkpoint(model: Qwen3ASRForConditionalGeneration, processor: Qwen3ASRProcessor, path: Path) -> None:
    """Weights, config, generation config, tokenizer, feature extractor and chat template in one local directory."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)


def load_checkpoint(path: Path) -> tuple[Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor]:
    """The model (float32, CPU, eval mode) and processor of a local checkpoint: the transformers layout that
    `save_checkpoint` writes, or the original Qwen3-ASR layout, converted and cached first. Never touches a hub, and
    refuses a checkpoint whose weights do not fit."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (config.json missing)")
    from lionrepro.asr import qwen3_asr_original  # it builds on this module

    if qwen3_asr_original.is_original(path):
        path = qwen3_asr_original.converted(path)
    processor = Qwen3ASRProcessor.from_pretrained(path, local_files_only=True)
    model, info = Qwen3ASRForConditionalGeneration.from_pretrained(
        path, local_files_only=True, attn_implementation="sdpa", dtype=torch.float32, output_loading_info=True
    )
    refuse_partial_weights(path, info)
    return model, processor


def refuse_partial_weights(path: Path, info: dict[str, Any], shown: int = 3, architecture: str = "Qwen3-ASR") -> None:
    """transformers loads a checkpoint whose weights do not fit the architecture with the misfits randomly
    initialised and only a log line: a silent random model, whose scores near 100% would look like a result. Refuse
    it, naming the first few weights missing, unexpected or of the wrong shape. The one rule for every model family
    (lionrepro.asr.backends)."""
    problems = []
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        names = sorted(str(name) for name in info.get(kind, ()))
        if names:
            more = f" and {len(names) - shown} more" if len(names) > shown else ""
            problems.append(f"{len(names)} {kind.removesuffix('_keys')} ({', '.join(names[:shown])}{more})")
    if problems:
        hint = " (a checkpoint in the original `thinker.*` layout must be converted to the transformers layout first)"
        raise UserError(
            f"{path} does not fit the {architecture} architecture: {'; '.join(problems)}. Refusing a partly random "
            f"model{hint if architecture == 'Qwen3-ASR' else ''}"
        )
