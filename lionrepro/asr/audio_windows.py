"""Qwen3-ASR's audio encoder attending over all its windows in one call instead of one call per window.

The encoder packs every clip's frames into one sequence and attends within fixed windows (8 s of audio each).
transformers passes the window boundaries (`cu_seqlens`) only to a flash-attention implementation; with SDPA or
eager attention it splits the sequence on the host (`lengths.tolist()`, a device sync) and calls attention once per
window, in every layer: a batch of 256 ten-second clips is some 500 windows, 24 layers x 500 small attention calls
in one prefill. `windowed_sdpa` takes the flash-style arguments instead, lays the windows out as a batch padded to the
longest, and runs one SDPA call with a key mask: the same attention, no host sync, one call per layer. It is
registered under a name containing "flash" because that is how transformers decides to hand over the boundaries
(`is_flash_attention_requested`); it is SDPA, not FlashAttention.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from transformers import AttentionInterface

from lionrepro.asr.attention_switch import attention_implementation

WINDOWED_SDPA = "lionrepro_flash_style_windowed_sdpa"  # "flash": see the module's docstring


def windowed_sdpa(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    cu_seq_lens_q: torch.Tensor | None = None,
    max_length_q: int | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention within each window of a packed sequence: `query`/`key`/`value` (1, heads, tokens, width), windows
    given by `cu_seq_lens_q` (boundaries) and `max_length_q` (the longest); returns (1, tokens, heads, width)."""
    if cu_seq_lens_q is None or max_length_q is None or query.shape[0] != 1:
        raise ValueError("windowed_sdpa needs one packed sequence and its window boundaries (cu_seq_lens_q)")
    tokens = query.shape[2]
    starts, lengths = cu_seq_lens_q[:-1].long(), (cu_seq_lens_q[1:] - cu_seq_lens_q[:-1]).long()
    window = torch.repeat_interleave(torch.arange(lengths.numel(), device=query.device), lengths, output_size=tokens)
    offset = torch.arange(tokens, device=query.device) - starts[window]

    def padded(states: torch.Tensor) -> torch.Tensor:  # (1, heads, tokens, width) -> (windows, heads, longest, width)
        heads, width = states.shape[1], states.shape[3]
        out = states.new_zeros(lengths.numel(), max_length_q, heads, width)
        out[window, offset] = states[0].transpose(0, 1)
        return out.transpose(1, 2)

    valid = torch.arange(max_length_q, device=query.device) < lengths[:, None]
    out = nn.functional.scaled_dot_product_attention(
        padded(query), padded(key), padded(value), attn_mask=valid[:, None, None, :], scale=scaling
    )
    return out.transpose(1, 2)[window, offset][None], None


AttentionInterface.register(WINDOWED_SDPA, windowed_sdpa)


def windowed_audio_attention(model: nn.Module) -> contextlib.AbstractContextManager[None]:
    """`model`'s Qwen3-ASR audio encoder on `windowed_sdpa` while in use; the text decoder is left alone."""
    windowed = ("Qwen3ASRAudioAttention", "Qwen3ASREncoder")  # the encoder reads the longest window once for all
    return attention_implementation(model, WINDOWED_SDPA, lambda module: type(module).__name__ in windowed)
