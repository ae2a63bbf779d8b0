"""The faster pieces of one decoding step, each switched on for the step alone: grouped-query decode attention (no
copy of the cache per query head), the decoder's norms and gated MLPs compiled, and projections that read the same
input merged into one matrix product."""

from __future__ import annotations

import contextlib
import functools
import types
import weakref
from collections.abc import Callable, Iterator

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

MERGED_GATE_UP = "lionrepro_gate_up"  # the buffer of a merged MLP's concatenated weights
GQA_DECODE = "lionrepro_gqa_decode"  # the attention function's registered name


def gqa_decode_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    """SDPA for one new token without copying the cache per query head. transformers repeats each key/value head for
    the query heads that share it (`repeat_kv`): at batch 64 those copies took 5.8 of a step's 12 ms (issue 12's
    kernel profile). A query head i reads key head i // group, so the group's query heads are laid out as a group
    of queries against their one key head: the same attention, nothing copied. Prompts (several queries) and
    models without shared heads go to transformers' SDPA."""
    batch, heads, length, width = query.shape
    kv_heads = key.shape[1]
    if length != 1 or heads == kv_heads:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, width)
    out = nn.functional.scaled_dot_product_attention(grouped, key, value, attn_mask=attention_mask, scale=scaling)
    return out.reshape(batch, heads, 1, width).transpose(1, 2).contiguous(), None


AttentionInterface.register(GQA_DECODE, gqa_decode_attention)


@contextlib.contextmanager
def fused_pieces(model: nn.Module) -> Iterator[None]:
    """The decoder's RMS norms and gated MLPs compiled with torch.compile (one compiled graph shared by every layer:
    the module is an argument, not a constant), restored on exit. A module already running its own forward
    (`MergedProjections`' MLPs) has that one compiled, and gets it back on exit."""
    compiled = {}
    patched = []
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 32)  # a shape per batch size
    for module in model.modules():
        kind = type(module)
        if kind.__name__.endswith(("RMSNorm", "MLP")) and "Audio" not in kind.__name__:
            own = vars(module).get("forward")
            function = own.__func__ if own is not None else kind.forward
            if function not in compiled:
                compiled[function] = torch.compile(function, dynamic=False)
            module.forward = compiled[function].__get__(module, kind)
            patched.append((module, own))
    try:
        yield
    finally:
        for module, own in patched:
            if own is None:
                del module.forward
            else:
                module.forward = own


class MergedProjections:
    """A decoder's projections that read the same input as one matrix product each: a layer's query/key/value, its
    MLP's gate/up. At batch 1 a decoding step is mostly matrix products reading weights, each a few microseconds on
    an H200, and one product over the concatenated weights reads them at a better rate than several small ones (issue
    12's kernel profile: Qwen3-ASR-1.7B's products ran at under half the bandwidth).

    - Attention: the query projection computes all three; the key and value projections return their share when
      called on that same input, and compute their own otherwise. Cross-attention is left alone: its keys and values
      are the encoder's, projected once at the prefill.
    - Gated MLPs without biases: `_merged_mlp` over a non-persistent buffer, one function for every layer, so that
      the compiled pieces (`fused_pieces`) compile it once per shape, not once per layer.

    One per decoder (`of`): the concatenated weights stay alive with it, so a CUDA graph captured under `applied()`
    keeps reading valid memory, and a compiled step sees the same functions each time and is not compiled again.
    They copy the weights as they are: a model trained afterwards is not what they compute."""

    _made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, decoder: nn.Module) -> MergedProjections:
        if decoder not in cls._made:
            cls._made[decoder] = cls(decoder)
        return cls._made[decoder]

    def __init__(self, decoder: nn.Module) -> None:
        self.forwards: list[tuple[nn.Module, Callable]] = []
        self.mlp_weights: list[tuple[nn.Module, torch.Tensor]] = []
        self.groups = 0  # how many products replace several
        for path, module in decoder.named_modules():
            if "encoder_attn" in path:  # Whisper's cross-attention: its keys and values come from the cache
                continue
            attention = [getattr(module, name, None) for name in ("q_proj", "k_proj", "v_proj")]
            if all(isinstance(linear, nn.Linear) for linear in attention):
                self._merge_attention(attention)
            gate, up = getattr(module, "gate_proj", None), getattr(module, "up_proj", None)
            if isinstance(gate, nn.Linear) and isinstance(up, nn.Linear) and gate.bias is None and up.bias is None:
                self.mlp_weights.append((module, torch.cat([gate.weight.detach(), up.weight.detach()])))
                self.forwards.append((module, types.MethodType(_merged_mlp, module)))
                self.groups += 1

    def _merge_attention(self, linears: list[nn.Linear]) -> None:
        weight = torch.cat([linear.weight.detach() for linear in linears])
        bias = None
        if any(linear.bias is not None for linear in linears):
            bias = torch.cat(
                [
                    linear.bias.detach() if linear.bias is not None else linear.weight.new_zeros(linear.out_features)
                    for linear in linears
                ]
            )
        shared: dict[str, object] = {}
        sizes = [linear.out_features for linear in linears]
        self.forwards.append((linears[0], functools.partial(_lead_projection, shared, weight, bias, sizes)))
        for share, linear in enumerate(linears[1:], start=1):
            self.forwards.append((linear, functools.partial(_follow_projection, shared, share, linear)))
        self.groups += 1

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Every group's projections computed together, restored on exit."""
        for module, weight in self.mlp_weights:
            module.register_buffer(MERGED_GATE_UP, weight, persistent=False)
        for module, forward in self.forwards:
            module.forward = forward
        try:
            yield
        finally:
            for module, _ in self.forwards:
                del module.forward
            for module, _ in self.mlp_weights:
                delattr(module, MERGED_GATE_UP)


def _lead_projection(shared: dict, weight: torch.Tensor, bias: torch.Tensor | None, sizes: list[int], x):
    outputs = nn.functional.linear(x, weight, bias).split(sizes, dim=-1)
    shared["input"], shared["outputs"] = x, outputs
    return outputs[0]


def _follow_projection(shared: dict, share: int, linear: nn.Linear, x):
    if shared.get("input") is x:
        return shared["outputs"][share]
    return nn.functional.linear(x, linear.weight, linear.bias)


def _merged_mlp(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A gated MLP (Qwen3's, Gemma-2's: down(act(gate(x)) * up(x))) with gate and up as one product."""
    gate, up = nn.functional.linear(x, getattr(self, MERGED_GATE_UP)).chunk(2, dim=-1)
    return self.down_proj(self.act_fn(gate) * up)
