"""The archive's gzip members: what ISA-L writes is plain gzip to any reader, and what zlib
(or another tool) wrote reads back, at every level."""

from __future__ import annotations

import gzip
import pickle
import zlib

import pytest

from tressless_crawler.archive import deflate

PAGE = b"<html><body>" + b"".join(b"<p>Finasteride %d mg</p>" % n for n in range(3000)) + b"</html>"


@pytest.mark.parametrize("level", range(1, 10))
def test_a_member_of_any_level_is_gzip_to_zlib_and_to_gzip(level: int) -> None:
    member = deflate.gzip_member(PAGE, level)
    assert zlib.decompress(member, zlib.MAX_WBITS | 16) == PAGE
    assert gzip.decompress(member) == PAGE
    assert deflate.inflate(member) == PAGE
    assert len(member) < len(PAGE) / 5


def zlib_member(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def test_levels_one_to_three_are_isa_l_s_and_four_to_nine_zlib_s() -> None:
    assert deflate.isal_zlib is not None  # a dependency: the archive's speed depends on it
    for level in (1, 2, 3):
        assert deflate.gzip_member(PAGE, level) != zlib_member(PAGE, level)
    for level in range(4, 10):
        assert deflate.gzip_member(PAGE, level) == zlib_member(PAGE, level)


def test_a_member_zlib_wrote_reads_back_and_a_cut_one_is_an_error_that_pickles() -> None:
    member = zlib_member(PAGE, 6)
    assert deflate.inflate(member) == PAGE
    with pytest.raises(deflate.DamagedMember) as raised:
        deflate.inflate(member[: len(member) // 2])
    # it crosses from a reparse worker to the crawl's process
    assert pickle.loads(pickle.dumps(raised.value)).args == raised.value.args


def test_the_streaming_inflater_finds_where_a_member_ends() -> None:
    first, second = deflate.gzip_member(PAGE, 1), deflate.gzip_member(b"next", 1)
    inflater = deflate.inflater()
    assert inflater.decompress(first + second) == PAGE
    assert inflater.eof and inflater.unused_data == second
