"""Where a decoding step's time goes on the GPU, and whether compiling the whole step closes the gap to the floor.

For Qwen3-ASR-1.7B at batch 1 and at the batched size: the CUDA kernels of a few eager static-cache steps under
torch.profiler (top kernels by device time), then the step compiled whole by torch.compile and captured as a CUDA
graph, its ms per token and its compile time. Writes `decode_profile_<device>.json` and the kernel tables as text.
Usage: python benchmarks/gpu_decode_profile.py OUT_DIR [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import torch

from lionrepro.asr import architectures
from lionrepro.provenance import provenance
from lionrepro.speed.decode_levers import decoder_weight_bytes
from lionrepro.speed.latency import Timer
from lionrepro.speed.static_decoding import StaticGreedyDecoder
from lionrepro.speed.table3_protocol import protocol_clips


def kernel_table(decoder: StaticGreedyDecoder, steps: int, device: torch.device) -> str:
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    decoder.prefill()
    with torch.inference_mode(), torch.profiler.profile(activities=activities) as prof:
        for _ in range(steps):
            decoder._step()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=18, max_name_column_width=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--smoke", action="store_true", help="CPU, one layer per stack")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    smoke = args.smoke
    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    name = "qwen3-asr-1.7b"
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    model = architectures.build(name, device=device, dtype=dtype, num_layers_override=(1, 1) if smoke else None)
    clips = protocol_clips(args.batch_size if not smoke else 2)
    timer = Timer(device)
    results = {"model": name, "decoder_weight_bytes": decoder_weight_bytes(model), "runs": {}}
    for batch in (1, len(clips)):
        chunk = clips[:batch]
        tokens = 6 if smoke else max(c.tokens for c in chunk)
        inputs = architectures.make_inputs(name, [c.duration_s for c in chunk], device, dtype, seed=batch)
        run = {"batch": batch, "tokens": tokens}
        decoder = StaticGreedyDecoder(model, inputs, tokens, graph=False)
        table = kernel_table(decoder, 5, device)
        (args.out / f"kernels_batch{batch}.txt").write_text(table, encoding="utf-8")
        print(f"[{time.perf_counter() - began:6.1f}s] batch {batch}: kernels\n{table}", flush=True)
        try:
            compiled = StaticGreedyDecoder(model, inputs, tokens, graph=device.type == "cuda")
            compiled._step = torch.compile(compiled._step, dynamic=False)
            start = time.perf_counter()
            reference = StaticGreedyDecoder(model, inputs, tokens, graph=False)().clone()
            out = compiled()
            run["compile_and_capture_s"] = time.perf_counter() - start
            run["matches_eager"] = bool(torch.equal(out, reference))
            compiled.prefill()
            run["per_token_s"] = timer(compiled.decode) / max(tokens - 1, 1)
            print(
                f"[{time.perf_counter() - began:6.1f}s] batch {batch}: whole-step compiled + graph: {run}", flush=True
            )
        except Exception as error:  # noqa: BLE001 - recorded
            run["error"] = f"{type(error).__name__}: {error}"
            run["traceback"] = traceback.format_exc(limit=10)
            print(run["error"], flush=True)
        results["runs"][str(batch)] = run
        results["provenance"] = provenance(stage="decode-profile", seed=0, wall_s=time.perf_counter() - began)
        kind = "smoke" if smoke else device.type
        (args.out / f"decode_profile_{kind}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
