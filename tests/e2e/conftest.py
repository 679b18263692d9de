"""The browser the admin test drives: Debian's Chromium, checked before anything is started for it."""

import subprocess
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "install it with: sudo apt-get install chromium chromium-driver (.ci/run does this when it is missing)"


def chromium_or_fail(path: str = CHROMIUM) -> str:
    """`path` when it is a Chromium that starts; otherwise fail the test with one line saying how to get it."""
    if not Path(path).is_file():
        pytest.fail(f"The admin browser test needs Chromium at {path}, which does not exist: {INSTALL_HINT}", pytrace=False)
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"Chromium at {path} does not start ({exc}): {INSTALL_HINT}", pytrace=False)
    if version.returncode != 0 or "chrom" not in version.stdout.lower():
        detail = (version.stderr or version.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.fail(f"Chromium at {path} does not start ({detail[0]}): {INSTALL_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_or_fail()
