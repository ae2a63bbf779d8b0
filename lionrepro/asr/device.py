"""Which torch device a run uses, and its place in a `torchrun` job: the one rule for training, evaluation and the
speed and cost measurements."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

from lionrepro.errors import UserError


def select_device(request: str | None = None, local_rank: int = 0) -> torch.device:
    """CUDA (the local rank's GPU) when available, else the CPU; `request` ("cpu", "cuda") overrides."""
    kind = request or ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.device(kind).type == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"--device {request} asks for a GPU, but torch {torch.__version__} sees none here: "
            "use --device cpu, or leave --device out to take a GPU when there is one"
        )
    return torch.device(kind, local_rank) if kind == "cuda" else torch.device(kind)


@dataclass(frozen=True)
class Process:
    """This process's rank, the job's size and the device it runs on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def processes() -> int:
    """How many processes this job has (`torchrun` sets WORLD_SIZE; 1 without it)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


@contextlib.contextmanager
def process_group(request: str | None) -> Iterator[Process]:
    """This process's place in a `torchrun` job, a group of one without it: gloo on the CPU, NCCL on GPUs, each
    process on its local rank's GPU. A group already initialised is joined, not torn down."""
    world_size = processes()
    device = select_device(request, int(os.environ.get("LOCAL_RANK", "0")))
    if world_size == 1:
        yield Process(0, 1, device)
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owned = not dist.is_initialized()
    if owned:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield Process(dist.get_rank(), world_size, device)
    finally:
        if owned:
            dist.destroy_process_group()


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op CPU threads set to `threads` inside the block (0: left as they are), restored after. On the
    tiny profile's 2 cores two one-thread runs side by side beat one two-thread run (issue 13's training benchmark),
    and a run's float sums depend on the count, so runs that must match set it."""
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
