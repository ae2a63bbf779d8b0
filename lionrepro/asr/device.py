"""Which torch device a run uses: the one rule for training, evaluation and the speed and cost measurements."""

from __future__ import annotations

import torch

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
