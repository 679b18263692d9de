"""The policy version, mirrored in a small file every process on the machine shares, so the per-call question
"has any policy changed?" costs one pread instead of a database read (and, over HTTP, a worker-thread hop).

The database stays the truth; the file only says which version is current:
- every committed bump publishes the version it committed (tenants.policy.version.policy_version_bump), before
  the request that made the change is answered, so the next call anywhere on the machine sees it;
- every database read of the version checks the file against it and repairs the file when it is behind (a
  process that died between its commit and its publish), and a process trusts the file only for
  TRUST_SECONDS after its own last such check, so a file nobody can repair costs database reads, never
  stale answers for longer than that.

Writers hold an exclusive lock and write what they read from the database under it, so the file never moves
backwards past a newer committed version. Readers take no lock: the version is stored with its complement, and
a read that catches a write half done does not match and counts as unknown.
"""

import fcntl
import logging
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

TRUST_SECONDS = 0.5
_LAYOUT = struct.Struct("<QQ")
_MASK = (1 << 64) - 1


class VersionFile:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._trusted_until = 0.0
        self._complained = False

    def read(self) -> int | None:
        """The published version, or None when there is none (yet) or it cannot be read."""
        fd = self._fd if self._fd is not None else self._open()
        if fd is None:
            return None
        try:
            data = os.pread(fd, _LAYOUT.size, 0)
        except OSError:
            return None
        if len(data) != _LAYOUT.size:
            return None
        version, check = _LAYOUT.unpack(data)
        return version if check == version ^ _MASK else None

    def trusted(self) -> int | None:
        """The published version when this process checked the file against the database recently."""
        if time.monotonic() >= self._trusted_until:
            return None
        return self.read()

    def observed(self, stored: int, read_stored: Callable[[], int]) -> None:
        """`stored` was just read from the database (committed state): trust the file again when it agrees,
        else publish (repair) and trust it once that worked."""
        self._reopen_if_replaced()
        if self.read() == stored or self.publish(read_stored):
            self._trusted_until = time.monotonic() + TRUST_SECONDS
        else:
            self._trusted_until = 0.0

    def publish(self, read_stored: Callable[[], int]) -> bool:
        """Write the committed version, read under the writers' lock. False when the file cannot be written."""
        fd = self._fd if self._fd is not None else self._open()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                version = read_stored()
                os.pwrite(fd, _LAYOUT.pack(version & _MASK, (version & _MASK) ^ _MASK), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            self._complain(exc)
            return False
        return True

    def forget_trust(self) -> None:
        self._trusted_until = 0.0

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._trusted_until = 0.0

    def _reopen_if_replaced(self) -> None:
        # A file deleted or replaced under us would keep us reading a copy nobody publishes to any more.
        with self._lock:
            if self._fd is None:
                return
            try:
                same = os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
            except OSError:
                same = False
            if not same:
                os.close(self._fd)
                self._fd = None

    def _open(self) -> int | None:
        with self._lock:
            if self._fd is None:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                except OSError as exc:
                    self._complain(exc)
                    return None
            return self._fd

    def _complain(self, exc: OSError) -> None:
        if not self._complained:
            self._complained = True
            logger.warning(
                "Policy version file %s is not usable (%s); the version is read from the database on every call",
                self.path,
                exc.strerror or exc,
            )
