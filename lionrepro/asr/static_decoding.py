"""Greedy decoding with a static KV cache, each new token one replay of a captured CUDA graph.

transformers' `generate` launches every kernel of every decoder layer from Python for every token. On an H200 that
costs ~18 ms per token whatever the model's size (issue 12), so timing it measures launch overhead, not the model.
Here the prompt is prefilled once, eagerly, into a static cache. One decoding step (mark the new key valid, run the
decoder on the last token, take the argmax, advance the positions) is then captured in a CUDA graph and replayed once
per new token. With `fused`, the decoder's elementwise pieces (RMS norms, the gated MLP, rotary embeddings) are
compiled by torch.compile before capture, so the graph holds fewer and fused kernels. With `merged`, each layer's
query/key/value projections are one matrix product and its MLP's gate/up projections another (`MergedProjections`).
With `compiled` the whole step is compiled instead; `tuned` compiles it with inductor's coordinate-descent tuning,
under which inductor also rewrites every one-row matrix product (batch 1's) as a fused, tuned reduction instead of a
cuBLAS call (`torch/_inductor/decomposition.py`, `mm`/`bmm`; GPUs only), as gpt-fast does for batch-1 decoding.
`windows` is the prefill's lever: Qwen3-ASR's audio encoder attends over all its windows in one call per layer
(`lionrepro.asr.audio_windows`) instead of one call per window. `shrink` is the batch's: a static batch decodes until
its longest transcript ends, every row to the end (a decode run records each batch's `tokens_of_rows` beside its
steps: the rows' own share of the steps it ran), so rows whose transcript has ended leave it, and the rest go on in
a batch half its size or less, with its own cache and captured step (in-flight batching's idea, without refilling
the freed rows). `nocudnn` keeps attention off cuDNN's kernels (flash, memory-efficient or math instead), in the
prefill and the steps: on an H200 torch ran the masked steps' attention on cuDNN (run 3's batch-1 kernel profile),
whose host time per call (4.3 ms on average, under the profiler, over its 140 eager calls) a graph hides but a prefill
does not.

Masks are explicit 4D boolean masks over the whole static cache, and positions are explicit, so nothing in a step
depends on a value the host must read: that is what makes the step capturable. Sliding-window layers (Gemma-2) get
full-attention caches: every sequence here is far shorter than the window, so the two compute the same thing.

On a CPU the same steps run eagerly, without a graph; tests check they emit exactly the tokens of `generate`.
`lionrepro evaluate --decoder static` decodes real checkpoints this way (with their stop tokens); the speed
measurements (`lionrepro.speed.decode_levers`) time it switch by switch.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import EncoderDecoderCache

from lionrepro.asr.attention_switch import attention_implementation
from lionrepro.asr.audio_windows import windowed_audio_attention
from lionrepro.asr.decode_families import Family, family_of, text_decoder
from lionrepro.asr.decode_step_pieces import GQA_DECODE, MergedProjections, fused_pieces

CAPTURE_STEPS = 3  # two warm-up steps (the first compiles fused pieces) and the captured one
# The decoder's switches (`StaticGreedyDecoder`'s keyword options); the speed levers combine them
OPTIONS = ("fused", "gqa", "compiled", "merged", "tuned", "windows", "shrink", "nocudnn")
# The attention kernels `nocudnn` leaves to torch: every SDPA backend but cuDNN's
WITHOUT_CUDNN = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
# What `lionrepro evaluate --decoder static` switches on, with the CUDA graph on a GPU (the compiled and merged
# switches are left out: compiling costs minutes per batch shape, and merged weights are a copy a later change to
# the model would not reach)
EVALUATION_OPTIONS = {"gqa": True, "shrink": True}
# With stop tokens or `shrink`, how many steps run between two reads of how many rows are still decoding (each read
# waits for the device)
CHECK_STEPS = 4


@dataclass
class _Buffers:
    """The step's inputs and outputs, at fixed addresses so that a captured graph reads and writes them."""

    ids: torch.Tensor  # (B, 1) the last token
    positions: torch.Tensor  # (B, 1) its position per row (rows are left-padded to a common prompt length)
    key_valid: torch.Tensor  # (B, L) which cache slots a query may attend to
    slot: torch.Tensor  # (1,) the cache slot the next token is written to
    tokens: torch.Tensor  # (B, N) the tokens generated so far
    index: torch.Tensor  # (1,) how many there are
    ended: torch.Tensor  # (B,) whether the row has written a stop token
    stop: torch.Tensor  # (S,) the stop tokens (none: every row decodes its count)


@dataclass
class _Batch:
    """One batch size's cache, buffers and captured step (`shrink` keeps one per size it has decoded at)."""

    cache: Any
    buffers: _Buffers
    graph: torch.cuda.CUDAGraph | None = None


def prompt_masks(prompt_valid: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(the prefill's 4D mask over `length` cache slots, the slots valid after it). A query attends to the prompt's
    real tokens at or before it; a padding query attends only to itself, so that no row is all masked (NaN)."""
    batch, prompt = prompt_valid.shape
    key_valid = torch.zeros(batch, length, dtype=torch.bool, device=prompt_valid.device)
    key_valid[:, :prompt] = prompt_valid
    query = torch.arange(prompt, device=prompt_valid.device)[:, None]
    key = torch.arange(length, device=prompt_valid.device)[None, :]
    causal = key <= query
    mask = (causal[None] & key_valid[:, None, :]) | (key == query)[None]
    return mask[:, None], key_valid


def prompt_positions(prompt_valid: torch.Tensor) -> torch.Tensor:
    """Each real token's position counts only the real tokens before it (left padding), as `generate` does."""
    return (prompt_valid.long().cumsum(-1) - 1).clamp(min=0)


class StaticGreedyDecoder:
    """Greedy decoding over a static cache; on a GPU each step replays a CUDA graph.

    `new_tokens` is every row's count of tokens, or one count per row; a row also ends at its first token of
    `stop_ids`. A batch decodes until its last row ends: every `CHECK_STEPS` steps the host reads how many rows go on
    (only when there are stop tokens or `shrink`), and with `shrink` the rows that have ended leave the batch on the
    way. A row's tokens past its end are zeros (its stop token is kept).

    A decoder's first batch fixes its cache's shape, and its graphs hold the buffers' addresses; `takes` hands it
    another batch of as many rows that fits. `prefill` then `decode` (timed apart: the prompt once, then the
    per-token cost), or call it."""

    def __init__(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor],
        new_tokens: int | Sequence[int],
        graph: bool,
        fused: bool = False,
        gqa: bool = False,
        compiled: bool = False,
        merged: bool = False,
        tuned: bool = False,
        windows: bool = False,
        shrink: bool = False,
        nocudnn: bool = False,
        cache_length: int | None = None,
        stop_ids: Sequence[int] = (),
    ) -> None:
        self.family = family_of(model)
        counts = _row_counts(new_tokens, self.family.prompt_mask(inputs).shape[0])
        if tuned and not compiled:
            raise ValueError("tuned applies to the whole compiled step: it needs compiled=True")
        if shrink and not self.family.compactable:
            raise ValueError(f"shrink does not compact {type(model).__name__}'s cache")
        self.inputs = inputs
        self.row_tokens = counts
        self.new_tokens = max(counts)
        self.use_graph = graph
        self.fused = fused
        self.gqa = gqa
        self.compiled = compiled
        self.tuned = tuned
        self.windows = windows
        self.nocudnn = nocudnn
        self.shrink = shrink
        self.stop_ids = sorted(set(stop_ids))
        self.merged = MergedProjections.of(text_decoder(model)) if merged else None
        self.cache_length = cache_length  # fixed: decoders of different prompts share one compiled step
        self.model = model
        self.full: _Batch | None = None  # the whole batch, made by the first prefill
        self.smaller: dict[int, _Batch] = {}  # with `shrink`: by batch size, made when first needed
        self.capture_seconds = 0.0  # spent in `capture`: once per batch size, a cost of setting up, not of decoding

    def takes(self, inputs: dict[str, torch.Tensor], new_tokens: int | Sequence[int]) -> bool:
        """Whether this decoder's cache, buffers and captured steps fit another batch (as many rows, its prompt and
        tokens within the cache); if so, it decodes that batch from now on. A decoder reused from batch to batch
        captures its CUDA graphs once, not once per batch."""
        prompt_valid = self.family.prompt_mask(inputs)
        rows, prompt = prompt_valid.shape
        counts = _row_counts(new_tokens, rows)
        if self.full is None or rows != self.full.buffers.ids.shape[0]:
            return False
        if prompt + max(*counts, CAPTURE_STEPS + 1) > self.full.buffers.key_valid.shape[1]:
            return False
        self.inputs, self.row_tokens, self.new_tokens = inputs, counts, max(counts)
        return True

    @torch.inference_mode()
    def prefill(self) -> None:
        """Write the prompt into the cache (reset, not re-allocated, after the first call) and the first token."""
        prompt_valid = self.family.prompt_mask(self.inputs)
        batch, prompt = prompt_valid.shape
        room = max(self.new_tokens, CAPTURE_STEPS + 1)  # capturing runs steps past a short decode's end
        if self.full is None:
            length = max(prompt + room, self.cache_length or 0)
            cache = self.family.make_cache(length, self.inputs)
        else:
            length, cache = self.full.buffers.key_valid.shape[1], self.full.cache
            _reset(cache)
        mask, key_valid = prompt_masks(prompt_valid, length)
        positions = prompt_positions(prompt_valid)
        with windowed_audio_attention(self.model) if self.windows else contextlib.nullcontext(), self._kernels():
            first = self.family.prefill(self.inputs, cache, mask, positions).argmax(-1)
        if self.full is None:
            device = prompt_valid.device
            self.full = _Batch(
                cache,
                _Buffers(
                    ids=torch.zeros(batch, 1, dtype=torch.long, device=device),
                    positions=torch.zeros(batch, 1, dtype=torch.long, device=device),
                    key_valid=torch.zeros(batch, length, dtype=torch.bool, device=device),
                    slot=torch.zeros(1, dtype=torch.long, device=device),
                    tokens=torch.zeros(batch, length, dtype=torch.long, device=device),  # room for any batch it takes
                    index=torch.zeros(1, dtype=torch.long, device=device),
                    ended=torch.zeros(batch, dtype=torch.bool, device=device),
                    stop=torch.tensor(self.stop_ids, dtype=torch.long, device=device),
                ),
            )
        b = self.full.buffers
        b.ids.copy_(first[:, None])
        b.positions.copy_(positions[:, -1:] + 1)
        b.key_valid.copy_(key_valid)
        b.slot.fill_(prompt)
        b.tokens.zero_()
        b.tokens[:, :1] = first[:, None]
        b.index.fill_(1)
        b.ended.copy_(torch.isin(first, b.stop))

    def _step(self, batch: _Batch | None = None) -> None:
        """One decoding step of `batch` (the whole one by default), uncaptured."""
        batch = batch or self.full
        (_compiled_step(self.tuned) if self.compiled else _step)(self.family, batch.buffers, batch.cache)

    @torch.inference_mode()
    def capture(self, batch: _Batch | None = None) -> None:
        """Capture one step of `batch` (the whole one by default) as a CUDA graph, after warm-up steps on a side
        stream, as CUDA graphs require. The steps write cache slots that are not valid yet; the buffers and the cache's
        lengths are put back after, so the batch decodes on from where it was."""
        if self.full is None:
            self.prefill()
        batch = batch or self.full
        torch.cuda.synchronize()
        began = time.perf_counter()
        saved = _snapshot(batch)
        with self._pieces():
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(CAPTURE_STEPS - 1):  # the first compiles the fused pieces, the second runs them
                    self._step(batch)
            torch.cuda.current_stream().wait_stream(stream)
            batch.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(batch.graph):
                self._step(batch)
        _restore(batch, saved)
        torch.cuda.synchronize()
        self.capture_seconds += time.perf_counter() - began

    @torch.inference_mode()
    def decode(self) -> torch.Tensor:
        """The steps after `prefill` until the longest row ends; returns every row's tokens (zeros past its count)."""
        if self.shrink or self.stop_ids:
            tokens = self._decode_checked()
        else:
            self._run(self.full, self.new_tokens - 1)
            tokens = self.full.buffers.tokens[:, : self.new_tokens]
        counts = torch.tensor(self.row_tokens, device=tokens.device)
        past = torch.arange(self.new_tokens, device=tokens.device) >= counts[:, None]
        stops = torch.isin(tokens, self.full.buffers.stop).long()
        return tokens.masked_fill(past | (stops.cumsum(-1) - stops > 0), 0)

    def _run(self, batch: _Batch, steps: int) -> None:
        """`steps` steps of `batch`: replays of its graph (captured first if need be), or eager steps."""
        if self.use_graph and batch.graph is None and steps > 0:
            self.capture(batch)
        if batch.graph is not None:
            for _ in range(steps):
                batch.graph.replay()
        else:
            with self._pieces():
                for _ in range(steps):
                    self._step(batch)

    def _decode_checked(self) -> torch.Tensor:
        """Decode `CHECK_STEPS` steps at a time; after each run, read how many rows have neither written a stop
        token nor reached their count: none, and the decode ends; with `shrink`, when they fit a batch of half the
        size or less (a power of two), copy them into it and go on there. A smaller batch's spare rows repeat a
        kept one; their tokens are dropped."""
        size = self.full.buffers.ids.shape[0]
        device = self.full.buffers.ids.device
        counts = torch.tensor([*self.row_tokens, 0], device=device)  # the last: where spare rows' tokens go
        tokens = torch.zeros(size + 1, self.full.buffers.tokens.shape[1], dtype=torch.long, device=device)
        rows = torch.arange(size, device=device)  # the row of the whole batch that each row of `batch` decodes
        batch, done = self.full, 1
        while done < self.new_tokens:
            steps = min(CHECK_STEPS, self.new_tokens - done)
            self._run(batch, steps)
            done += steps
            going = (counts[rows] > done) & ~batch.buffers.ended
            left = int(going.sum())  # waits for the device
            if left == 0:
                break
            smaller = 1 << (left - 1).bit_length()
            # a smaller batch needs room for its capture's steps, and pays only over a few steps
            if self.shrink and self.new_tokens - done >= CAPTURE_STEPS and smaller < batch.buffers.ids.shape[0]:
                tokens[rows] = batch.buffers.tokens
                keep = torch.nonzero(going).flatten()
                keep = torch.cat([keep, keep[:1].expand(smaller - left)])
                target = self._smaller_batch(smaller, batch)
                _compact(batch, target, keep)
                rows = torch.cat([rows[keep[:left]], rows.new_full((smaller - left,), size)])
                batch = target
        tokens[rows] = batch.buffers.tokens
        return tokens[:size, : self.new_tokens]

    def _smaller_batch(self, size: int, like: _Batch) -> _Batch:
        """The batch of `size` rows with `like`'s cache length, allocated once (its captured step holds its
        tensors' addresses)."""
        if size not in self.smaller:
            cache = self.family.make_cache(like.cache.layers[0].max_cache_len, self.inputs)
            for layer, model in zip(cache.layers, like.cache.layers, strict=True):
                layer.lazy_initialization(model.keys[:size], model.values[:size])
            b = vars(like.buffers)
            buffers = _Buffers(**{name: (t[:size] if name in _ROW_BUFFERS else t).clone() for name, t in b.items()})
            self.smaller[size] = _Batch(cache, buffers)
        return self.smaller[size]

    @contextlib.contextmanager
    def _pieces(self) -> Iterator[None]:
        """The decoding step's levers: compiled pieces, grouped-query attention, merged projections (the prefill
        stays as it is)."""
        with contextlib.ExitStack() as stack:
            if self.merged is not None:
                stack.enter_context(self.merged.applied())
            if self.fused:
                stack.enter_context(fused_pieces(self.model))
            if self.gqa:
                stack.enter_context(attention_implementation(self.model, GQA_DECODE))
            stack.enter_context(self._kernels())
            yield

    def _kernels(self) -> contextlib.AbstractContextManager[None]:
        """Attention without cuDNN's kernels with `nocudnn` (global to torch while it lasts); as torch picks them
        otherwise."""
        return sdpa_kernel(WITHOUT_CUDNN) if self.nocudnn else contextlib.nullcontext()

    def __call__(self) -> torch.Tensor:
        self.prefill()
        return self.decode()


class DecoderPool:
    """Static decoders reused from batch to batch, as an evaluation decodes them: one per number of rows, its cache a
    power of two of slots that holds the batch's prompt and budget. A batch that needs another cache size gets a new
    decoder (longest-first batches need a few); the others replay the graphs their decoder captured, instead of
    capturing their own."""

    MIN_SLOTS = 64

    def __init__(self, model: nn.Module, stop_ids: Sequence[int], graph: bool, **options: bool) -> None:
        self.model, self.stop_ids, self.graph, self.options = model, stop_ids, graph, options
        self.family = family_of(model)
        self.decoders: dict[int, StaticGreedyDecoder] = {}
        self.replaced_capture_seconds = 0.0  # of the decoders a new cache size replaced

    @property
    def capture_seconds(self) -> float:
        """Seconds every decoder the pool has made spent capturing graphs."""
        return self.replaced_capture_seconds + sum(d.capture_seconds for d in self.decoders.values())

    def __call__(self, inputs: dict[str, torch.Tensor], budgets: list[int]) -> torch.Tensor:
        """Every row's tokens, as `StaticGreedyDecoder` returns them."""
        rows, prompt = self.family.prompt_mask(inputs).shape
        needed = prompt + max(*budgets, CAPTURE_STEPS + 1)
        slots = max(self.MIN_SLOTS, 1 << (needed - 1).bit_length())
        decoder = self.decoders.get(rows)
        if decoder is None or decoder.cache_length != slots or not decoder.takes(inputs, budgets):
            self.replaced_capture_seconds += decoder.capture_seconds if decoder else 0.0
            decoder = StaticGreedyDecoder(self.model, inputs, budgets, graph=self.graph, cache_length=slots,
                                          stop_ids=self.stop_ids, **self.options)  # fmt: skip
            self.decoders[rows] = decoder
        return decoder()


def _row_counts(new_tokens: int | Sequence[int], rows: int) -> list[int]:
    counts = [new_tokens] * rows if isinstance(new_tokens, int) else list(new_tokens)
    if len(counts) != rows:
        raise ValueError(f"{len(counts)} token counts for a batch of {rows} rows")
    if min(counts) < 1:
        raise ValueError(f"new_tokens must be at least 1, got {min(counts)}")
    return counts


_BUFFER_NAMES = ("ids", "positions", "key_valid", "slot", "tokens", "index", "ended")  # what a step changes
_ROW_BUFFERS = ("ids", "positions", "key_valid", "tokens", "ended")  # one row per row of the batch


def _layers(cache) -> list:
    """A cache's layers (both of an encoder-decoder cache's)."""
    if isinstance(cache, EncoderDecoderCache):
        return [*cache.self_attention_cache.layers, *cache.cross_attention_cache.layers]
    return list(cache.layers)


def _snapshot(batch: _Batch) -> list[torch.Tensor]:
    """Copies of what a step advances: the buffers and each cache layer's length."""
    return [getattr(batch.buffers, n).clone() for n in _BUFFER_NAMES] + [
        layer.cumulative_length.clone() for layer in _layers(batch.cache)
    ]


def _restore(batch: _Batch, saved: list[torch.Tensor]) -> None:
    """Put back what `_snapshot` copied, into the same tensors."""
    targets = [getattr(batch.buffers, n) for n in _BUFFER_NAMES] + [
        layer.cumulative_length for layer in _layers(batch.cache)
    ]
    for target, value in zip(targets, saved, strict=True):
        target.copy_(value)


def _compact(source: _Batch, target: _Batch, keep: torch.Tensor) -> None:
    """Copy rows `keep` of one batch's cache and buffers into a smaller batch's, in place: its captured step reads
    them where they are."""
    for src, dst in zip(source.cache.layers, target.cache.layers, strict=True):
        torch.index_select(src.keys, 0, keep, out=dst.keys)
        torch.index_select(src.values, 0, keep, out=dst.values)
        dst.cumulative_length.copy_(src.cumulative_length)
    for name in _ROW_BUFFERS:
        torch.index_select(getattr(source.buffers, name), 0, keep, out=getattr(target.buffers, name))
    for name in ("slot", "index"):
        getattr(target.buffers, name).copy_(getattr(source.buffers, name))


def _step(family: Family, b: _Buffers, cache) -> None:
    """One decoding step, entirely on the device: mark the new slot valid, decode the last token, take the argmax,
    advance the slot, the positions and the count."""
    b.key_valid.index_fill_(1, b.slot, True)
    logits = family.step(b.ids, cache, b.key_valid[:, None, None, :], b.positions)
    b.ids.copy_(logits.argmax(-1, keepdim=True))
    if b.stop.numel():
        b.ended.logical_or_(torch.isin(b.ids[:, 0], b.stop))
    b.tokens.index_copy_(1, b.index, b.ids)
    b.slot.add_(1)
    b.positions.add_(1)
    b.index.add_(1)


@functools.cache
def _compiled_step(tuned: bool):
    """`_step` compiled whole by torch.compile, made once per `tuned`: decoders of one model, batch size and cache
    length then share its code (the tensors are arguments; only their shapes are specialised). `tuned` turns on
    inductor's coordinate-descent tuning for this compile only."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 32)
    return torch.compile(_step, dynamic=False, options={"coordinate_descent_tuning": True} if tuned else None)


def _reset(cache) -> None:
    """Empty a cache in place, so that its tensors keep their addresses: stale keys stay masked until overwritten."""
    if isinstance(cache, EncoderDecoderCache):
        for layer in cache.is_updated:
            cache.is_updated[layer] = False  # the prefill projects the encoder's keys again, as a first call does
    for layer in _layers(cache):
        layer.cumulative_length.zero_()
