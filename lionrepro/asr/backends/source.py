"""Where a model's files are, and which weights they hold: `--model` names a folder or a hub id, and a hub id is
resolved only through the local Hugging Face cache (evaluation never downloads). The weights are identified by
content, so that results and a resumed evaluation name exactly the weights they came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError

from lionrepro.errors import UserError
from lionrepro.fingerprints import file_sha256

_WEIGHTS = ("*.safetensors", "*.bin", "*.pt")


@dataclass(frozen=True)
class ModelSource:
    """A model as given (`name`), the local folder it resolved to, the hub revision (commit) when it came from the
    cache, and the sha256 of each weights file."""

    name: str
    folder: Path
    revision: str | None
    weights: dict[str, str]

    @property
    def weights_sha256(self) -> str:
        """One digest over every weights file's name and sha256."""
        return hashlib.sha256(json.dumps(self.weights, sort_keys=True).encode()).hexdigest()

    def record(self) -> dict[str, object]:
        return {"model": self.name, "folder": str(self.folder), "revision": self.revision,
                "weights_sha256": self.weights_sha256, "weights_files": self.weights}  # fmt: skip


def _sha256(path: Path) -> str:
    """A file's sha256; free for a file of the hub cache, whose blob is named by it (large files are stored in the
    cache as blobs named by their sha256)."""
    if path.is_symlink():
        blob = Path(os.readlink(path)).name
        if len(blob) == 64 and all(c in "0123456789abcdef" for c in blob):
            return blob
    return file_sha256(path)


def resolve(model: str, option: str = "--model") -> ModelSource:
    """The folder `model` names, or the cached snapshot of the hub id `model` (offline); a UserError saying how to
    get it when it is neither. `option` names where the user gave it (`--model`, `--base`, `[pretrain] base`)."""
    folder, revision = Path(model), None
    if not folder.is_dir():
        if model.count("/") != 1 or model.startswith((".", "/")):
            raise UserError(f"no checkpoint at {model}: no such folder, and not a hub id (owner/name)")
        try:
            folder = Path(snapshot_download(model, local_files_only=True, cache_dir=os.environ.get("HF_HUB_CACHE")))
        except LocalEntryNotFoundError:
            raise UserError(
                f"{option} {model}: not a folder, and not in the local Hugging Face cache; download it first "
                f"(`hf download {model}` where the hub can be reached, then copy the cache here) or pass its folder"
            ) from None
        revision = folder.name
    weights = {path.name: _sha256(path) for pattern in _WEIGHTS for path in sorted(folder.glob(pattern))}
    if not weights:
        raise UserError(f"{option} {model}: {folder} holds no weights file ({', '.join(_WEIGHTS)})")
    return ModelSource(model, folder, revision, weights)
