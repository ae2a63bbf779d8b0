"""Decoding speed lever by lever, under Table 3's protocol, against each model's weight-bandwidth floor.

Levers (`LEVERS`): transformers' `generate` (the loop every earlier timing used), a static cache with
each step replayed as a CUDA graph, and the same with the decoder's elementwise pieces compiled, grouped-query decode
attention, merged projections, or the whole step compiled; the audio encoder's windows in one attention call; a
batch that its finished rows leave; attention kept off cuDNN's kernels; the next batch's prefill overlapping this
batch's decoding. For each model and lever: seconds per sample at batch 1 over clips shaped like the test sets (each
decoding its reference's length), the time per decoded token, and the batched throughput (RTFx: audio seconds per
second).

At batch 1 every new token reads all of the decoder's weights once, so no decoder can emit a token faster than
(decoder weight bytes) / (memory bandwidth): that is the floor each per-token time is set against, with the
device's published bandwidth and with the bandwidth a large copy actually reaches here. A batch's prefill and its
decoding are each set against their own roofline floor (`lionrepro.speed.roofline`), which bounds the RTFx this
device could reach on these clips (`rtfx_ceiling`).
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch

from lionrepro.asr import architectures
from lionrepro.asr.decode_families import family_of
from lionrepro.asr.static_decoding import CAPTURE_STEPS, OPTIONS, StaticGreedyDecoder
from lionrepro.speed.latency import Timer, free_memory, summary
from lionrepro.speed.measurement_run import failure_record
from lionrepro.speed.pipelined_batches import decode_pipelined
from lionrepro.speed.roofline import (
    against_floors,
    counted_flops,
    decode_floor_s,
    decoder_weight_bytes,
    device_limits,
    floor_s,
    weight_bytes,
)
from lionrepro.speed.table3_protocol import FRAMING_TOKENS, TOKENS_PER_SECOND, Clip, protocol_clips

# Cumulative: transformers' loop; static cache + CUDA graph; + compiled pieces; + grouped-query decode attention;
# + merged projections; then the whole step compiled instead of its pieces (one compile per batch size: the cache
# length is fixed), without and with merged projections, and with inductor's coordinate-descent tuning; and the
# audio encoder's windows in one attention call (the prefill); rows leaving the batch as their transcripts end; what
# `evaluate --decoder static` runs; and that, and every lever for the batch together, with attention kept off cuDNN's
# kernels, and those with each next batch's prefill overlapping this batch's decoding
LEVERS = (
    "generate",
    "graph",
    "graph+fused",
    "graph+fused+gqa",
    "graph+fused+gqa+merged",
    "graph+compiled+gqa",
    "graph+compiled+gqa+merged",
    "graph+compiled+gqa+merged+tuned",
    "graph+fused+gqa+merged+windows",
    "graph+fused+gqa+merged+shrink",
    "graph+fused+gqa+merged+windows+shrink",
    "graph+gqa+shrink",
    "graph+gqa+shrink+nocudnn",
    "graph+fused+gqa+merged+windows+shrink+nocudnn",
    "graph+fused+gqa+merged+windows+shrink+nocudnn+pipelined",
)
# A lever part that is no decoder option: the lever's batches are also decoded back to back, each next prefill
# overlapping this decoding (`lionrepro.speed.pipelined_batches`)
PIPELINED = "pipelined"
EVALUATE_STATIC = "graph+gqa+shrink"  # what `lionrepro evaluate --decoder static` decodes with (EVALUATION_OPTIONS)


def lever_options(lever: str) -> dict[str, bool]:
    """`StaticGreedyDecoder`'s keyword options for a lever of `LEVERS` other than `generate` (which is not a static
    decoder): each part of its name switched on (`graph` and `pipelined` are how it is run, not options)."""
    if lever not in LEVERS or lever == "generate":
        raise ValueError(f"not a static decoding lever: {lever!r} (one of {', '.join(LEVERS[1:])})")
    parts = lever.split("+")
    return {option: option in parts for option in OPTIONS}


FLOOR_GOAL = 2.0  # issue 12: batch-1 decode within 2x of the weight-bandwidth floor
RTFX_GOAL = 1000.0  # issue 12: batched RTFx of at least 1,000 for Qwen3-ASR-1.7B


@dataclass
class DecodeSettings:
    """What one decode-speed run measures; the defaults are a GPU run's."""

    models: tuple[str, ...] = architectures.NAMES
    # What a GPU run measures unless asked otherwise, within gpu.sh's 5 minutes: the baseline, the graph, and the
    # cumulative levers that the measured runs kept (compiled pieces alone: runs 3-4); the whole-step compile costs
    # minutes per model (run 5): asked for by name
    levers: tuple[str, ...] = ("generate", "graph", "graph+fused+gqa", "graph+fused+gqa+merged", EVALUATE_STATIC)
    fused_models: tuple[str, ...] = tuple(architectures.POLYGLOT_OF)  # compiling costs time: where it is the goal
    device: str = "cuda"
    dtype: str = "bfloat16"
    clips: int = 10
    batch_size: int = 128
    batches: int = 1  # 0: batch 1 only, no RTFx (half the compiling of a compiled lever)
    layers: tuple[int, int] | None = None  # fewer layers (smoke runs); None: full depth
    max_tokens: int | None = None  # cap on each clip's tokens (smoke runs); None: the protocol's lengths
    sort_batches: bool = True  # batch clips of similar duration together, as an evaluation does
    seed: int = 0
    # No model or lever starts this many seconds after the run began (what is left is recorded as not run), so that a
    # script with a time limit keeps time for its other phases; None: no limit
    deadline_s: float | None = None

    def clips_and_batches(self) -> tuple[list[Clip], list[list[Clip]]]:
        """The batch-1 clips and the batches (of similar durations when sorted), tokens capped by `max_tokens`."""
        clips = protocol_clips(max(self.clips, self.batch_size * self.batches), self.seed)
        if self.max_tokens:
            clips = [replace(c, tokens=min(c.tokens, self.max_tokens)) for c in clips]
        pool = clips[: self.batch_size * self.batches]
        if self.sort_batches:
            pool = sorted(pool, key=lambda c: c.duration_s)
        batches = [pool[k * self.batch_size : (k + 1) * self.batch_size] for k in range(self.batches)]
        return clips[: self.clips], batches


def _time_lever(model, name, lever, clips: list[Clip], settings, timer, seed, cache_length=None) -> dict:
    """One batch of clips under one lever: total seconds, prefill seconds, decode seconds per step of its longest
    clip, which a static batch decodes every row to (`shrink` drops the rows that have ended)."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    inputs = architectures.make_inputs(name, [c.duration_s for c in clips], device, dtype, seed=seed)
    tokens = max(c.tokens for c in clips)
    if lever == "generate":
        architectures.generate_fixed(model, inputs, tokens)  # warm these shapes up
        total = timer(lambda: architectures.generate_fixed(model, inputs, tokens))
        prefill = timer(lambda: architectures.generate_fixed(model, inputs, 1))
        return {"total_s": total, "prefill_s": prefill, "per_token_s": (total - prefill) / max(tokens - 1, 1)}
    graph = device.type == "cuda"
    decoder = StaticGreedyDecoder(
        model,
        inputs,
        [c.tokens for c in clips],
        graph=graph,
        cache_length=cache_length,
        **lever_options(lever),
    )
    decoder()  # warm up, compile and capture
    prefill = timer(decoder.prefill)
    decode = timer(decoder.decode)
    run = {"total_s": prefill + decode, "prefill_s": prefill, "per_token_s": decode / max(tokens - 1, 1)}
    if decoder.smaller:
        run["shrank_to"] = sorted(decoder.smaller, reverse=True)  # the batch sizes its rows went on in
    return run


def _time_pipelined(model, name, lever, batches: list[list[Clip]], settings: DecodeSettings) -> dict[str, Any]:
    """The batches decoded back to back, each next prefill overlapping this decoding (`decode_pipelined`), after one
    run of each (its graphs captured): wall seconds, RTFx, and whether every batch's tokens equal that run's."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    options = lever_options(lever) | {"graph": device.type == "cuda"}
    try:
        decoders = [
            StaticGreedyDecoder(
                model,
                architectures.make_inputs(name, [c.duration_s for c in chunk], device, dtype, seed=k),
                [c.tokens for c in chunk],
                **options,
            )
            for k, chunk in enumerate(batches)
        ]
        alone = [decoder().clone() for decoder in decoders]
        seconds, tokens = decode_pipelined(decoders, device)
    except Exception as error:  # noqa: BLE001 - recorded; the lever's batches were timed one by one already
        return failure_record(error)
    audio = sum(c.duration_s for chunk in batches for c in chunk)
    return {
        "total_s": seconds,
        "rtfx": audio / seconds,
        "tokens_match": all(torch.equal(a, b) for a, b in zip(alone, tokens, strict=True)),
    }


def _pipelined_note(record: dict[str, Any]) -> str:
    if "error" in record:
        return f", pipelined FAILED: {record['error']}"
    return f", pipelined RTFx {record['rtfx']:.0f} (tokens match: {record['tokens_match']})"


def fixed_cache_lengths(name: str, clips: list[Clip], batches: list[list[Clip]]) -> tuple[int, int]:
    """One cache length for every batch-1 clip and one for every batch: the compiled step is specialised to its
    shapes, so equal shapes compile once (prompt plus decoded tokens, at least the capture's steps)."""

    def length(chunk: list[Clip]) -> int:
        prompt = architectures.prompt_length(name, architectures.make_inputs(name, [c.duration_s for c in chunk]))
        return prompt + max(max(c.tokens for c in chunk), CAPTURE_STEPS + 1)

    return max(length([c]) for c in clips), max((length(chunk) for chunk in batches), default=0)


def _agreement(model, name, settings, clips: list[Clip], options: dict[str, bool]) -> bool:
    """Whether the captured graphs emit exactly the tokens of the same steps run eagerly (same kernels, same
    numbers) for `clips` as one batch, each decoding its own length: a check that replaying the graphs (and, with
    `shrink`, moving rows into smaller batches) decodes what the model computes."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    inputs = architectures.make_inputs(name, [c.duration_s for c in clips], device, dtype, seed=0)
    counts = [c.tokens for c in clips]
    eager = StaticGreedyDecoder(model, inputs, counts, graph=False, **options)().clone()
    graph = StaticGreedyDecoder(model, inputs, counts, graph=device.type == "cuda", **options)()
    return bool(torch.equal(eager, graph))


def batch_floors(model, name: str, chunk: list[Clip], settings: DecodeSettings, limits: dict, seed: int) -> dict:
    """A batch's roofline (`lionrepro.speed.roofline`): its prefill's matrix FLOPs, counted, and on each basis of
    `limits` the least time its prefill (every weight read once, its FLOPs at full throughput) and its decoding (rows
    leaving as they end: `decode_floor_s`) could take; None where the basis lacks a limit."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    inputs = architectures.make_inputs(name, [c.duration_s for c in chunk], device, dtype, seed=seed)
    flops = counted_flops(lambda: architectures.generate_fixed(model, inputs, 1))
    prompts = family_of(model).prompt_mask(inputs).sum(-1).tolist()
    tokens = [c.tokens for c in chunk]
    every_weight = weight_bytes(model)
    return {
        "prefill_flops": flops,
        "floor_s": {
            basis: {
                "prefill": floor_s(flops, every_weight, limit),
                "decode": decode_floor_s(model, prompts, tokens, limit),
            }
            for basis, limit in limits.items()
        },
    }


def measure_model(
    name: str,
    settings: DecodeSettings,
    limits: dict,
    log: Callable[[str], None],
    stop_at: float | None = None,
    on_lever: Callable[[dict[str, Any]], None] | None = None,
) -> dict:
    """Every lever's batch-1 latency over the protocol's clips and batched RTFx for one model, with their floors
    (`limits`: `roofline.device_limits`); no lever starts after `stop_at` (`time.perf_counter()`), and `on_lever` gets
    the result so far after each lever."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    timer = Timer(device)
    model = architectures.build(name, device=device, dtype=dtype, num_layers_override=settings.layers)
    clips, batches = settings.clips_and_batches()
    decoder_bytes = decoder_weight_bytes(model)
    bandwidth = {"measured_copy": limits["measured"]["bandwidth"], "published": limits["published"]["bandwidth"]}
    floors = {key: decoder_bytes / value for key, value in bandwidth.items() if value}
    result: dict[str, Any] = {
        "paper_model": architectures.architecture(name).paper_model,
        "decoder_weight_bytes": decoder_bytes,
        "floor_per_token_s": floors,
        "levers": {},
    }

    def not_run(lever: str, reason: str) -> None:
        result.setdefault("levers_not_run", {})[lever] = reason
        log(f"  {name} {lever}: not run, {reason}")

    def compiles(lever: str) -> bool:
        return any(word in lever.split("+") for word in ("fused", "compiled"))

    try:
        levers = []
        for lever in settings.levers:
            if compiles(lever) and name not in settings.fused_models:
                not_run(lever, f"compiles; measured only for {', '.join(settings.fused_models)} (`fused_models`)")
            elif "shrink" in lever and not family_of(model).compactable:
                not_run(lever, f"shrink does not compact {type(model).__name__}'s cache")
            else:
                levers.append(lever)
        lengths = fixed_cache_lengths(name, clips, batches)
        roofs = None
        if batches and levers:
            try:
                roofs = [batch_floors(model, name, chunk, settings, limits, k) for k, chunk in enumerate(batches)]
                result["batch_floors"] = roofs
            except Exception as error:  # noqa: BLE001 - recorded; the levers are still timed
                result["batch_floors"] = failure_record(error)
                log(f"  {name} batch floors FAILED: {result['batch_floors']['error']}")
        for lever in levers:
            began = time.perf_counter()
            if stop_at is not None and began > stop_at:
                not_run(lever, past_deadline(settings))
                continue
            single_length, batch_length = lengths if "compiled" in lever else (None, None)
            try:
                singles = [
                    _time_lever(model, name, lever, [c], settings, timer, i, single_length) for i, c in enumerate(clips)
                ]
                batched = []
                for k, chunk in enumerate(batches):
                    run = _time_lever(model, name, lever, chunk, settings, timer, k, batch_length)
                    batched.append(
                        run
                        | {
                            "audio_s": sum(c.duration_s for c in chunk),
                            "tokens": max(c.tokens for c in chunk),  # the steps of a batch: its longest clip's
                            "tokens_of_rows": sum(c.tokens for c in chunk),  # what its rows need
                        }
                    )
                if lever == "graph":
                    result["graph_matches_eager"] = _agreement(model, name, settings, clips[:1], {})
                per_token = statistics.median(s["per_token_s"] for s in singles)
                entry = {
                    "status": "ok",
                    "latency_s": summary([s["total_s"] for s in singles]),
                    "prefill_s": summary([s["prefill_s"] for s in singles]),
                    "per_token_s": per_token,
                    "over_floor": {key: per_token / floor for key, floor in floors.items()},
                    "per_clip": singles,
                    "batched": None,  # batch 1 only (settings.batches 0)
                }
                # The batch-1 clips as one batch: lengths that differ, rows that leave. Checked where nothing is
                # compiled (compiling the pieces for each of its batch sizes would cost a GPU run a minute)
                if "shrink" in lever and not compiles(lever):
                    entry["graphs_match_eager"] = _agreement(model, name, settings, clips, lever_options(lever))
                throughput = ""
                if batched:
                    audio, seconds = sum(b["audio_s"] for b in batched), sum(b["total_s"] for b in batched)
                    entry["batched"] = {"batch_size": settings.batch_size, "runs": batched, "rtfx": audio / seconds}
                    throughput = f", RTFx {audio / seconds:.0f} at batch {settings.batch_size}"
                    if PIPELINED in lever.split("+"):
                        entry["batched"]["pipelined"] = _time_pipelined(model, name, lever, batches, settings)
                        throughput += _pipelined_note(entry["batched"]["pipelined"])
                    if roofs:
                        entry["batched"]["against_floors"] = against_floors(batched, roofs)
                        throughput += "".join(
                            f" [{basis} floors: prefill x{v['prefill']:.1f}, decode x{v['decode']:.1f},"
                            f" RTFx ceiling {v['rtfx_ceiling']:.0f}]"
                            for basis, v in entry["batched"]["against_floors"].items()
                            if v
                        )
                    shrank = [run["shrank_to"] for run in batched if "shrank_to" in run]
                    throughput += f" (shrank to {shrank})" if shrank else ""
                if "graphs_match_eager" in entry:
                    throughput += f"; graphs match eager: {entry['graphs_match_eager']}"
                log(
                    f"  {name} {lever}: {entry['latency_s']['mean']:.4f} s/sample, {per_token * 1e3:.3f} ms/token"
                    f" ({', '.join(f'{v:.1f}x {k}' for k, v in entry['over_floor'].items())} floor){throughput}"
                )
            except Exception as error:  # noqa: BLE001 - recorded; the other levers and models still run
                entry = failure_record(error)
                log(f"  {name} {lever} FAILED: {entry['error']}")
            entry["wall_s"] = time.perf_counter() - began
            result["levers"][lever] = entry
            if on_lever:
                on_lever(result)
    finally:
        del model
        free_memory()
    return result


def run_decode(
    settings: DecodeSettings,
    log: Callable[[str], None] = print,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every model in `settings.models`; one model's failure is recorded, not fatal."""
    device = torch.device(settings.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    limits = device_limits(device, getattr(torch, settings.dtype))
    bandwidth = {"measured_copy": limits["measured"]["bandwidth"], "published": limits["published"]["bandwidth"]}
    log(
        f"[decode] {name}: copy bandwidth {bandwidth['measured_copy'] / 1e12:.2f} TB/s,"
        f" matrix throughput {limits['measured']['flops'] / 1e12:.1f} TFLOP/s ({settings.dtype})"
    )
    results: dict[str, Any] = {
        "kind": "decode",
        "device_type": device.type,
        "device_name": name,
        "dtype": settings.dtype,
        "attention": architectures.ATTENTION,
        "settings": asdict(settings),
        "protocol": {
            "tokens_per_second_assumed": TOKENS_PER_SECOND,
            "framing_tokens": FRAMING_TOKENS,
            "clips": [c.as_dict() for c in settings.clips_and_batches()[0]],
        },
        "bandwidth_bytes_per_s": bandwidth,
        "device_limits": limits,
        "goals": {"over_floor_at_most": FLOOR_GOAL, "rtfx_at_least": RTFX_GOAL, "rtfx_model": "qwen3-asr-1.7b"},
        "models": {},
    }
    stop_at = None if settings.deadline_s is None else time.perf_counter() + settings.deadline_s

    def partial(model_name: str, entry: dict[str, Any]) -> None:
        results["models"][model_name] = entry
        if on_update:
            on_update(results)

    for model_name in settings.models:
        free_memory()
        log(f"[decode] {model_name}")
        began = time.perf_counter()
        if stop_at is not None and began > stop_at:
            log(f"  {model_name}: not run, {past_deadline(settings)}")
            entry = {
                "paper_model": architectures.architecture(model_name).paper_model,
                "levers": {},
                "levers_not_run": dict.fromkeys(settings.levers, past_deadline(settings)),
            }
            partial(model_name, entry | {"wall_s": 0.0})
            continue
        try:
            entry = measure_model(model_name, settings, limits, log, stop_at, functools.partial(partial, model_name))
        except Exception as error:  # noqa: BLE001 - recorded, the other models still run
            entry = failure_record(error)
            log(f"  {model_name} FAILED: {entry['error']}")
        partial(model_name, entry | {"wall_s": time.perf_counter() - began})
    return results


def past_deadline(settings: DecodeSettings) -> str:
    return f"past the run's deadline ({settings.deadline_s:g} s after it began)"
