"""The upper bound of a prefix range, at the edges of Unicode."""

import pytest

from mcpbridge.dataplane.local.keyorder import prefix_upper_bound


@pytest.mark.parametrize("prefix, bound", [
    ("log/", "log0"),
    ("a", "b"),
    ("Z", "["),
    ("x\ud7ff", "x\ue000"),
    ("x\U0010ffff", "y"),
    ("\U0010ffff\U0010ffff", None),
])
def test_the_upper_bound_is_the_next_string_after_every_extension(prefix, bound):
    assert prefix_upper_bound(prefix) == bound
