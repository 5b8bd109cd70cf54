"""External programs some tests need (Spectral, Chromium, Docker), found or explained.

On a developer's machine a missing program skips its tests with the way to install it.
``.ci/run`` installs Spectral and Chromium and sets ``SKYMOCK_REQUIRE_TOOLS=1``: there a
missing program fails the test instead, so the gate cannot pass by skipping them.
"""
from __future__ import annotations

import os
import shutil

import pytest

REQUIRED = os.environ.get("SKYMOCK_REQUIRE_TOOLS") == "1"


def program(name: str, install: str, *, optional: bool = False) -> str:
    """The path of ``name`` on PATH; otherwise skip (or fail where the gate requires it) saying how to get it.

    ``optional`` programs (a Docker engine) are never required: the gate runs on machines without them."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: {install}"
    if REQUIRED and not optional:
        pytest.fail(message + " (.ci/run installs it; SKYMOCK_REQUIRE_TOOLS=1 makes its absence a failure)")
    pytest.skip(message)
