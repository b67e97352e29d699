"""Gzip members for the WARC files, through ISA-L where it is installed.

``isal`` (python-isal, Python bindings of Intel's ISA-L, a dependency of the project) writes
and reads the same gzip as zlib at a fraction of its CPU: on a 55 KB page, level 1 takes
0.15 ms against zlib's 0.6 ms for a slightly smaller member, and inflating takes 0.08 ms
against 0.18 ms. That is most of what the archive costs a crawl and a third of what a
reparse spends besides parsing. ISA-L has levels 0-3 only: ``ARCHIVE_COMPRESS_LEVEL`` 1-3
are ISA-L's, 4-9 (smaller files for more CPU) are zlib's, as before. Without isal (a
platform it has no wheel for) everything is zlib's.
"""

from __future__ import annotations

import zlib
from typing import Any

isal_zlib: Any
try:
    from isal import isal_zlib
except ImportError:  # pragma: no cover - isal is a dependency; its wheels cover the usual platforms
    isal_zlib = None

GZIP = zlib.MAX_WBITS | 16  # a gzip header and trailer around the deflate stream
ISAL_LEVELS = range(0, 4)
# What a damaged member raises, from either library.
ERRORS: tuple[type[Exception], ...] = (zlib.error,) + (
    (isal_zlib.error,) if isal_zlib is not None else ()
)
_inflate: Any = isal_zlib if isal_zlib is not None else zlib


def gzip_member(data: bytes, level: int) -> bytes:
    """``data`` as one gzip member (ISA-L for levels it has, else zlib)."""
    library: Any = isal_zlib if isal_zlib is not None and level in ISAL_LEVELS else zlib
    compressor = library.compressobj(level, library.DEFLATED, GZIP)
    return compressor.compress(data) + compressor.flush()


class DamagedMember(ValueError):
    """A gzip member that does not inflate. ISA-L's own error cannot be pickled (its module is
    not importable by its name), and a reparse worker's errors travel back to the crawl."""


def inflate(member: bytes) -> bytes:
    """One whole gzip member, inflated (``DamagedMember`` if it does not inflate)."""
    try:
        return _inflate.decompress(member, GZIP)
    except ERRORS as exc:
        raise DamagedMember(f"a gzip member does not inflate: {exc}") from None


def inflater() -> Any:
    """A streaming inflater of one gzip member (``decompress``, ``eof``, ``unused_data``)."""
    return _inflate.decompressobj(GZIP)
