"""The WARC archive: records written by warcio read back, rotation by size, torn tails,
and which archived response of a page ``scrapy reparse`` chooses."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tressless_crawler.archive.extract import reparse_one
from tressless_crawler.archive.reader import archive_files, index_file, read_records
from tressless_crawler.archive.spider import choose
from tressless_crawler.archive.writer import ArchiveWriter, Exchange, WarcFiles, new_record_id
from tressless_crawler.items import StudyItem

SITE = "http://127.0.0.1:8631"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def exchange(
    path: str, body: bytes, status: int = 200, when: datetime = T0, headers: list | None = None
) -> Exchange:
    return Exchange(
        record_id=new_record_id(),
        url=f"{SITE}{path}",
        fetched_at=when,
        method="GET",
        request_headers=[("User-Agent", "test"), ("Accept-Encoding", "gzip")],
        request_body=b"",
        status=status,
        reason="OK" if status == 200 else "",
        protocol="HTTP/1.1",
        response_headers=headers or [("Content-Type", "text/html; charset=utf-8")],
        body=body,
    )


def write(directory: Path, exchanges: list[Exchange], max_size: int = 10**9) -> WarcFiles:
    files = WarcFiles(directory, prefix="studies", max_size=max_size)
    writer = ArchiveWriter(files)
    for item in exchanges:
        assert writer.put(item)
    writer.close()
    return files


def test_records_read_back_as_written_with_their_request(tmp_path: Path) -> None:
    body = "<html><body><h1>Naïve “quotes”</h1></body></html>".encode()
    sent = [exchange(f"/research/x-{n}", body + bytes([n])) for n in range(3)]
    write(tmp_path, sent)
    (path,) = archive_files(tmp_path)
    index = index_file(path)
    assert not index.torn
    assert index.records == 1 + 2 * 3  # warcinfo, then a response and its request per fetch
    assert [e.record_id for e in index.entries] == [x.record_id for x in sent]
    assert all(e.fetched_at == T0 for e in index.entries)
    read = read_records(str(path), [e.offset for e in index.entries])
    assert [(r.url, r.status, r.body) for r in read] == [(x.url, 200, x.body) for x in sent]
    assert read[0].headers == [("Content-Type", "text/html; charset=utf-8")]
    # the request record points at its response, as WARC readers (pywb, ...) expect
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as stream:
        requests = [r for r in ArchiveIterator(stream) if r.rec_type == "request"]
    assert [r.rec_headers.get_header("WARC-Concurrent-To") for r in requests] == [
        x.record_id for x in sent
    ]
    assert requests[0].http_headers.get_header("User-Agent") == "test"


def test_files_rotate_at_the_size_limit(tmp_path: Path) -> None:
    sent = [exchange(f"/research/x-{n}", os.urandom(4000)) for n in range(5)]
    files = write(tmp_path, sent, max_size=9000)
    paths = archive_files(tmp_path)
    assert len(paths) == len(files.files) >= 2
    assert all(p.stat().st_size < 9000 + 5000 for p in paths)
    seen = [e.record_id for p in paths for e in index_file(p).entries]
    assert seen == [x.record_id for x in sent]
    for path in paths:  # every file starts with its own warcinfo record
        from warcio.archiveiterator import ArchiveIterator

        with open(path, "rb") as stream:
            assert next(iter(ArchiveIterator(stream))).rec_type == "warcinfo"


def test_a_file_cut_anywhere_reads_up_to_its_last_whole_record(tmp_path: Path) -> None:
    sent = [exchange(f"/research/x-{n}", os.urandom(3000)) for n in range(3)]
    write(tmp_path, sent)
    (path,) = archive_files(tmp_path)
    data = path.read_bytes()
    for cut in range(1, len(data) - 100, 97):
        path.write_bytes(data[: len(data) - cut])
        index = index_file(path)
        read = read_records(str(path), [e.offset for e in index.entries])
        assert all(r.complete and len(r.body) == 3000 for r in read), cut
        assert [r.body for r in read] == [x.body for x in sent[: len(read)]]
        if cut > 2 * 3100:  # the last two responses are gone or torn
            assert len(read) <= 1


def test_the_newest_content_response_of_each_page_is_chosen(tmp_path: Path) -> None:
    later = T0 + timedelta(days=1)
    sent = [
        exchange("/research/a-Aaaa", b"old", when=T0),
        exchange("/research/a-Aaaa", b"new", when=later),
        exchange("/research/b-Bbbb", b"content", when=T0),
        exchange("/research/b-Bbbb", b"", status=304, when=later),  # not modified: keep the 200
        exchange("/research/c-Cccc", b"content", when=T0),
        exchange("/research/c-Cccc", b"", status=404, when=later),  # gone since
        exchange("/research/d-Dddd", b"", status=503, when=later),  # an error: nothing to read
        exchange("/robots.txt", b"User-agent: *", when=later),  # not a page the parsers read
        exchange("/community/hair-loss-Abcd1", b"thread", when=T0),
    ]
    write(tmp_path, sent)
    indexes = [index_file(p) for p in archive_files(tmp_path)]
    chosen = {e.record_id for e in choose(indexes, {"study", "thread"}, None)}
    assert chosen == {sent[i].record_id for i in (1, 2, 5, 8)}
    studies = {e.record_id for e in choose(indexes, {"study"}, None)}
    assert studies == {sent[i].record_id for i in (1, 2, 5)}
    since = {e.record_id for e in choose(indexes, {"study", "thread"}, later)}
    assert since == {sent[i].record_id for i in (1, 5)}


def test_a_gzipped_page_in_a_lying_charset_is_read_as_the_crawl_read_it(tmp_path: Path) -> None:
    import gzip

    pages = sorted(
        (Path(__file__).parent.parent / "fixtures" / "site").rglob("research/*/index.html")
    )
    html = next(p.read_bytes() for p in pages if b"<h1" in p.read_bytes()).decode(
        "utf-8", "replace"
    )
    body = html.replace("</h1>", " café</h1>", 1).encode("cp1252", errors="replace")
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
    sent = exchange("/research/some-study-Zz9z", gzip.compress(body), headers=headers)
    write(tmp_path, [sent])
    (path,) = archive_files(tmp_path)
    (archived,) = read_records(str(path), [index_file(path).entries[0].offset])
    page_read = reparse_one(archived)
    assert page_read is not None and page_read.stats["charset/repaired"] == 1
    assert isinstance(page_read.item, StudyItem)
    assert page_read.item.title is not None and page_read.item.title.endswith(" café")


def test_a_closed_file_has_an_index_that_reads_as_the_file_does(tmp_path: Path) -> None:
    from tressless_crawler.archive.reader import read_entries, read_index, scan_file
    from tressless_crawler.archive.writer import index_path

    sent = [exchange(f"/research/x-{n}", os.urandom(2000)) for n in range(4)]
    sent.append(exchange("/research/gone-Gone", b"", status=404))
    write(tmp_path, sent)
    (path,) = archive_files(tmp_path)
    written = read_index(path)
    assert written is not None
    assert written == scan_file(path)  # same offsets, lengths, records and dates
    assert [e.status for e in written.entries] == [200, 200, 200, 200, 404]
    read = read_entries(str(path), written.entries)
    assert [r.body for r in read] == [x.body for x in sent]
    # a file changed after it was closed is read, not taken from its index
    with open(path, "ab") as out:
        out.write(b"\x1f\x8b")
    assert read_index(path) is None
    index = index_file(path)
    assert index.torn and [e.record_id for e in index.entries] == [x.record_id for x in sent]
    index_path(path).write_text("not json\n")
    assert read_index(path) is None


def test_a_file_not_gzipped_record_by_record_is_left_to_warcio(tmp_path: Path) -> None:
    """Another tool's file in one gzip stream: warcio reads its first record, then refuses
    the rest (``warcio recompress`` fixes such a file); the reparse goes on."""
    import gzip
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from tressless_crawler.archive.reader import read_entries

    raw = io.BytesIO()
    writer = WARCWriter(raw, gzip=False)
    bodies = [f"<html><h1>page {n}</h1></html>".encode() for n in range(3)]
    for n, body in enumerate(bodies):
        writer.write_record(
            writer.create_warc_record(
                f"{SITE}/research/p-{n}",
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
                ),
            )
        )
    path = tmp_path / "other-tool.warc.gz"
    path.write_bytes(gzip.compress(raw.getvalue()))
    index = index_file(path)
    assert index.torn and len(index.entries) == 1
    assert [r.body for r in read_entries(str(path), index.entries)] == bodies[:1]
