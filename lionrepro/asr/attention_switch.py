"""Switch a model's attention modules to another registered attention function for a while, then back.

transformers reads `config._attn_implementation` at every forward, so setting it on the configs the chosen modules
hold changes their kernel without rebuilding the model; the decode levers and the windowed audio encoder use this.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from torch import nn


def _is_attention(module: nn.Module) -> bool:
    return type(module).__name__.endswith("Attention")


@contextlib.contextmanager
def attention_implementation(
    model: nn.Module, name: str, chosen: Callable[[nn.Module], bool] = _is_attention
) -> Iterator[None]:
    """The configs of `model`'s `chosen` modules (default: every attention module) on the attention function `name`,
    restored on exit; a model with no such module is refused."""
    configs = {
        id(m.config): m.config
        for m in model.modules()
        if chosen(m) and hasattr(getattr(m, "config", None), "_attn_implementation")
    }
    if not configs:
        raise ValueError(f"{type(model).__name__} has no module to put on {name}")
    previous = {key: config._attn_implementation for key, config in configs.items()}
    for config in configs.values():
        config._attn_implementation = name
    try:
        yield
    finally:
        for key, config in configs.items():
            config._attn_implementation = previous[key]
