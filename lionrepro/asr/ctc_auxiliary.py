"""An auxiliary CTC loss on the audio encoder, for the base's pretraining only (ESPnet's hybrid CTC/attention).

Trained from scratch, the tiny Qwen3-ASR first learns a text-only model: its attention loss sat at ~2.9 for the first
~3,000 steps of issue 5's base, and a longer schedule only delayed learning. A CTC head on the encoder's frames is the
standard cure for that slow start in attention-based ASR (Watanabe et al. 2017, "Hybrid CTC/attention architecture
for end-to-end speech recognition"; ESPnet's `ctc_weight`): CTC's monotonic alignment makes the audio frames carry the
transcript from the first steps, and the decoder can then attend to them. The objective is
`(1 - weight) * attention cross-entropy + weight * CTC`, ESPnet's default weight being 0.3.

The head is a Linear from the audio embeddings the decoder reads (the multimodal projector's output, one per audio
placeholder; the model returns them as `audio_hidden_states`) to the tokenizer's vocabulary plus a blank, the last
class. It lives beside the model, never in it: the training loop keeps its weights in the optimizer and in the
checkpoints' training state, and the saved `model/` is a pure Qwen3-ASR checkpoint (it loads through `load_checkpoint`'s
check against unexpected weights). The fine-tunes are pure Qwen3-ASR training (attention loss only), as upstream's.

The CTC targets are the transcript's tokens alone: no `language X<asr_text>` prefix and no `<|im_end|>`, which are not
in the audio. Each row's CTC loss is divided by its number of target tokens (torch's `reduction="mean"`), so both terms
are per token; the rows' losses are summed and divided by the rows of the accumulation window on all processes, so
that gradient accumulation and DDP give the single-process gradient, as for the attention loss.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (torch's own spelling)

from lionrepro.asr.supervised_loss import attention_loss

TARGETS = "ctc_targets"
TARGET_LENGTHS = "ctc_target_lengths"


def ctc_targets(rows: list[dict], tokenizer: Any) -> dict[str, torch.Tensor]:
    """The transcripts' token ids, concatenated, and each row's count: the CTC targets of a batch."""
    ids = [tokenizer(row["text"], add_special_tokens=False)["input_ids"] for row in rows]
    return {
        TARGETS: torch.tensor([token for row in ids for token in row], dtype=torch.long),
        TARGET_LENGTHS: torch.tensor([len(row) for row in ids], dtype=torch.long),
    }


class HybridCtcAttention(nn.Module):
    """A Qwen3-ASR model and a CTC head on its audio embeddings; `forward` returns (attention loss, CTC loss sum).

    One module, so that DDP reduces the head's gradients with the model's and the optimizer sees both. The head is
    initialised from `seed` without touching the caller's random state.
    """

    def __init__(self, model: nn.Module, weight: float, seed: int = 0) -> None:
        super().__init__()
        if not 0.0 < weight < 1.0:
            raise ValueError(f"the CTC weight must be in (0, 1), got {weight}")
        self.model = model
        self.weight = weight
        self.blank = model.config.text_config.vocab_size
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.head = nn.Linear(model.config.audio_config.output_dim, self.blank + 1)

    def forward(
        self, ctc_targets: torch.Tensor, ctc_target_lengths: torch.Tensor, **inputs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        attention, audio = attention_loss(self.model, **inputs)
        frames = (inputs["input_ids"] == self.model.config.audio_token_id).sum(dim=1)
        return attention, self.ctc_loss_sum(audio, frames, ctc_targets, ctc_target_lengths)

    def ctc_loss_sum(
        self, audio: torch.Tensor, frames: torch.Tensor, targets: torch.Tensor, target_lengths: torch.Tensor
    ) -> torch.Tensor:
        """Sum over rows of each row's CTC loss per target token. `audio` holds the rows' audio embeddings packed
        one after another (the model's order: row 0's frames, then row 1's, ...), `frames` each row's count."""
        per_row = torch.split(audio, frames.tolist())
        padded = nn.utils.rnn.pad_sequence(list(per_row))  # (frames, rows, width)
        log_probs = F.log_softmax(self.head(padded).float(), dim=-1)
        losses = F.ctc_loss(
            log_probs,
            targets.to(log_probs.device),
            frames.to(log_probs.device),
            target_lengths.to(log_probs.device),
            blank=self.blank,
            reduction="none",
            zero_infinity=True,  # a transcript longer than its frames allow gives no gradient rather than inf
        )
        return (losses / target_lengths.to(losses.device).clamp(min=1)).sum()
