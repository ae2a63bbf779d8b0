"""Training throughput of Qwen3-ASR at full size, and what it implies for the paper's $81 / 48 h (Table 4).

The paper prices its training from rental rates: one RTX PRO 6000 for 48 h, $81, against MERaLiON-2's 128 H100s
for 48 h, $18,862. We time real training steps (forward, backward, AdamW) of the same architecture with random
weights, count audio hours processed per hour and, on a GPU, model FLOPs utilisation; from that we project the
GPU-hours of one epoch over Table 1's training split, the epochs that fit into the paper's 48 h, and dollars at
hourly rates that default to those the paper's own numbers imply (derived from Table 4, never typed).

On a GPU the step is the upstream recipe's: fp32 master weights, bf16 autocast, AdamW, per-device batch 32. On a CPU
it is timed at small depths and extrapolated to full depth as in `lionrepro.speed.latency`. The loss is the training
loop's (lionrepro.asr.supervised_loss: the 151,936-word output layer only at the supervised positions), so the timed
step is the one `lionrepro train` takes; GPU results before that change projected every position.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from lionrepro import paper
from lionrepro.asr import architectures
from lionrepro.asr.supervised_loss import AttentionLoss
from lionrepro.speed.latency import (
    CHECK_DEPTH,
    FIT_DEPTHS,
    Timer,
    clip_durations,
    extrapolate,
    extrapolate_time,
    free_memory,
    linearity_error,
)
from lionrepro.speed.measurement_run import failure_record

PAPER_SYSTEM = "Polyglot-Lion"
BASELINE_SYSTEM = "MERaLiON-2-10B"
# Dense bf16 tensor-core peaks (FLOP/s, no sparsity) from NVIDIA's data sheets, matched on the device name
PEAK_BF16_FLOPS = (
    ("H100 PCIe", 756e12),
    ("H100 NVL", 835e12),
    ("H100", 989e12),
    ("H200", 989e12),
    ("A100", 312e12),
)


@dataclass
class CostSettings:
    """What one cost run measures; the defaults fit a CPU run of a few minutes."""

    models: tuple[str, ...] = ("qwen3-asr-0.6b", "qwen3-asr-1.7b")
    device: str = "cpu"
    batch_size: int = 2
    target_tokens: int = 32  # supervised tokens per utterance: "language None<asr_text>" + transcript
    warmup: int = 1
    steps: int = 2
    full_depth: bool = False
    layers: tuple[int, int] | None = None  # with full_depth: measure directly at this depth instead (smoke runs)
    autocast_bf16: bool | None = None  # None: on a GPU only
    seed: int = 0
    peak_tflops: float | None = None  # overrides the table above
    price_per_gpu_hour: float | None = None  # overrides the paper-implied rate for the measured device


def paper_rates() -> dict[str, dict[str, Any]]:
    """Dollars per GPU-hour that Table 4 implies: cost / (GPUs x hours), with the derivation spelled out."""
    rates = {}
    for system in (PAPER_SYSTEM, BASELINE_SYSTEM):
        row = paper.cost_row(system)
        rate = row.estimated_cost_usd / (row.gpu_count * row.training_time_hours)
        rates[row.gpu_model] = {
            "usd_per_gpu_hour": float(rate),
            "derivation": f"${row.estimated_cost_usd} / ({row.gpu_count} x {row.gpu_model} x "
            f"{row.training_time_hours} h) = ${rate:.4f}/GPU-h ({system}, Table 4)",
        }
    return rates


def train_split_hours() -> Decimal:
    """Hours of audio in Table 1's training split (sum of its rows)."""
    return sum((row.hours["train"] for row in paper.table1()), Decimal(0))


def peak_flops(device_name: str) -> float | None:
    for key, flops in PEAK_BF16_FLOPS:
        if key in device_name:
            return flops
    return None


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def training_batch(name: str, durations: list[float], target_tokens: int, device: torch.device) -> dict:
    """A supervised batch: the model's ASR prompt for each clip followed by `target_tokens` labelled tokens."""
    inputs = architectures.make_inputs(name, durations, device)
    prompt = inputs["input_ids"]
    targets = torch.full((prompt.shape[0], target_tokens), 1000, dtype=torch.long, device=device)
    inputs["input_ids"] = torch.cat([prompt, targets], dim=1)
    inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(targets)], dim=1)
    inputs["labels"] = torch.cat([torch.full_like(prompt, -100), targets], dim=1)
    return inputs


def _step(model: torch.nn.Module, batch: dict, optimizer: torch.optim.Optimizer, autocast: bool) -> torch.Tensor:
    """One optimizer step; its loss (detached), so that a caller can check the step computed something real."""
    device_type = next(model.parameters()).device.type
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=autocast):
        loss = AttentionLoss(model)(**batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.detach()


def step_flops(model: torch.nn.Module, batch: dict, autocast: bool) -> int:
    """Model FLOPs of one forward + backward, as counted by torch's FLOP counter (matmuls, convolutions, SDPA)."""
    counter = FlopCounterMode(display=False)
    device_type = next(model.parameters()).device.type
    with counter, torch.autocast(device_type, dtype=torch.bfloat16, enabled=autocast):
        AttentionLoss(model)(**batch).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def time_training(
    model: torch.nn.Module,
    batch: dict,
    settings: CostSettings,
    autocast: bool,
    timer: Timer,
    log: Callable[[str], None] = print,
) -> tuple[int | None, list[float]]:
    """FLOPs of one step (None if the counter fails), then seconds of each timed AdamW step after warm-up."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    try:
        flops: int | None = step_flops(model, batch, autocast)
    except Exception as error:  # noqa: BLE001 - the timing does not depend on the count
        log(f"  FLOP count failed ({type(error).__name__}: {error}); MFU will be missing")
        flops = None
    for _ in range(settings.warmup):
        _step(model, batch, optimizer, autocast)
    return flops, [timer(lambda: _step(model, batch, optimizer, autocast)) for _ in range(settings.steps)]


def measure_training_depth(
    name: str, settings: CostSettings, depth: tuple[int, int] | None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Seconds per AdamW step, and FLOPs per step, of one model at one depth (None: full depth)."""
    device = torch.device(settings.device)
    autocast = device.type == "cuda" if settings.autocast_bf16 is None else settings.autocast_bf16
    durations = clip_durations(settings.batch_size, settings.seed, split="train")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model = architectures.build(name, device=device, dtype=torch.float32, num_layers_override=depth).train()
    try:
        batch = training_batch(name, durations, settings.target_tokens, device)
        flops, seconds = time_training(model, batch, settings, autocast, Timer(device), log)
        peak_memory = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    finally:
        del model
        free_memory()
    tflop = f"{flops / 1e12:.2f}" if flops else "?"
    log(f"  {name} layers={depth or 'full'}: {statistics.fmean(seconds):.3f} s/step, {tflop} TFLOP/step")
    return {
        "layers": list(depth) if depth else None,
        "step_s": seconds,
        "flops_per_step": flops,
        "batch_audio_s": sum(durations),
        "peak_memory_bytes": peak_memory,
    }


def projection(audio_hours_per_hour: float, device_rate: float | None) -> dict[str, Any]:
    """GPU-hours for one epoch of Table 1's training split, epochs in the paper's 48 h, and dollars."""
    hours = float(train_split_hours())
    budget_h = float(paper.cost_row(PAPER_SYSTEM).training_time_hours)
    gpu_hours = hours / audio_hours_per_hour
    return {
        "train_split_hours": hours,
        "gpu_hours_per_epoch": gpu_hours,
        "paper_training_hours": budget_h,
        "epochs_in_paper_hours": budget_h / gpu_hours,
        "usd_per_gpu_hour": device_rate,
        "usd_per_epoch": gpu_hours * device_rate if device_rate is not None else None,
        "usd_paper_hours": budget_h * device_rate if device_rate is not None else None,
    }


def device_rate(name: str, settings: CostSettings) -> tuple[float | None, str]:
    """The hourly price of the measured device: the override, else the paper-implied H100 rate for H100/H200."""
    if settings.price_per_gpu_hour is not None:
        return settings.price_per_gpu_hour, "given with --price-per-gpu-hour"
    rates = paper_rates()
    for gpu in rates:
        if gpu in name or (gpu == "H100" and "H200" in name):
            return rates[gpu]["usd_per_gpu_hour"], rates[gpu]["derivation"]
    return None, f"no rental rate known for {name!r} (give --price-per-gpu-hour)"


def measure_training(name: str, settings: CostSettings, log: Callable[[str], None] = print) -> dict[str, Any]:
    arch = architectures.architecture(name)
    full = (arch.encoder_layers, arch.decoder_layers)
    device = torch.device(settings.device)
    if settings.full_depth:
        run = measure_training_depth(name, settings, settings.layers, log)
        step_s, flops = statistics.fmean(run["step_s"]), run["flops_per_step"]
        result: dict[str, Any] = {"extrapolated": False, "linearity_rel_error": None, "depth_points": []}
        result["peak_memory_bytes"] = run["peak_memory_bytes"]
    else:
        runs = {d: measure_training_depth(name, settings, d, log) for d in (*FIT_DEPTHS, CHECK_DEPTH)}
        mean_at = {d: statistics.fmean(r["step_s"]) for d, r in runs.items()}
        fit = {d: mean_at[d] for d in FIT_DEPTHS}
        step_s = extrapolate_time(fit, full)
        counts = {d: runs[d]["flops_per_step"] for d in FIT_DEPTHS}
        flops = round(extrapolate(counts, full)) if all(counts.values()) else None
        result = {
            "extrapolated": True,
            "linearity_rel_error": linearity_error(fit, (CHECK_DEPTH, mean_at[CHECK_DEPTH])),
            "depth_points": [{"layers": list(d), "step_s": mean_at[d]} for d in runs],
            "peak_memory_bytes": None,
        }
    audio_s = sum(clip_durations(settings.batch_size, settings.seed, split="train"))
    peak = settings.peak_tflops * 1e12 if settings.peak_tflops else peak_flops(device_name(device))
    achieved = flops / step_s if flops else None
    audio_hours_per_hour = audio_s / step_s
    rate, rate_source = device_rate(device_name(device), settings)
    result.update(
        status="ok",
        error=None,
        paper_model=arch.paper_model,
        full_layers=list(full),
        measured_layers=list(settings.layers) if settings.full_depth and settings.layers else list(full),
        batch_size=settings.batch_size,
        batch_audio_s=audio_s,
        step_s=step_s,
        flops_per_step=flops,
        achieved_tflops=achieved / 1e12 if achieved else None,
        peak_tflops=peak / 1e12 if peak else None,
        mfu=achieved / peak if achieved and peak and device.type == "cuda" else None,
        audio_hours_per_hour=audio_hours_per_hour,
        price_source=rate_source,
        projection=projection(audio_hours_per_hour, rate),
    )
    return result


def measure_training_or_error(name: str, settings: CostSettings, log: Callable[[str], None]) -> dict[str, Any]:
    """`measure_training`, halving the batch on out-of-memory (recorded), and recording any other failure."""
    batch_size = settings.batch_size
    while True:
        free_memory()  # here, not in the handler: a caught exception still holds the failed model's tensors
        try:
            result = measure_training(name, replace(settings, batch_size=batch_size), log)
            if batch_size != settings.batch_size:
                result["batch_size_reduced_from"] = settings.batch_size
            return result
        except torch.cuda.OutOfMemoryError as error:
            if batch_size == 1:
                failure = error
            else:
                log(f"  {name}: out of memory at batch {batch_size}, retrying with {batch_size // 2}")
                batch_size //= 2
                continue
        except Exception as error:  # noqa: BLE001 - recorded in the results, the other models still run
            failure = error
        log(f"  {name} FAILED: {type(failure).__name__}: {failure}")
        return {"paper_model": architectures.architecture(name).paper_model, **failure_record(failure)}


def paper_cost() -> dict[str, dict[str, Any]]:
    """Table 4's rows as numbers, beside the rates they imply."""
    out = {}
    for system in (PAPER_SYSTEM, BASELINE_SYSTEM):
        row = paper.cost_row(system)
        out[system] = {
            "training_data_hours": float(row.training_data_hours),
            "hardware": row.hardware,
            "gpu_count": row.gpu_count,
            "training_time_hours": float(row.training_time_hours),
            "estimated_cost_usd": float(row.estimated_cost_usd),
        }
    return out


def run_cost(
    settings: CostSettings,
    log: Callable[[str], None] = print,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Time training of every model in `settings.models`; a failure (e.g. out of memory) is recorded, not fatal."""
    results: dict[str, Any] = {
        "kind": "cost",
        "device_type": torch.device(settings.device).type,
        "device_name": device_name(torch.device(settings.device)),
        "precision": "fp32 weights + bf16 autocast"
        if (settings.autocast_bf16 if settings.autocast_bf16 is not None else settings.device.startswith("cuda"))
        else "fp32",
        "optimizer": "torch.optim.AdamW (lr 2e-5)",
        "attention": architectures.ATTENTION,
        "settings": asdict(settings),
        "paper": paper_cost(),
        "paper_rates": paper_rates(),
        "train_split_hours": float(train_split_hours()),
        "models": {},
    }
    for name in settings.models:
        began = time.perf_counter()
        log(f"[cost] {name} ({'full depth' if settings.full_depth else 'depth-extrapolated'})")
        model_result = measure_training_or_error(name, settings, log)
        model_result["params"] = architectures.count_parameters(name)
        model_result["wall_s"] = time.perf_counter() - began
        results["models"][name] = model_result
        if on_update:
            on_update(results)
    return results


def cost_table(results: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Table 4 beside our projection: training throughput on our device, GPU-hours per epoch, epochs in 48 h, $."""
    device = results.get("provenance", {}).get("device", results.get("device_name", "?"))
    headers = [
        "system",
        "hardware",
        "audio h per h",
        "MFU",
        "GPU-h per epoch",
        "epochs in 48 h",
        "$ per epoch",
        "$ for 48 h",
    ]
    rows: list[list[Any]] = []
    for system, row in results["paper"].items():
        rows.append(
            [
                f"{system} (paper, {row['training_data_hours']:g} h data)",
                row["hardware"],
                "-",
                "-",
                "-",
                "-",
                "-",
                f"{row['estimated_cost_usd']:,.0f} ({row['training_time_hours']:g} h)",
            ]
        )
    for model in results["models"].values():
        label = f"{model['paper_model']} (measured{', extrapolated' if model.get('extrapolated') else ''})"
        if model["status"] != "ok":
            rows.append([label, device, f"error: {model['error']}", "", "", "", "", ""])
            continue
        proj = model["projection"]
        usd = proj["usd_per_epoch"]
        rows.append(
            [
                label,
                device,
                f"{model['audio_hours_per_hour']:.1f}",
                f"{model['mfu']:.1%}" if model["mfu"] is not None else "n/a (CPU)",
                f"{proj['gpu_hours_per_epoch']:.2f}",
                f"{proj['epochs_in_paper_hours']:.2f}",
                f"{usd:,.2f}" if usd is not None else "not priced",
                f"{proj['usd_paper_hours']:,.2f}" if proj["usd_paper_hours"] is not None else "not priced",
            ]
        )
    if results.get("device_type") != "cuda":
        rows.append(["GPU (bf16, AdamW)", "-", "not measured on GPU", "", "", "", "", ""])
    for gpu, rate in results["paper_rates"].items():
        rows.append([f"rate {gpu}", rate["derivation"], "", "", "", "", "", ""])
    return headers, rows
