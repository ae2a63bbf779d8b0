"""Which torch device a run uses: the one rule for training, evaluation and the speed and cost measurements."""

from __future__ import annotations

import torch


def select_device(request: str | None = None, local_rank: int = 0) -> torch.device:
    """CUDA (the local rank's GPU) when available, else the CPU; `request` ("cpu", "cuda") overrides."""
    kind = request or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(kind, local_rank) if kind == "cuda" else torch.device(kind)
