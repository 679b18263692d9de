"""What the browser tests share: where Chromium is and how it is started (never a downloaded browser)."""

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


INSTALL_HINT = "install it with: sudo apt-get install chromium chromium-driver (.ci/run does this when it is missing)"


def chromium_or_fail(path: str = CHROMIUM) -> str:
    """`path` when it is a Chromium that starts; otherwise fail the test with one line saying how to get it."""
    if not Path(path).is_file():
        pytest.fail(f"The browser tests need Chromium at {path}, which does not exist: {INSTALL_HINT}", pytrace=False)
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"Chromium at {path} does not start ({exc}): {INSTALL_HINT}", pytrace=False)
    if version.returncode != 0 or "chrom" not in version.stdout.lower():
        detail = (version.stderr or version.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.fail(f"Chromium at {path} does not start ({detail[0]}): {INSTALL_HINT}", pytrace=False)
    return path


def launch(p):
    return p.chromium.launch(executable_path=chromium_or_fail(), args=CHROMIUM_ARGS, headless=True)
