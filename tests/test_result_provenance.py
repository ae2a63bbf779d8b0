"""What the report says of a result's code, read from this repository's own history: a check defined after the
results it reads is post hoc, and the modules changed since a result was made are named."""

import subprocess

from lionrepro.claims.staleness import code_changes, introduced_in, made_by, post_hoc
from lionrepro.provenance import REPO_ROOT

GPU_RESULTS = "fad8e2191ab018ebfde5b8cf64fbb8561c684c3e"  # results/measured/gpu-h200-run*/ were made here
ISSUE5_RESULTS = "8546d819b997df92f98f979871963a56e64fd5c4"  # issue 5's experiments were made here


def _head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()


def test_a_check_written_after_its_results_is_post_hoc():
    # issue 5's Tamil check entered with commit 76c418f, which also brought the results it reads, made at 8546d81
    assert introduced_in("recipe against the base, Tamil").startswith("76c418f")
    reason = post_hoc("recipe against the base, Tamil", ISSUE5_RESULTS)
    assert "defined at commit 76c418f" in reason and ISSUE5_RESULTS[:12] in reason
    # the size check was declared (pending) before the GPU runs it reads
    assert post_hoc("exact parameter counts", GPU_RESULTS) == ""


def test_a_check_that_was_there_first_is_not():
    assert post_hoc("exact parameter counts", _head()) == ""
    assert post_hoc("a name no commit ever held", _head()) == ""


def test_the_modules_changed_since_a_result_are_named():
    assert "lionrepro/claims/staleness.py" in code_changes(GPU_RESULTS)
    assert code_changes(_head()) == () or all(path.startswith("lionrepro/") for path in code_changes(_head()))
    assert made_by({"commit": GPU_RESULTS}).startswith(f"made by code {GPU_RESULTS[:12]}; changed since in")
