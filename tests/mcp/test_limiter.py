"""The in-process moving window behind the MCP rate and capacity limits (the embedded default)."""

import time

from mcpbridge.server.limiter import LocalWindows


def test_moving_window_grants_up_to_the_maximum_then_says_when_a_unit_frees_up():
    windows = LocalWindows()
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is None
    time.sleep(0.3)
    assert windows.hit("requests_per_minute", "t1", 3, 1, 2) is None
    wait = windows.hit("requests_per_minute", "t1", 3, 1, 1)
    # The first hit leaves the window first, 1 s after it was taken.
    assert wait is not None and 0.5 < wait <= 0.7
    # A call costing 2 must wait for the later pair as well.
    assert 0.9 < windows.hit("requests_per_minute", "t1", 3, 1, 2) <= 1.0
    # Other tenants and other limits have their own windows.
    assert windows.hit("requests_per_minute", "t2", 3, 1, 3) is None
    assert windows.hit("s3_requests_per_second", "t1", 3, 1, 1) is None
    time.sleep(wait + 0.05)
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is None
    assert windows.hit("requests_per_minute", "t1", 3, 1, 1) is not None


def test_a_call_costing_more_than_the_maximum_never_fits():
    windows = LocalWindows()
    assert windows.hit("dynamodb_write_units_per_second", "t1", 2, 1, 3) == 1.0
    assert windows.hit("dynamodb_write_units_per_second", "t1", 0, 1, 1) == 1.0
    # Refusals take nothing from the window.
    assert windows.hit("dynamodb_write_units_per_second", "t1", 2, 1, 2) is None
