"""The training loss of Qwen3-ASR with logits only where a target token is predicted.

transformers' causal-LM forward projects every position onto the vocabulary (audio placeholders, prompt, padding)
and its loss then ignores all but the supervised ones: in a 16-row batch of Lion-12 training rows, 161 of 944
positions. Here the decoder's hidden states are gathered at the positions whose next token
is a label first, and only those go through `lm_head`. The loss is transformers' `ForCausalLMLoss` (float32 logits,
cross-entropy summed over supervised tokens, divided by `num_items_in_batch`), so value and gradient are the same up
to floating-point summation order (tests/test_supervised_loss.py). On that batch, on one thread, forward and
backward took 6% less time than transformers' (30 passes of each, interleaved).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch's own spelling)

IGNORE_INDEX = -100  # the label value transformers' loss skips


def attention_loss(
    model: nn.Module, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None, **inputs: Any
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(summed cross-entropy over `labels`' supervised tokens / `num_items_in_batch` (default: their number), the
    audio embeddings the decoder read): `model` a Qwen3ASRForConditionalGeneration, `inputs` its forward's other
    arguments."""
    output = model.model(**inputs)
    targets = labels[:, 1:]
    supervised = targets != IGNORE_INDEX
    hidden = output.last_hidden_state[:, :-1][supervised]
    logits = model.lm_head(hidden).float()
    loss = F.cross_entropy(logits, targets[supervised], reduction="sum")
    return loss / (supervised.sum() if num_items_in_batch is None else num_items_in_batch), output.audio_hidden_states


class AttentionLoss(nn.Module):
    """A Qwen3-ASR model whose `forward` returns `attention_loss`'s loss: the module DDP wraps when no auxiliary loss
    is trained (its parameters are the model's, in the model's order)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, labels: torch.Tensor, num_items_in_batch: torch.Tensor | int | None = None, **inputs: Any
    ) -> torch.Tensor:
        return attention_loss(self.model, labels, num_items_in_batch, **inputs)[0]
