"""Batches decoded back to back with each next batch's prefill overlapping this batch's decoding.

A batch's prefill is compute-heavy (two FLOPs per weight for every prompt token) and its decoding steps are light
(each reads the weights for one token per row), so on one GPU the two can run at once. Here every batch has its own
static decoder, run once beforehand so that all its graphs (the smaller batches' too) are captured: its decoding then
only replays graphs and copies rows, and never patches the model that the next prefill is running. Batch k+1's
prefill runs in a second host thread on its own CUDA stream, while batch k's steps replay on a higher-priority stream
(the GPU's block scheduler serves it first); batch k+1 decodes once its prefill's event has fired. The host thread
matters as much as the stream: a prefill reads values on the host (window boundaries, audio token counts), and each
read would otherwise stall the steps queued behind it.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

import torch

from lionrepro.asr.static_decoding import StaticGreedyDecoder

DECODE_PRIORITY = -1  # CUDA stream priorities: lower is served first; the default stream's is 0


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def decode_pipelined(decoders: list[StaticGreedyDecoder], device: torch.device) -> tuple[float, list[torch.Tensor]]:
    """(wall seconds, each batch's tokens) of prefilling and decoding every decoder's batch in order, each prefill
    after the first overlapping the previous batch's decoding. Every decoder must have run once on a GPU (graphs
    captured): decoding that would capture or run eagerly patches the model while another thread runs it."""
    cuda = device.type == "cuda"
    if cuda and any(d.full is None or d.full.graph is None for d in decoders):
        raise ValueError("run each decoder once before pipelining them: its graphs must be captured")
    prefill_stream = torch.cuda.Stream(device) if cuda else None
    decode_stream = torch.cuda.Stream(device, priority=DECODE_PRIORITY) if cuda else None

    def on(stream: torch.cuda.Stream | None) -> contextlib.AbstractContextManager:
        return torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext()

    def prefill(decoder: StaticGreedyDecoder) -> torch.cuda.Event | None:
        with on(prefill_stream):
            decoder.prefill()
            if not cuda:
                return None
            done = torch.cuda.Event()
            done.record(prefill_stream)
            return done

    outputs = []
    with ThreadPoolExecutor(max_workers=1) as helper:
        _synchronize(device)
        began = time.perf_counter()
        ready = prefill(decoders[0])
        for k, decoder in enumerate(decoders):
            upcoming = helper.submit(prefill, decoders[k + 1]) if k + 1 < len(decoders) else None
            with on(decode_stream):
                if ready is not None:
                    decode_stream.wait_event(ready)
                outputs.append(decoder.decode())
            ready = upcoming.result() if upcoming is not None else None
        _synchronize(device)
        wall = time.perf_counter() - began
    return wall, outputs
