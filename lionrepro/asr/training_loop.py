"""The training loop of stage 3 (and of the tiny base): AdamW, warm-up and linear decay, exact resume, DDP.

A plain torch loop rather than transformers' Trainer, because what the experiments rest on must hold exactly:
- resume after a kill gives the same weights as an uninterrupted run (bit for bit on a CPU): the data order of every
  epoch is a pure function of (seed, epoch), and a checkpoint stores model, optimizer, scheduler, RNG states and the
  number of micro-batches consumed; checkpoints are written to a hidden folder and renamed, so a kill mid-write
  leaves the previous one intact;
- equal budgets between experiments: the schedule is fixed in optimizer steps (deterministic), and `max_minutes`
  stops a run whose steps take longer than planned (the result says which of the two ended it);
- the same arithmetic on one process or several: `batch_size` is the micro-batch of each process, as upstream
  qwen-asr's `--batch_size` (transformers' `per_device_train_batch_size`), so N processes draw global batches of N x
  batch_size rows and process `rank` takes rows rank, rank + N, ... of each; the loss is the sum over all supervised
  tokens of the accumulation window on all processes divided by their number, so DDP's gradient average equals one
  process's gradient on the global batch; the weights stay identical on every process, which the end of a run
  verifies with a checksum per process;
- a NaN or infinite loss (or gradient norm) stops the run before the optimizer applies it, naming the step.

Batches are length-bucketed (rows of similar duration together, less padding); an optional curriculum takes the
first epoch shortest first, which helped the from-scratch studies of issue 5. Two aids of the base's pretraining, off
unless a profile sets them: an auxiliary CTC loss on the audio encoder (`ctc_weight`, lionrepro.asr.ctc_auxiliary;
its head is kept beside the model and never saved in `model/`) and SpecAugment (`spec_augment`,
lionrepro.asr.spec_augment). Every device-specific choice (CUDA
device per local rank, NCCL, bf16 autocast) follows from the device alone, unless `precision` asks for bf16 autocast on
a CPU too; the code path is the same on a CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from lionrepro.asr.ctc_auxiliary import HybridCtcAttention, ctc_targets
from lionrepro.asr.device import Process, process_group, processes, torch_threads
from lionrepro.asr.finetune_format import collate
from lionrepro.asr.model import load_checkpoint, save_checkpoint
from lionrepro.asr.spec_augment import SpecAugment
from lionrepro.asr.supervised_loss import IGNORE_INDEX, AttentionLoss
from lionrepro.errors import UserError

CURVE = "curve.jsonl"
CHECKPOINTS = "checkpoints"
FINAL_MODEL = "model"
_STATE_FILE = "training_state.pt"


@dataclass(frozen=True)
class TrainConfig:
    """One training run; the profile's `[train]` (or `[pretrain.train]`) section gives these keys."""

    steps: int = 0  # optimizer steps, the schedule's length; 0: from `epochs`
    epochs: float = 0.0  # used when steps is 0
    batch_size: int = 16  # rows per micro-batch on each process (per device); the global one is x the processes
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 1e-3
    warmup_ratio: float = 0.02  # share of the steps with a linear warm-up from 0
    weight_decay: float = 0.01  # on matrices only (not on norms and biases)
    betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float = 1.0
    tags: bool = False  # targets `language {Name}<asr_text>...` instead of the paper's `language None<asr_text>...`
    seed: int = 0
    bucket_batches: int = 50  # batches drawn together and sorted by duration (length bucketing)
    curriculum: bool = False  # first epoch shortest first (SortaGrad)
    ctc_weight: float = 0.0  # weight of the auxiliary CTC loss (lionrepro.asr.ctc_auxiliary); 0: none
    spec_augment: dict[str, Any] = field(default_factory=dict)  # lionrepro.asr.spec_augment.SpecAugment's; {}: none
    threads: int = 0  # torch's CPU threads while training (float sums depend on it); 0: torch's default
    # bf16 autocast of the forward pass (weights, gradients and optimizer stay fp32): "auto" on CUDA only, "bf16" on any
    # device (a CPU with bf16 matrix units trains faster; the weights then depend on those units), "fp32" never
    precision: str = "auto"
    max_minutes: float = 0.0  # wall-clock budget over all sessions of the run; 0: none
    checkpoint_every: int = 200  # steps
    keep_checkpoints: int = 2
    log_every: int = 10  # steps between lines of the curve
    device: str = ""  # "": CUDA when available (one device per local rank), else CPU
    progress: bool = True

    @classmethod
    def from_section(cls, section: dict[str, Any], **overrides: Any) -> TrainConfig:
        """From a profile section, with the non-None `overrides` on top; an unknown key is an error, not ignored."""
        values = {**section, **{key: value for key, value in overrides.items() if value is not None}}
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(known)}")
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        if values.get("precision", "auto") not in PRECISIONS:
            raise ValueError(f"unknown precision {values['precision']!r}; known: {', '.join(PRECISIONS)}")
        return cls(**values)

    def autocast_bf16(self, device: torch.device) -> bool:
        """Whether the forward pass runs under bf16 autocast on `device`."""
        return self.precision == "bf16" or (self.precision == "auto" and device.type == "cuda")

    def total_steps(self, rows: int, processes: int = 1) -> int:
        if self.steps > 0:
            return self.steps
        if self.epochs <= 0:
            raise ValueError("set `steps` or `epochs` to a positive number")
        return max(1, math.ceil(self.epochs * (rows // (self.batch_size * processes)) / self.grad_accum))


# Settings that do not change the weights: they may change between a run and its resumption, and a result made
# under other values of them is not stale.
NOT_RESULT_AFFECTING = {"max_minutes", "checkpoint_every", "keep_checkpoints", "log_every", "device", "progress"}
# Settings added after fingerprints were first recorded, with the value that leaves training as it was: a fingerprint
# names them only when they are on, so the runs recorded before them keep their fingerprints.
_ADDED_LATER = {"ctc_weight": 0.0, "spec_augment": {}, "threads": 0, "precision": "auto"}
PRECISIONS = ("auto", "bf16", "fp32")


@dataclass
class TrainResult:
    """How a run ended; `rank` says which process this is (only rank 0 writes files)."""

    steps: int
    stopped_by: str  # "steps" or "time budget"
    loss: float | None  # mean loss of the last step
    wall_s: float  # over all sessions
    audio_seconds: float  # audio trained on, all processes
    tokens: int  # supervised tokens trained on
    steps_per_second: float  # this session
    resumed_from: int | None
    world_size: int
    rank: int
    weight_checksums: list[str]  # one per process; all equal
    model_dir: str
    curve: str
    fingerprint: dict[str, Any]  # what the weights depend on (see `run_fingerprint`)


class NonFiniteLossError(RuntimeError):
    """The loss or the gradient norm is NaN or infinite: the run stops before the step is applied."""

    def __init__(self, what: str, value: float, step: int, last_checkpoint: Path | None) -> None:
        where = f"the last checkpoint is {last_checkpoint}" if last_checkpoint else "no checkpoint was written yet"
        super().__init__(
            f"training stopped: the {what} is {value} at step {step} (not applied; {where}); "
            "lower the learning rate or inspect that step's data"
        )
        self.step = step


@dataclass
class _Progress:
    """What a checkpoint records besides the tensors: the data position and the running totals."""

    step: int = 0
    micro_batches: int = 0  # consumed since the start; gives (epoch, batch in epoch)
    audio_seconds: float = 0.0
    tokens: int = 0
    wall_s: float = 0.0


def epoch_batches(
    durations: np.ndarray, batch_size: int, seed: int, epoch: int, bucket_batches: int, shortest_first: bool
) -> np.ndarray:
    """Row indices of one epoch's batches, shape (batches, batch_size), a function of (seed, epoch) only.

    The rows are shuffled (the remainder beyond whole batches is dropped, so every process gets equal shards), then
    sorted by duration either all together (shortest first) or within buckets of `bucket_batches` batches whose
    order is shuffled again.
    """
    rng = np.random.default_rng([seed, epoch])
    count = len(durations) // batch_size
    order = rng.permutation(len(durations))[: count * batch_size]
    if shortest_first:
        return order[np.argsort(durations[order], kind="stable")].reshape(count, batch_size)
    bucket = bucket_batches * batch_size
    buckets = [order[i : i + bucket] for i in range(0, len(order), bucket)]
    batches = np.concatenate([b[np.argsort(durations[b], kind="stable")] for b in buckets]).reshape(count, batch_size)
    return batches[rng.permutation(count)]


def _batch_stream(rows: list[dict], config: TrainConfig, start: int, world_size: int) -> Iterator[np.ndarray]:
    """Global batches (row indices, `batch_size` per process) from micro-batch `start` on, epoch after epoch."""
    durations = np.array([row["duration"] for row in rows], dtype=np.float64)
    size = config.batch_size * world_size
    per_epoch = len(rows) // size
    epoch, index = divmod(start, per_epoch)
    while True:
        batches = epoch_batches(
            durations, size, config.seed, epoch, config.bucket_batches, config.curriculum and epoch == 0
        )
        yield from batches[index:]
        epoch, index = epoch + 1, 0


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only: decaying norm scales and biases only hurts."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _all_gather(process: Process, value: Any) -> list[Any]:
    if process.world_size == 1:
        return [value]
    gathered: list[Any] = [None] * process.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def run_fingerprint(config: TrainConfig, rows: list[dict], model: torch.nn.Module) -> dict[str, Any]:
    """What a run's weights depend on, besides the code: the settings that shape them, the number of processes (the
    global batch is `batch_size` x processes; named only when there are several, so that single-process fingerprints
    stay as recorded), the rows (ids, texts and durations, in order) and the weights it starts from. A checkpoint
    resumes only a run with the same fingerprint, and a finished run is reused only for one."""
    settings = {
        k: v
        for k, v in dataclasses.asdict(config).items()
        if k not in NOT_RESULT_AFFECTING and not (k in _ADDED_LATER and v == _ADDED_LATER[k])
    }
    if processes() > 1:
        settings["processes"] = processes()
    lines = (json.dumps([row["id"], row["text"], row["duration"]], ensure_ascii=False) for row in rows)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {
        "settings": json.loads(json.dumps(settings)),
        "rows": len(rows),
        "rows_sha256": digest,
        "initial_weights_sha256": weight_checksum(model),
    }


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest complete checkpoint (half-written ones are hidden `.step-*.tmp` folders and never match)."""
    found = sorted((Path(out_dir) / CHECKPOINTS).glob("step-*"))
    return found[-1] if found else None


def _save(
    out_dir: Path,
    model: torch.nn.Module,
    processor: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    progress: _Progress,
    fingerprint: dict[str, Any],
    rng_states: list[dict[str, Any]],
    keep: int,
    auxiliary: torch.nn.Module | None = None,
) -> Path:
    """Write checkpoint `step-NNNNNNN` to a hidden folder, rename it into place, then drop the oldest ones. The model
    is saved as a Qwen3-ASR checkpoint; an `auxiliary` head (CTC) goes into the training state beside the optimizer."""
    root = Path(out_dir) / CHECKPOINTS
    final = root / f"step-{progress.step:07d}"
    tmp = root / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_checkpoint(model, processor, tmp)
    state = {
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_states,
        "progress": dataclasses.asdict(progress),
        "fingerprint": fingerprint,
    }
    if auxiliary is not None:
        state["auxiliary"] = auxiliary.state_dict()
    torch.save(state, tmp / _STATE_FILE)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in sorted(root.glob("step-*"))[:-keep]:
        shutil.rmtree(old)
    return final


def _resume(
    checkpoint: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    fingerprint: dict[str, Any],
    process: Process,
    auxiliary: torch.nn.Module | None = None,
) -> _Progress:
    """Load a checkpoint into the live objects, after checking it belongs to this run."""
    state = torch.load(checkpoint / _STATE_FILE, map_location="cpu", weights_only=False)
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"{checkpoint} was written by a run with other settings or rows: {state['fingerprint']} != "
            f"{fingerprint}; use another output folder or delete {checkpoint.parent}"
        )
    saved_model, _ = load_checkpoint(checkpoint)
    model.load_state_dict(saved_model.state_dict())
    if auxiliary is not None:
        auxiliary.load_state_dict(state["auxiliary"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if process.rank < len(state["rng"]):
        _set_rng_state(state["rng"][process.rank])
    return _Progress(**state["progress"])


def weight_checksum(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer's bytes, in state-dict order: equal only for identical weights."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _open_curve(path: Path, through_step: int) -> TextIO:
    """The curve file for appending, without the lines of steps after `through_step` (redone after a resume)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    if path.exists():
        kept = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= through_step]
    path.write_text("".join(line + "\n" for line in kept))
    return path.open("a", encoding="utf-8")


def _shards(
    rows: list[dict],
    window: list[np.ndarray],
    processor: Any,
    config: TrainConfig,
    process: Process,
    first_micro_batch: int,
) -> list[dict[str, torch.Tensor]]:
    """This process's share of each global batch of the window, collated (SpecAugment'ed, with CTC targets when the
    run uses them) and on its device. `first_micro_batch` numbers the window's first batch since the run's start."""
    augment = SpecAugment(**config.spec_augment) if config.spec_augment else None
    shards = []
    for offset, batch in enumerate(window):
        mine = [rows[i] for i in batch[process.rank :: process.world_size]]
        tensors = collate(mine, processor, tags=config.tags)
        if augment is not None:
            features, mask = tensors["input_features"], tensors["input_features_mask"]
            positions = range(process.rank, len(batch), process.world_size)
            tensors["input_features"] = augment(features, mask, config.seed, first_micro_batch + offset, positions)
        if config.ctc_weight > 0:
            tensors.update(ctc_targets(mine, processor.tokenizer))
        shards.append({key: value.to(process.device, non_blocking=True) for key, value in tensors.items()})
    return shards


def _accumulate(
    net: torch.nn.Module,
    shards: list[dict[str, torch.Tensor]],
    process: Process,
    ctc_weight: float,
    rows: int,
    bf16: bool,
) -> tuple[float, float | None, int]:
    """Forward and backward over one accumulation window; (attention loss per supervised token, CTC loss per target
    token or None without CTC, tokens), all processes. `rows`: the window's rows on all processes.

    Each micro-batch's loss is its token-summed loss over the window's token count on all processes, times the
    number of processes (DDP averages the gradients): the gradient is the same as one process on the whole window.
    With CTC (`net` a HybridCtcAttention), the objective is (1 - ctc_weight) * attention + ctc_weight * CTC, CTC
    summed over rows and divided by `rows` the same way. Gradients are all-reduced on the last micro-batch only.
    `bf16`: the forward pass under bf16 autocast.
    """
    device = process.device  # collectives need tensors where the backend works: CPU for gloo, the GPU for NCCL
    tokens = sum((shard["labels"][:, 1:] != IGNORE_INDEX).sum() for shard in shards)
    if process.world_size > 1:
        dist.all_reduce(tokens)
    sums = torch.zeros(2, dtype=torch.float64, device=device)  # attention, CTC
    for index, shard in enumerate(shards):
        last = index == len(shards) - 1
        sync = net.no_sync() if process.world_size > 1 and not last else contextlib.nullcontext()
        with sync:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                if ctc_weight > 0:
                    attention, ctc_sum = net(**shard, num_items_in_batch=tokens)
                    ctc = ctc_sum / rows
                    loss = (1 - ctc_weight) * attention + ctc_weight * ctc
                    sums[1] += ctc.detach().double()
                else:
                    attention = loss = net(**shard, num_items_in_batch=tokens)
            (loss * process.world_size).backward()
        sums[0] += attention.detach().double()
    if process.world_size > 1:
        dist.all_reduce(sums)
    return float(sums[0]), float(sums[1]) if ctc_weight > 0 else None, int(tokens)


def _agree(process: Process, flag: bool) -> bool:
    """True on every process when it is true on any (a wall-clock budget must end all of them at the same step)."""
    if process.world_size == 1:
        return flag
    value = torch.tensor(int(flag), device=process.device)
    dist.all_reduce(value)
    return bool(value)


def _save_model_atomic(model: torch.nn.Module, processor: Any, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_checkpoint(model, processor, tmp)
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


class _Session:
    """One process's part of a run, from its start or its last checkpoint: the live objects and the progress."""

    def __init__(
        self, config: TrainConfig, model: torch.nn.Module, processor: Any, rows: list[dict], out_dir: Path
    ) -> None:
        self.config, self.model, self.processor, self.rows, self.out_dir = config, model, processor, rows, out_dir
        self.steps = config.total_steps(len(rows), processes())
        # what the optimizer trains and DDP wraps: the model under its loss (lionrepro.asr.supervised_loss), or with a
        # CTC head beside it (never saved in `model/`)
        self.auxiliary: HybridCtcAttention | None = None
        self.trainable: torch.nn.Module = AttentionLoss(model)
        if config.ctc_weight > 0:
            self.auxiliary = HybridCtcAttention(model, config.ctc_weight, config.seed)
            self.trainable = self.auxiliary.to(next(model.parameters()).device)
        self.optimizer = _optimizer(self.trainable, config)
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, round(config.warmup_ratio * self.steps), self.steps
        )
        self.fingerprint = run_fingerprint(config, rows, model)
        self.progress = _Progress()

    def resume(self, process: Process) -> int | None:
        """Continue from the last checkpoint, if there is one; its step."""
        checkpoint = latest_checkpoint(self.out_dir)
        if checkpoint is None:
            return None
        self.progress = _resume(
            checkpoint, self.model, self.optimizer, self.scheduler, self.fingerprint, process, self._head()
        )
        return self.progress.step

    def step(self, net: torch.nn.Module, window: list[np.ndarray], process: Process) -> dict[str, Any]:
        """One optimizer step over a window of global batches; its line of the curve (wall time not yet set)."""
        config = self.config
        shards = _shards(self.rows, window, self.processor, config, process, self.progress.micro_batches)
        rows = sum(len(batch) for batch in window)
        loss, ctc, tokens = _accumulate(
            net, shards, process, config.ctc_weight, rows, config.autocast_bf16(process.device)
        )
        step = self.progress.step + 1
        for what, value in (("loss", loss), ("CTC loss", ctc)):
            if value is not None and not math.isfinite(value):
                raise NonFiniteLossError(what, value, step, latest_checkpoint(self.out_dir))
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.trainable.parameters(), config.max_grad_norm))
        if not math.isfinite(grad_norm):
            raise NonFiniteLossError("gradient norm", grad_norm, step, latest_checkpoint(self.out_dir))
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        progress = self.progress
        progress.step = step
        progress.micro_batches += len(window)
        progress.audio_seconds += float(sum(self.rows[i]["duration"] for batch in window for i in batch))
        progress.tokens += tokens
        line = {
            "step": step,
            "loss": loss,
            "lr": lr,
            "grad_norm": grad_norm,
            "audio_seconds": round(progress.audio_seconds, 3),
            "tokens": progress.tokens,
        }
        if ctc is not None:  # `loss` stays the attention loss, comparable with runs without CTC
            line["ctc_loss"] = ctc
        return line

    def save(self, process: Process) -> None:
        """A checkpoint (every process contributes its RNG state; rank 0 writes)."""
        rng = _all_gather(process, _rng_state())
        if process.main:
            _save(
                self.out_dir,
                self.model,
                self.processor,
                self.optimizer,
                self.scheduler,
                self.progress,
                self.fingerprint,
                rng,
                self.config.keep_checkpoints,
                self._head(),
            )

    def _head(self) -> torch.nn.Module | None:
        """The CTC head, whose weights the checkpoints keep in their training state; None without CTC."""
        return self.auxiliary.head if self.auxiliary is not None else None


def _loop(session: _Session, process: Process) -> tuple[str, float | None]:
    """Steps until the schedule's end or the wall-clock budget, with progress bar, curve and checkpoints."""
    config, progress = session.config, session.progress
    net = session.trainable
    if process.world_size > 1:
        net = DistributedDataParallel(net, device_ids=[process.device] if process.device.type == "cuda" else None)
    batches = _batch_stream(session.rows, config, progress.micro_batches, process.world_size)
    curve = _open_curve(session.out_dir / CURVE, progress.step) if process.main else None
    show = config.progress and process.main
    bar = tqdm(total=session.steps, initial=progress.step, disable=not show, unit="step")
    clock_offset = progress.wall_s - time.perf_counter()
    loss = None
    try:
        while progress.step < session.steps:
            line = session.step(net, [next(batches) for _ in range(config.grad_accum)], process)
            progress.wall_s = clock_offset + time.perf_counter()
            line["wall_s"] = round(progress.wall_s, 3)
            loss, step = line["loss"], line["step"]
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{line['lr']:.2e}")
            out_of_time = _agree(process, 0 < config.max_minutes * 60 < progress.wall_s)
            if curve is not None and (step % config.log_every == 0 or step == session.steps or out_of_time):
                curve.write(json.dumps(line) + "\n")
                curve.flush()
            if out_of_time:
                return "time budget", loss
            if step % config.checkpoint_every == 0 and step < session.steps:
                session.save(process)
    finally:
        bar.close()
        if curve is not None:
            curve.close()
    return "steps", loss


def train(config: TrainConfig, model: torch.nn.Module, processor: Any, rows: list[dict], out_dir: Path) -> TrainResult:
    """Train `model` on `rows` (manifest rows; repeats allowed) into `out_dir`, resuming from its last checkpoint.

    Writes `curve.jsonl` (step, loss, lr, gradient norm, audio seconds, tokens, wall seconds), `checkpoints/step-*`
    every `checkpoint_every` steps and at the end, and the final model (with its processor) in `model/`. Under
    `torchrun` every process calls this with the same arguments; only rank 0 writes.
    """
    out_dir = Path(out_dir)
    with process_group(config.device) as process, torch_threads(config.threads):
        if len(rows) < config.batch_size * process.world_size:
            raise UserError(
                f"{len(rows)} rows cannot fill one global batch of {config.batch_size} per process x "
                f"{process.world_size} processes"
            )
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        model.to(process.device).train()
        session = _Session(config, model, processor, rows, out_dir)
        resumed_from = session.resume(process)
        began, first_step = time.perf_counter(), session.progress.step
        stopped_by, loss = _loop(session, process)
        session_s = time.perf_counter() - began
        session.save(process)
        checksums = _all_gather(process, weight_checksum(model))
        if len(set(checksums)) != 1:
            raise RuntimeError(f"the processes' weights differ after training: {checksums}")
        if process.main:
            _save_model_atomic(model, processor, out_dir / FINAL_MODEL)
        if process.world_size > 1:
            dist.barrier()  # the others wait until rank 0 has written, so the job ends with its files in place
        progress = session.progress
        return TrainResult(
            steps=progress.step,
            stopped_by=stopped_by,
            loss=loss,
            wall_s=progress.wall_s,
            audio_seconds=progress.audio_seconds,
            tokens=progress.tokens,
            steps_per_second=(progress.step - first_step) / session_s,
            resumed_from=resumed_from,
            world_size=process.world_size,
            rank=process.rank,
            weight_checksums=checksums,
            model_dir=str(out_dir / FINAL_MODEL),
            curve=str(out_dir / CURVE),
            fingerprint=session.fingerprint,
        )
