"""Profiles (`tiny`, `paper`) as small TOML files shipped in the package; stages read only their own section."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from lionrepro.errors import UserError

PROFILES = ("tiny", "paper")


def load_profile(name_or_path: str = "tiny") -> dict[str, Any]:
    """A shipped profile by name, or a TOML file by path (a user's own variant of one)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return tomllib.loads(path.read_text(encoding="utf-8"))
    if name_or_path not in PROFILES:
        raise UserError(f"unknown profile {name_or_path!r}: use one of {PROFILES} or the path of a .toml file")
    text = resources.files("lionrepro.profiles").joinpath(f"{name_or_path}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
