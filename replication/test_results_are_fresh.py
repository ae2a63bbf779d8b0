"""The committed results the measured claims read are still those of this checkout's profile and data: a change to
a result-affecting setting fails here, with the command that refreshes the result, instead of passing on stale
numbers. `LIONREPRO_PROFILE` names the profile (`lionrepro --profile X claims` sets it); default `tiny`."""

import os

import pytest

from lionrepro.claims.staleness import PROFILE_VARIABLE, stale_experiments
from lionrepro.config import load_profile


@pytest.mark.claims
def test_the_experiments_results_match_the_profile_data_and_base():
    problems = stale_experiments(load_profile(os.environ.get(PROFILE_VARIABLE, "tiny")))
    assert not problems, "\n".join(problems)
