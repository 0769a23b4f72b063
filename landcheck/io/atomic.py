"""Atomic single-file outputs: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from landcheck.errors import OutputExistsError, WriteError

__all__ = ["atomic_file"]


@contextlib.contextmanager
def atomic_file(path, *, overwrite: bool = False):
    """Yield a temporary path; on success it replaces ``path`` in one rename.

    An existing ``path`` is refused unless ``overwrite``, also when it appears while the
    temporary file is written (the publish fails rather than replaces it). The file is
    flushed to disk before it moves; on any error the temporary file is removed and the
    target is untouched; a full disk is a :class:`WriteError` saying so. Temporary files
    of an interrupted earlier run to the same target are removed first. Inside
    :func:`landcheck.io.write.output_set` the file is published with the set's others.
    """
    from landcheck.io.write import (
        defer_publish,
        disk_full,
        disk_full_error,
        make_staging_dir,
        publish,
    )

    target = Path(os.fspath(path)).expanduser().absolute()
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                "to replace it")
    if not target.parent.is_dir():
        raise WriteError(f"{target}: folder {target.parent} does not exist")
    tmpdir = make_staging_dir(target)
    tmp_path = tmpdir / target.name
    deferred = False
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        deferred = defer_publish(tmp_path, target, "file", tmpdir, overwrite)
        if not deferred:
            publish(tmp_path, target, overwrite=overwrite)
    except BaseException as exc:
        if isinstance(exc, OutputExistsError | WriteError) or not isinstance(exc, Exception):
            raise
        if disk_full(exc):
            raise disk_full_error(target, exc) from exc
        raise WriteError(f"{target}: could not be written ({type(exc).__name__}: {exc}); "
                         "nothing was changed") from exc
    finally:
        if not deferred:  # inside an output set, the set publishes and removes it
            shutil.rmtree(tmpdir, ignore_errors=True)
