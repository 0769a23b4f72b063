"""Atomic single-file outputs: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from landcheck.errors import OutputExistsError, WriteError

__all__ = ["atomic_file"]


@contextlib.contextmanager
def atomic_file(path, *, overwrite: bool = False):
    """Yield a temporary path; on success it replaces ``path`` in one rename.

    An existing ``path`` is refused unless ``overwrite``; on any error the temporary
    file is removed and the target is untouched.
    """
    target = Path(os.fspath(path)).expanduser().absolute()
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                "to replace it")
    if not target.parent.is_dir():
        raise WriteError(f"{target}: folder {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, target)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OutputExistsError | WriteError) or not isinstance(exc, Exception):
            raise
        raise WriteError(f"{target}: could not be written ({type(exc).__name__}: {exc}); "
                         "nothing was changed") from exc
