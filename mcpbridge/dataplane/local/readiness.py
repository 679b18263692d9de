"""Is the embedded data plane usable right now? Its tables live in the database (checked on their own); its
artifact files need a writable directory."""

import os
import tempfile
from pathlib import Path

from django.conf import settings


def probe() -> None:
    root = Path(settings.DATAPLANE_LOCAL_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=root, prefix=".readyz-")
    os.close(descriptor)
    os.unlink(name)
