"""Give results made on a lent GPU machine the commit whose source made them, proven by the source hash.

The device machine receives a copy of the working tree whose git metadata can lag behind (it stamped
`<session start>+dirty` on results made from a later, clean commit). Every provenance block also carries
`source_sha256`, the hash of the package's source and data; this script hashes the package at each of the
recent commits, and where one matches it records that commit (keeping the device's stale HEAD as `device_git_head`).
A file whose hash matches no commit is left as it is and reported: it was made by uncommitted code.
Usage: python benchmarks/attest_device_results.py RESULTS.json... [--commits 30]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lionrepro.provenance import commit_source_hashes, write_json_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--commits", type=int, default=30)
    args = parser.parse_args(argv)
    hashes = commit_source_hashes(args.commits)
    unmatched = 0
    for path in args.files:
        results = json.loads(path.read_text(encoding="utf-8"))
        stamp = results["provenance"]
        commit = hashes.get(stamp["source_sha256"])
        if commit is None:
            print(f"{path}: source matches none of the last {args.commits} commits; left as {stamp['commit']}")
            unmatched += 1
            continue
        if stamp["commit"] != commit:
            stamp.setdefault("device_git_head", stamp["commit"].removesuffix("+dirty"))
            stamp["commit"] = commit
            stamp["commit_attested_by"] = "source_sha256 equals the package's hash at this commit"
            write_json_atomic(path, results)
        print(f"{path}: made by commit {commit}")
    return 1 if unmatched else 0


if __name__ == "__main__":
    sys.exit(main())
