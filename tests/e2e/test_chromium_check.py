"""Without a working Chromium the browser test fails with one line that says how to install it."""

import pytest

from tests.e2e.browser import chromium_or_fail


def test_a_missing_chromium_fails_with_the_install_command(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failure:
        chromium_or_fail(str(tmp_path / "chromium"))
    assert "does not exist" in str(failure.value)
    assert "apt-get install chromium chromium-driver" in str(failure.value)
    assert not failure.value.pytrace


def test_a_chromium_that_does_not_start_fails_with_the_install_command(tmp_path):
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries: libnss3.so' >&2\nexit 127\n")
    broken.chmod(0o755)
    with pytest.raises(pytest.fail.Exception) as failure:
        chromium_or_fail(str(broken))
    assert "libnss3.so" in str(failure.value) and "apt-get install chromium" in str(failure.value)


def test_this_machine_has_a_working_chromium():
    assert chromium_or_fail().endswith("chromium")
