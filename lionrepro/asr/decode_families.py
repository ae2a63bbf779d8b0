"""How each architecture's decoder prefills a prompt and runs one step over a static cache: Qwen3-ASR's, MERaLiON-2's
Gemma-2 decoder behind its audio adapter, Whisper's with its cross-attention. What `static_decoding` needs to know of
a model, one class per family."""

from __future__ import annotations

import copy
import inspect

import torch
from torch import nn
from transformers import EncoderDecoderCache, StaticCache, WhisperForConditionalGeneration


def _cache_keyword(forward) -> str:
    """transformers 5.24 renamed `past_key_values` to `cache` (5.17 has the old name); pass whichever it takes."""
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def _full_attention_config(config):
    """The decoder's config with every layer full attention and as many layers as the decoder has (Whisper's
    config counts the encoder's)."""
    config = copy.deepcopy(config.get_text_config(decoder=True))
    if getattr(config, "decoder_layers", None):
        config.num_hidden_layers = config.decoder_layers
    if getattr(config, "layer_types", None):
        config.layer_types = ["full_attention"] * config.num_hidden_layers
    if hasattr(config, "sliding_window"):
        config.sliding_window = None
    return config


class Family:
    """How one architecture prefills a prompt and runs one step over a static cache."""

    compactable = True  # whether `shrink` may copy some rows of its cache into a smaller one

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def make_cache(self, length: int, inputs: dict[str, torch.Tensor]):
        return StaticCache(config=_full_attention_config(text_decoder(self.model).config), max_cache_len=length)

    def prompt_mask(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return inputs["attention_mask"].bool()

    def prefill(self, inputs, cache, mask, positions) -> torch.Tensor:
        raise NotImplementedError

    def step(self, ids, cache, mask, positions) -> torch.Tensor:
        raise NotImplementedError


class _Qwen3ASR(Family):
    def prefill(self, inputs, cache, mask, positions):
        keyword = _cache_keyword(self.model.forward)
        out = self.model(
            **inputs | {"attention_mask": mask},
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,  # the prompt's other logits are (batch x prompt x vocab): gigabytes at batch 128
            **{keyword: cache},
        )
        return out.logits[:, -1]

    def step(self, ids, cache, mask, positions):
        keyword = _cache_keyword(self.model.forward)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **{keyword: cache})
        return out.logits[:, -1]


def _attention_mask(mask: torch.Tensor, config, dtype: torch.dtype) -> torch.Tensor:
    """The boolean 4D mask as the decoder's attention takes it: SDPA takes it as it is; eager attention adds its mask
    to the scores, so it gets 0 where a query may look and the dtype's lowest value elsewhere (what transformers'
    own masks hold for eager attention)."""
    if config._attn_implementation != "eager":
        return mask
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, torch.finfo(dtype).min)


class _Meralion(Family):
    """MERaLiON-2: Gemma-2 after the audio adapter, whether the port that loads the released weights (eager
    attention, which soft-caps its scores) or the timing copy (SDPA)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        self.decoder = model.text_decoder

    def prefill(self, inputs, cache, mask, positions):
        embeds = self.model.prompt_embeds(inputs["input_ids"], inputs["input_features"])
        mask = _attention_mask(mask, self.decoder.config, embeds.dtype)
        keyword = _cache_keyword(self.decoder.forward)
        out = self.decoder(
            inputs_embeds=embeds,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **{keyword: cache},
        )
        return out.logits[:, -1]

    def step(self, ids, cache, mask, positions):
        mask = _attention_mask(mask, self.decoder.config, self.decoder.dtype)
        keyword = _cache_keyword(self.decoder.forward)
        out = self.decoder(
            input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **{keyword: cache}
        )
        return out.logits[:, -1]


class _Whisper(Family):
    compactable = False  # its cross-attention cache and encoder states would need compacting too

    def make_cache(self, length: int, inputs: dict[str, torch.Tensor]):
        config = _full_attention_config(self.model.config)
        frames = inputs["input_features"].shape[-1] // 2  # the encoder's two convolutions halve the frames
        return EncoderDecoderCache(
            StaticCache(config=config, max_cache_len=length), StaticCache(config=config, max_cache_len=frames)
        )

    def prompt_mask(self, inputs):
        return torch.ones_like(inputs["decoder_input_ids"], dtype=torch.bool)

    def prefill(self, inputs, cache, mask, positions):
        encoded = self.model.model.encoder(inputs["input_features"]).last_hidden_state
        if getattr(self, "encoded", None) is None:
            self.encoded = encoded
        else:
            self.encoded.copy_(encoded)  # a captured step holds this tensor's address
        return self._decode(inputs["decoder_input_ids"], cache, mask, positions)

    def step(self, ids, cache, mask, positions):
        return self._decode(ids, cache, mask, positions)

    def _decode(self, ids, cache, mask, positions):
        decoder = self.model.model.decoder
        keyword = _cache_keyword(decoder.forward)
        hidden = decoder(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            encoder_hidden_states=self.encoded,
            use_cache=True,
            **{keyword: cache},
        ).last_hidden_state
        return self.model.proj_out(hidden[:, -1])


def text_decoder(model: nn.Module) -> nn.Module:
    """The stack of decoder layers that every new token runs through (without the audio encoder)."""
    if isinstance(model, WhisperForConditionalGeneration):
        return model.model.decoder
    if _is_meralion(model):
        return model.text_decoder
    return model.model.language_model


def _is_meralion(model: nn.Module) -> bool:
    """The MERaLiON-2 port (`lionrepro.asr.backends.meralion2`) or its timing copy (`architectures.Meralion2ASR`):
    a Gemma-2 `text_decoder` behind `prompt_embeds`."""
    return hasattr(model, "prompt_embeds") and hasattr(model, "text_decoder")


def family_of(model: nn.Module) -> Family:
    if isinstance(model, WhisperForConditionalGeneration):
        return _Whisper(model)
    if _is_meralion(model):
        return _Meralion(model)
    return _Qwen3ASR(model)
