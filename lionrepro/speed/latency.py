"""Latency (seconds per sample, as in Table 3) and batched throughput (RTFx) of the four architectures, side by side.

The paper timed released checkpoints on an RTX PRO 4500; we time the same architectures with random weights on
whatever device we have, with the same dtype, attention kernel, decoding loop and a fixed number of new tokens for
every model, so that the ratios between models (the "20x" claim) are measured, not the absolute times.

On a CPU the full models are too slow (and the 10B one too large) to time in minutes, so each model is timed at
full width with a few small depths and extrapolated to full depth: time is modelled as
`c + n_enc * a + n_dec * b` (fixed cost, per encoder layer, per decoder layer), fitted exactly on three depths and
checked on a fourth; the relative error of that check is reported as the linearity of the extrapolation.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.speed.measurement_run import failure_record
from lionrepro.speed.table3_protocol import protocol_clips

# (encoder layers, decoder layers): the three depths the extrapolation is fitted on, and the one that checks it
FIT_DEPTHS: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2))
CHECK_DEPTH: tuple[int, int] = (2, 2)
NOT_ON_GPU = "not measured on GPU"
UNRELIABLE = 0.25  # a depth fit this far off at its check depth is flagged in the table (noisy, shared CPU)


@dataclass
class SpeedSettings:
    """What one speed run measures; the defaults fit a CPU run of a few minutes."""

    models: tuple[str, ...] = architectures.NAMES
    device: str = "cpu"
    dtype: str = "float32"
    new_tokens: int = 8
    warmup: int = 1
    clips: int = 3
    batch_size: int = 4
    batches: int = 1
    full_depth: bool = False
    layers: tuple[int, int] | None = None  # with full_depth: measure directly at this depth instead (smoke runs)
    timings_per_clip: int = 1  # > 1: keep each clip's fastest, robust to other processes on a shared CPU
    seed: int = 0
    clip_durations_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.clip_durations_s:
            self.clip_durations_s = clip_durations(max(self.clips, self.batch_size * self.batches), self.seed)


def clip_durations(n: int, seed: int = 0, split: str = "test") -> list[float]:
    """`n` clip lengths in seconds like the paper's test sets (see `table3_protocol.protocol_clips`)."""
    return [clip.duration_s for clip in protocol_clips(n, seed, split)]


class Timer:
    """Wall time of a call: CUDA events with synchronisation on a GPU, perf_counter on a CPU."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def __call__(self, fn: Callable[[], Any]) -> float:
        if self.cuda:
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            stop.record()
            torch.cuda.synchronize()
            return start.elapsed_time(stop) / 1000.0
        begin = time.perf_counter()
        fn()
        return time.perf_counter() - begin


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "median": statistics.median(values),
        "n": len(values),
    }


def fit_depth(points: dict[tuple[int, int], float]) -> tuple[float, float, float]:
    """(c, a, b) of `t = c + n_enc * a + n_dec * b`, least squares over the measured depths (exact on three)."""
    rows = [[1.0, float(e), float(d)] for e, d in points]
    design = torch.tensor(rows, dtype=torch.float64)
    target = torch.tensor(list(points.values()), dtype=torch.float64).unsqueeze(1)
    solution = torch.linalg.lstsq(design, target).solution.squeeze(1)
    return tuple(float(x) for x in solution)  # type: ignore[return-value]


def extrapolate(points: dict[tuple[int, int], float], depth: tuple[int, int]) -> float:
    c, a, b = fit_depth(points)
    return c + depth[0] * a + depth[1] * b


class UnreliableExtrapolation(ValueError):
    """A time extrapolated to full depth came out zero or negative: the depth timings were too noisy to use."""


def extrapolate_time(points: dict[tuple[int, int], float], depth: tuple[int, int]) -> float:
    """`extrapolate` for a duration, which must come out positive: otherwise the fit is noise, and saying so beats
    recording a negative latency."""
    value = extrapolate(points, depth)
    if value <= 0:
        measured = ", ".join(f"{d}: {t:.4g}s" for d, t in points.items())
        raise UnreliableExtrapolation(
            f"extrapolated time at depth {depth} is {value:.4g}s from {measured}: timings too noisy (a busy CPU?)"
        )
    return value


def linearity_error(fit_points: dict[tuple[int, int], float], check: tuple[tuple[int, int], float]) -> float:
    """Relative error of the fitted line at a depth it was not fitted on: (predicted - measured) / measured."""
    depth, measured = check
    return (extrapolate(fit_points, depth) - measured) / measured


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def time_generation(
    model: torch.nn.Module, name: str, settings: SpeedSettings, timer: Timer
) -> tuple[list[float], float, float]:
    """Seconds per clip at batch 1 (after warm-up), then seconds and audio seconds of the batched runs."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    clips = settings.clip_durations_s[: settings.clips]
    singles = [architectures.make_inputs(name, [d], device, dtype, seed=i) for i, d in enumerate(clips)]
    for inputs in singles[: settings.warmup] or singles[:1]:
        architectures.generate_fixed(model, inputs, settings.new_tokens)
    latencies = [
        min(
            timer(lambda x=x: architectures.generate_fixed(model, x, settings.new_tokens))
            for _ in range(settings.timings_per_clip)
        )
        for x in singles
    ]
    batch_seconds, audio_seconds = 0.0, 0.0
    for k in range(settings.batches):
        chunk = settings.clip_durations_s[k * settings.batch_size : (k + 1) * settings.batch_size]
        inputs = architectures.make_inputs(name, chunk, device, dtype, seed=1000 + k)
        if k == 0:  # warm the batched shapes up
            architectures.generate_fixed(model, inputs, settings.new_tokens)
        batch_seconds += timer(lambda x=inputs: architectures.generate_fixed(model, x, settings.new_tokens))
        audio_seconds += sum(chunk)
    return latencies, batch_seconds, audio_seconds


def measure_depth(
    name: str, settings: SpeedSettings, depth: tuple[int, int] | None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Per-clip latency at batch 1 and batched throughput of one model at one depth (None: full depth)."""
    device, dtype = torch.device(settings.device), getattr(torch, settings.dtype)
    began = time.perf_counter()
    model = architectures.build(name, device=device, dtype=dtype, num_layers_override=depth)
    built = time.perf_counter() - began
    try:
        latencies, batch_seconds, audio_seconds = time_generation(model, name, settings, Timer(device))
    finally:
        del model
        free_memory()
    log(
        f"  {name} layers={depth or 'full'}: build {built:.1f}s, latency mean {statistics.fmean(latencies):.4f}s,"
        f" batch {settings.batch_size} x{settings.batches}: {batch_seconds:.3f}s"
    )
    return {
        "layers": list(depth) if depth else None,
        "per_clip_s": latencies,
        "batched_s": batch_seconds,
        "batched_audio_s": audio_seconds,
        "build_s": built,
    }


def measure_model(name: str, settings: SpeedSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """One model's latency (mean ± std s/sample) and throughput, at full depth or extrapolated to it."""
    arch = architectures.architecture(name)
    full = (arch.encoder_layers, arch.decoder_layers)
    result: dict[str, Any] = {"paper_model": arch.paper_model, "published_params": arch.published_params}
    if settings.full_depth:
        run = measure_depth(name, settings, settings.layers, log)
        per_clip, batched = run["per_clip_s"], run["batched_s"]
        result.update(extrapolated=False, linearity_rel_error=None, depth_points=[])
    else:
        runs = {depth: measure_depth(name, settings, depth, log) for depth in (*FIT_DEPTHS, CHECK_DEPTH)}
        fit = {depth: runs[depth] for depth in FIT_DEPTHS}
        per_clip = [
            extrapolate_time({d: r["per_clip_s"][i] for d, r in fit.items()}, full) for i in range(settings.clips)
        ]
        batched = extrapolate_time({d: r["batched_s"] for d, r in fit.items()}, full)
        mean_at = {d: statistics.fmean(r["per_clip_s"]) for d, r in runs.items()}
        check = (CHECK_DEPTH, mean_at[CHECK_DEPTH])
        result.update(
            extrapolated=True,
            linearity_rel_error=linearity_error({d: mean_at[d] for d in FIT_DEPTHS}, check),
            depth_points=[{"layers": list(d), "latency_mean_s": mean_at[d]} for d in runs],
        )
    audio = sum(settings.clip_durations_s[: settings.batch_size * settings.batches])
    result.update(
        status="ok",
        error=None,
        full_layers=list(full),
        measured_layers=list(settings.layers) if settings.full_depth and settings.layers else list(full),
        latency_s=summary(per_clip),
        per_clip_s=per_clip,
        throughput={
            "batch_size": settings.batch_size,
            "batches": settings.batches,
            "audio_s": audio,
            "seconds": batched,
            "rtfx": audio / batched,
        },
    )
    return result


def paper_latency(model: str) -> dict[str, float] | None:
    """Table 3's mean and std for the model; None for a model it does not list (the tiny test configuration)."""
    try:
        row = paper.latency_row(model)
    except KeyError:
        return None
    return {"mean": float(row.mean_s), "std": float(row.std_s)}


def latency_ratios(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """MERaLiON / Qwen3-ASR latency, measured and as implied by Table 3 (base and fine-tuned rows)."""
    meralion_paper = paper.latency_row(architectures.architecture(architectures.MERALION).paper_model).mean_s
    ratios = {}
    for qwen in architectures.POLYGLOT_OF:
        arch = architectures.architecture(qwen)
        measured = None
        if models.get(architectures.MERALION, {}).get("status") == "ok" and models.get(qwen, {}).get("status") == "ok":
            measured = models[architectures.MERALION]["latency_s"]["mean"] / models[qwen]["latency_s"]["mean"]
        ratios[f"meralion_over_{qwen}"] = {
            "measured": measured,
            "paper_table3": float(meralion_paper / paper.latency_row(arch.paper_model).mean_s),
            "paper_table3_polyglot_lion": float(
                meralion_paper / paper.latency_row(architectures.POLYGLOT_OF[qwen]).mean_s
            ),
        }
    return ratios


def size_ratios(params: dict[str, int]) -> dict[str, dict[str, float]]:
    """MERaLiON's parameter count over each Qwen3-ASR size: exact counts vs the paper's labels (the '6x')."""
    meralion = architectures.architecture(architectures.MERALION)
    out = {}
    for qwen in architectures.POLYGLOT_OF:
        arch = architectures.architecture(qwen)
        label = paper.error_row(arch.paper_model).params
        out[f"meralion_over_{qwen}"] = {
            "measured": params[architectures.MERALION] / params[qwen],
            "paper_labels": float(
                paper.published_size(paper.error_row(meralion.paper_model).params) / paper.published_size(label)
            ),
        }
    return out


def run_speed(
    settings: SpeedSettings,
    log: Callable[[str], None] = print,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Measure every model in `settings.models`; one model's failure (e.g. out of memory) is recorded, not fatal.
    `on_update` gets the results after each model, so an interrupted run still leaves what it measured."""
    params = {
        name: architectures.count_parameters(name) for name in dict.fromkeys((*architectures.NAMES, *settings.models))
    }
    results: dict[str, Any] = {
        "kind": "speed",
        "device_type": torch.device(settings.device).type,
        "dtype": settings.dtype,
        "attention": architectures.ATTENTION,
        "decoding": "transformers generate, greedy, KV cache, exactly new_tokens tokens (EOS suppressed)",
        "settings": asdict(settings),
        "params": params,
        "size_ratios": size_ratios(params),
        "models": {},
    }
    for name in settings.models:
        free_memory()  # here, not in the handler: a caught exception still holds the failed model's tensors
        began = time.perf_counter()
        log(f"[speed] {name} ({'full depth' if settings.full_depth else 'depth-extrapolated'})")
        try:
            model_result = measure_model(name, settings, log)
        except Exception as error:  # noqa: BLE001 - recorded in the results, the other models still run
            model_result = {"paper_model": architectures.architecture(name).paper_model, **failure_record(error)}
            log(f"  {name} FAILED: {model_result['error']}")
        model_result["params"] = params[name]
        model_result["paper_latency_s"] = paper_latency(model_result["paper_model"])
        model_result["wall_s"] = time.perf_counter() - began
        results["models"][name] = model_result
        results["ratios"] = latency_ratios(results["models"])
        if on_update:
            on_update(results)
    return results


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def speed_table(results: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Table 3 beside our measurement: per model, the paper's s/sample and ours (device named), and the ratios."""
    device = results.get("provenance", {}).get("device", results.get("device_type", "?"))
    on_gpu = results.get("device_type") == "cuda"
    headers = [
        "model",
        "params (exact)",
        "paper s/sample (RTX PRO 4500)",
        f"measured s/sample ({device})",
        "RTFx (batched)",
        "depth",
    ]
    rows: list[list[Any]] = []
    for model in results["models"].values():
        paper_s = model["paper_latency_s"]
        paper_cell = f"{paper_s['mean']:.4f} ± {paper_s['std']:.4f}" if paper_s else "-"
        if model["status"] != "ok":
            measured, rtfx, depth = f"error: {model['error']}", "-", "-"
        else:
            lat = model["latency_s"]
            measured = f"{lat['mean']:.4f} ± {lat['std']:.4f}"
            rtfx = f"{model['throughput']['rtfx']:.1f}"
            depth = "full"
            if model["extrapolated"]:
                error = model["linearity_rel_error"]
                depth = f"extrapolated (linearity {error:+.1%}{', unreliable' if abs(error) > UNRELIABLE else ''})"
        rows.append(
            [
                model["paper_model"],
                f"{model['params']:,}",
                paper_cell,
                measured,
                rtfx,
                depth,
            ]
        )
    for key, ratio in results["ratios"].items():
        rows.append(
            [
                key.replace("_", " "),
                "",
                f"{ratio['paper_table3']:.1f}x (Polyglot-Lion: {ratio['paper_table3_polyglot_lion']:.1f}x)",
                f"{ratio['measured']:.1f}x" if ratio["measured"] is not None else "-",
                "",
                "",
            ]
        )
    if not on_gpu:
        rows.append(["GPU", "", "", NOT_ON_GPU, "", ""])
    for key, ratio in results["size_ratios"].items():
        rows.append(
            [f"params {key.replace('_', ' ')}", f"{ratio['measured']:.2f}x", f"{ratio['paper_labels']:.2f}x"]
            + ["", "", ""]
        )
    return headers, rows
