"""What every model family gives the evaluation: the model's inputs for a batch of manifest rows, the tokens it
generates for each, and the transcript read from them; and the one rule that refuses a checkpoint whose weights do
not fit its architecture.

Decoding is greedy, set in full, so that a checkpoint's own generation settings (sampling, repetition penalties)
cannot change what is measured; each row stops at its own token budget (`RowBudgets`), so that its hypothesis does
not depend on the rows it is batched with. It runs through transformers' `generate`, or, for the families that
allow it, through `lionrepro.asr.static_decoding` (`decoder = "static"`: a static cache, each step one CUDA graph
replay on a GPU, rows leaving the batch as they end): the same greedy tokens, up to the rounding of other kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

from lionrepro.asr.model import refuse_partial_weights
from lionrepro.asr.static_decoding import EVALUATION_OPTIONS, DecoderPool
from lionrepro.corpora.audio import read_audio
from lionrepro.errors import UserError

SAMPLE_RATE = 16_000  # every manifest's audio (the data stage resamples to it)
DECODERS = ("generate", "static")


@dataclass(frozen=True)
class Prompt:
    """What the model is asked for one clip, recorded with every result: `text` as the model reads it (its chat
    template applied, the audio placeholder not yet expanded; empty for a model that takes no text prompt) and
    `source`, where that prompt comes from."""

    text: str
    source: str


def load_complete(
    model_class: Any, folder: Path, architecture: str, never_read: tuple[str, ...] = (), **kwargs: Any
) -> Any:
    """`model_class.from_pretrained(folder)` (local files only), refused when any weight is missing, unexpected or of
    the wrong shape: transformers would fill the gaps with random values and only log it. Checkpoint weights under the
    `never_read` prefixes belong to parts of the model that `model_class` leaves out on purpose; they are not refused
    as unexpected, whether or not this transformers version already ignores them."""
    model, info = model_class.from_pretrained(folder, local_files_only=True, output_loading_info=True, **kwargs)
    unexpected = info.get("unexpected_keys", ())
    info = {**info, "unexpected_keys": [name for name in unexpected if not str(name).startswith(never_read)]}
    refuse_partial_weights(folder, info, architecture=architecture)
    return model


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The tokens that end a transcript: `<|im_end|>` (the end of a ChatML assistant turn), `<|endoftext|>` (Qwen's
    padding and Whisper's end) and the tokenizer's own end-of-sequence token, those the tokenizer has."""
    ids = [*tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"]), tokenizer.eos_token_id]
    unknown = tokenizer.unk_token_id
    return sorted({i for i in ids if i is not None and i != unknown})


def greedy_config(max_new_tokens: int, stop_ids: list[int], pad_id: int, **extra: Any) -> GenerationConfig:
    return GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, use_cache=True,
                            eos_token_id=stop_ids, pad_token_id=pad_id, **extra)  # fmt: skip


class RowBudgets(StoppingCriteria):
    """Marks each row done once it has generated its own budget, so that a batch ends as soon as every row has
    written its stop token or used its budget (not at the largest budget of the batch)."""

    def __init__(self, prompt_width: int, budgets: list[int]) -> None:
        self.limits = torch.tensor(budgets) + prompt_width

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return input_ids.shape[1] >= self.limits.to(input_ids.device)


def clips(rows: list[dict[str, Any]]) -> list[Any]:
    return [read_audio(row["audio"]).samples for row in rows]


class Backend:
    """A loaded checkpoint of one family. Subclasses give `inputs` (the model's inputs for manifest rows, on the CPU)
    and may change how tokens are generated (`generate`: a decoder-only model's prompt continued) and read (`read`)."""

    family: ClassVar[str]
    # Whether `StaticGreedyDecoder` computes what `generate` does for this family's model and prompt, and with which
    # of its switches
    static_decoding: ClassVar[bool] = False
    static_options: ClassVar[dict[str, bool]] = EVALUATION_OPTIONS

    def __init__(self, model: Any, tokenizer: Any, prompt: Prompt, **details: Any) -> None:
        self.model, self.tokenizer, self.prompt, self.details = model.eval(), tokenizer, prompt, details
        self.stop_ids = stop_token_ids(tokenizer)
        self.decoder = "generate"
        self.static_decoders: DecoderPool | None = None  # made at the first static batch, on the model's device

    def use_decoder(self, decoder: str) -> Backend:
        """Decode through `generate` or the static decoder (`DECODERS`), refused for a family it does not serve."""
        if decoder not in DECODERS:
            raise UserError(f"decoder {decoder!r}: one of {', '.join(DECODERS)}")
        if decoder == "static" and not self.static_decoding:
            raise UserError(f"the static decoder does not serve {self.family} models: use --decoder generate")
        self.decoder = decoder
        return self

    def inputs(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def to(self, device: torch.device, dtype: torch.dtype | None = None) -> Backend:
        """On `device`, in `dtype` when given (bf16 on a GPU: the published checkpoints' own precision)."""
        self.model = self.model.to(device=device, dtype=dtype) if dtype else self.model.to(device)
        self.static_decoders = None  # their caches were on the old device
        return self

    @property
    def capture_seconds(self) -> float:
        """Seconds the static decoder has spent capturing CUDA graphs (setting up, not decoding; 0 without it)."""
        return 0.0 if self.static_decoders is None else self.static_decoders.capture_seconds

    def batch(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """`inputs(rows)` on the model's device, audio features in its dtype."""
        moved = {key: value.to(self.model.device) for key, value in self.inputs(rows).items()}
        return {key: value.to(self.model.dtype) if value.is_floating_point() else value for key, value in moved.items()}

    def generate(self, inputs: dict[str, torch.Tensor], budgets: list[int]) -> list[list[int]]:
        """The tokens generated for each row after its prompt (left-padded prompts, greedy)."""
        if self.decoder == "static":
            if self.static_decoders is None:
                on_gpu = self.model.device.type == "cuda"
                self.static_decoders = DecoderPool(self.model, self.stop_ids, graph=on_gpu, **self.static_options)
            return self.static_decoders(inputs, budgets).tolist()
        width = inputs["input_ids"].shape[1]
        sequences = self.model.generate(
            **inputs,
            generation_config=greedy_config(max(budgets), self.stop_ids, self.tokenizer.pad_token_id),
            stopping_criteria=StoppingCriteriaList([RowBudgets(width, budgets)]),
        )
        return sequences[:, width:].tolist()

    def read(self, tokens: list[int]) -> tuple[str, str | None, str]:
        """(raw output with its special tokens, language the output names or None, transcript) of a row's tokens,
        cut before its stop token."""
        raw = self.tokenizer.decode(tokens, skip_special_tokens=False)
        return raw, None, self.tokenizer.decode(tokens, skip_special_tokens=True).strip()

    def describe(self) -> dict[str, Any]:
        """What the results record about the model: family, prompt and its source, device, dtype, and the details the
        family gives (layout, ...)."""
        return {"family": self.family, "prompt": self.prompt.text, "prompt_source": self.prompt.source,
                "decoder": self.decoder, "device": str(self.model.device), "dtype": str(self.model.dtype),
                **self.details}  # fmt: skip
