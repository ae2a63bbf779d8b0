"""Test-wide settings and fixtures: no test may reach a model hub."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402 - after the hub is switched off

from lionrepro.asr import architectures  # noqa: E402


@pytest.fixture(scope="module")
def tiny_qwen():
    """A Qwen3-ASR a few hundred times smaller than the real ones, random weights (`architectures.TINY`)."""
    return architectures.build(architectures.TINY.name)
