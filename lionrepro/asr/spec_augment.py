"""SpecAugment (Park et al. 2019) on a training batch's log-mel features: frequency and time masks, base pretraining
only unless a profile asks otherwise.

Frequency masks of up to `freq_width` mel bins and time masks of up to `time_width` of each clip's frames (the
adaptive time masks of Park et al. 2020: Lion-12's clips are 1-5 s, so a fixed 100-frame mask would hide most of one).
Masked values are the clip's mean over its valid frames (the paper's features are mean-normalised, so its zeros are
that mean); padded frames stay zero. torchaudio's FrequencyMasking and TimeMasking do the same per batch, but they draw
from the global random state and torchaudio pins torch's exact version, so it is not a dependency here: each row's
masks are drawn from a generator seeded by (seed, micro-batch, row), so a run and its resumption mask alike, on any
number of processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class SpecAugment:
    freq_masks: int = 2
    freq_width: int = 27  # mel bins, at most
    time_masks: int = 2
    time_width: float = 0.05  # share of the clip's valid frames, at most

    def __call__(
        self, features: torch.Tensor, mask: torch.Tensor, seed: int, micro_batch: int, positions: Sequence[int]
    ) -> torch.Tensor:
        """Masked copy of `features` (rows, mel bins, frames); `mask` (rows, frames) marks valid frames. Row i's masks
        depend only on (seed, micro_batch, positions[i]), its place in the global batch."""
        out = features.clone()
        bins = features.shape[1]
        for row in range(features.shape[0]):
            state = np.random.SeedSequence([seed, micro_batch, positions[row]]).generate_state(1, dtype=np.uint64)
            generator = torch.Generator().manual_seed(int(state[0]) >> 1)
            valid = int(mask[row].sum())
            if valid == 0:
                continue
            fill = out[row, :, :valid].mean()
            for _ in range(self.freq_masks):
                start, width = _span(bins, self.freq_width, generator)
                out[row, start : start + width, :valid] = fill
            for _ in range(self.time_masks):
                start, width = _span(valid, int(self.time_width * valid), generator)
                out[row, :, start : start + width] = fill
        return out


def _span(length: int, most: int, generator: torch.Generator) -> tuple[int, int]:
    """(start, width) of one mask: width uniform in [0, most], start uniform where it fits."""
    width = int(torch.randint(0, max(0, min(most, length)) + 1, (1,), generator=generator))
    start = int(torch.randint(0, length - width + 1, (1,), generator=generator))
    return start, width
