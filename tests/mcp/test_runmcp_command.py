"""`runmcp` becomes a serving process only once it is going to serve."""

import pytest
from django.core.management import CommandError, call_command

from mcpbridge.services.outbox import embedded_drainer


@pytest.mark.django_db
def test_a_refused_runmcp_leaves_the_calling_process_as_it_was():
    with pytest.raises(CommandError):
        call_command("runmcp", api_key="cpk_00000000_" + "x" * 43)
    # An outbox drain loop left running here would deliver events behind the back of whatever runs next.
    assert not embedded_drainer.running
