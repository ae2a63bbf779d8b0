"""Where a decoding step's and a prefill's time go on the GPU, kernel by kernel, under one of the decode levers.

For Qwen3-ASR-1.7B at batch 1 and at a batched size: the CUDA kernels of a few static-cache steps under
torch.profiler (top kernels by device time), with the lever's parts applied (compiled pieces, grouped-query decode
attention, merged projections, or the whole step compiled; warmed up, so compiling stays outside the profile). The
steps run without a CUDA graph, so the table shows the kernels' own time, not the launches a graph removes; the
per-token times with the graph are `gpu.sh`'s. At the batched size, the prefill too (half of a batch's time before
rows left the batch), with the audio encoder's windows one attention call each and in one call (`windows`): its
kernels, how many it launches, its wall time against their device time (the gap is the host's), its ops by host
time, and which attention backends it ran.
Writes `decode_profile_<device>.json` and the kernel tables as text.
Usage: python benchmarks/gpu_decode_profile.py OUT_DIR [--lever LEVER] [--batch-size N] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.autograd import DeviceType

from lionrepro.asr import architectures
from lionrepro.asr.static_decoding import CAPTURE_STEPS, StaticGreedyDecoder
from lionrepro.provenance import provenance
from lionrepro.speed.decode_levers import LEVERS, lever_options
from lionrepro.speed.latency import Timer
from lionrepro.speed.roofline import decoder_weight_bytes
from lionrepro.speed.table3_protocol import protocol_clips

PROFILED_STEPS = 5


def _activities(device: torch.device) -> list[torch.profiler.ProfilerActivity]:
    cuda = [torch.profiler.ProfilerActivity.CUDA] if device.type == "cuda" else []
    return [torch.profiler.ProfilerActivity.CPU, *cuda]


def _kernels(events, device: torch.device) -> tuple[str, list, float]:
    """(the column to sort by, the kernels' events, their summed self time in microseconds): on a GPU the kernels'
    own events (an op's device time counts its kernels again); on a CPU every op's self time."""
    if device.type == "cuda":
        kernels = [e for e in events if e.device_type == DeviceType.CUDA]
        return "self_device_time_total", kernels, sum(e.self_device_time_total for e in kernels)
    return "self_cpu_time_total", list(events), sum(e.self_cpu_time_total for e in events)


def kernel_table(decoder: StaticGreedyDecoder, device: torch.device) -> tuple[str, float]:
    """The top kernels of `PROFILED_STEPS` steps after a warm-up, and the device time of one step (seconds)."""
    with torch.inference_mode(), decoder._pieces():
        decoder.prefill()
        for _ in range(CAPTURE_STEPS):  # compiles what the lever compiles
            decoder._step()
        decoder.prefill()
        with torch.profiler.profile(activities=_activities(device)) as prof:
            for _ in range(PROFILED_STEPS):
                decoder._step()
    events = prof.key_averages()
    key, _, busy_us = _kernels(events, device)
    return events.table(sort_by=key, row_limit=18, max_name_column_width=60), busy_us / PROFILED_STEPS / 1e6


def prefill_table(decoder: StaticGreedyDecoder, device: torch.device) -> tuple[str, str, dict[str, Any]]:
    """The top kernels of one prefill after a warm-up one, and its top ops by host time (where a gap between wall and
    kernel time goes: launches, an attention backend's planning); with its wall seconds, its kernels' device seconds,
    how many kernels it launched (on a CPU: its ops' self time and count), and its attention ops by name (which
    SDPA backend ran, how often, at what host cost)."""
    with torch.inference_mode():
        decoder.prefill()
        wall = Timer(device)(decoder.prefill)
        with torch.profiler.profile(activities=_activities(device)) as prof:
            decoder.prefill()
    events = prof.key_averages()
    key, kernels, busy = _kernels(events, device)
    attention = {
        e.key: {"calls": e.count, "self_host_s": e.self_cpu_time_total / 1e6}
        for e in events
        if e.device_type == DeviceType.CPU and "attention" in e.key
    }
    record = {
        "wall_s": wall,
        "kernel_time_s": busy / 1e6,
        "kernels": sum(e.count for e in kernels),
        "attention_ops": attention,
    }
    host = events.table(sort_by="self_cpu_time_total", row_limit=18, max_name_column_width=60)
    return events.table(sort_by=key, row_limit=18, max_name_column_width=60), host, record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--smoke", action="store_true", help="CPU, one layer per stack")
    parser.add_argument("--lever", default="graph+fused+gqa+merged", choices=LEVERS[1:])
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    device = torch.device("cpu" if args.smoke else "cuda")
    dtype = torch.float32 if args.smoke else torch.bfloat16
    name = "qwen3-asr-1.7b"
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    model = architectures.build(name, device=device, dtype=dtype, num_layers_override=(1, 1) if args.smoke else None)
    clips = sorted(protocol_clips(2 if args.smoke else args.batch_size), key=lambda c: c.duration_s)
    results = {"model": name, "lever": args.lever, "decoder_weight_bytes": decoder_weight_bytes(model), "runs": {}}
    kind = "smoke" if args.smoke else device.type
    for batch in (1, len(clips)):
        chunk = clips[-batch:]  # the longest clips: the batch an evaluation's last sorted batch would be
        tokens = max(max(c.tokens for c in chunk), CAPTURE_STEPS + PROFILED_STEPS + 1)
        inputs = architectures.make_inputs(name, [c.duration_s for c in chunk], device, dtype, seed=batch)
        decoder = StaticGreedyDecoder(model, inputs, tokens, graph=False, **lever_options(args.lever))
        table, step_s = kernel_table(decoder, device)
        (args.out / f"kernels_batch{batch}.txt").write_text(table, encoding="utf-8")
        results["runs"][str(batch)] = {"batch": batch, "tokens": tokens, "device_time_per_step_s": step_s}
        elapsed = time.perf_counter() - began
        print(f"[{elapsed:6.1f}s] batch {batch}, {args.lever}: {step_s * 1e3:.3f} ms of kernels per step")
        print(table, flush=True)
        if batch == 1:
            continue
        for windows in (False, True):
            options = lever_options(args.lever) | {"windows": windows}
            decoder = StaticGreedyDecoder(model, inputs, tokens, graph=False, **options)
            table, host, record = prefill_table(decoder, device)
            label = "prefill" + ("_windows" if windows else "")
            (args.out / f"kernels_{label}_batch{batch}.txt").write_text(table, encoding="utf-8")
            (args.out / f"host_{label}_batch{batch}.txt").write_text(host, encoding="utf-8")
            results["runs"][str(batch)][label] = record
            print(
                f"[{time.perf_counter() - began:6.1f}s] {label}, batch {batch}: {record['wall_s'] * 1e3:.1f} ms,"
                f" {record['kernel_time_s'] * 1e3:.1f} ms in {record['kernels']} kernels"
            )
            print(table, flush=True)
        results["provenance"] = provenance(stage="decode-profile", seed=0, wall_s=time.perf_counter() - began)
        (args.out / f"decode_profile_{kind}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
