"""Fingerprints: what a result depends on besides the code, recorded with it, and how two of them differ.

A stage records the inputs that shape its results (the profile values that affect them, the manifests' content, the
checkpoint it starts from); a later run reuses the result only when they match, and the claims fail on a committed
result whose inputs no longer match the profile and data of the checkout (`lionrepro.claims.staleness`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label(path: tuple[str, ...]) -> str:
    """`("profile", "train", "steps")` -> `[train] steps`; other inputs by their dotted path."""
    if path[:1] == ("profile",) and len(path) > 2:
        return f"[{'.'.join(path[1:-1])}] {path[-1]}"
    if path[:1] == ("profile",):
        return f"profile {path[-1]}"
    return " ".join(path)


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12]  # a sha256
    return "(absent)" if value is None else repr(value) if isinstance(value, str) else str(value)


def differences(recorded: Any, current: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Each input whose value differs, as `[train] steps 800 -> 801`; keys present on one side only count."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        found = []
        for key in sorted(set(recorded) | set(current)):
            found += differences(recorded.get(key), current.get(key), (*path, str(key)))
        return found
    if recorded == current:
        return []
    return [f"{_label(path)} {_show(recorded)} -> {_show(current)}"]
