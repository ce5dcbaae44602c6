"""The PDF conversion service (doc_templates.pdf_service) on real LibreOffice: the pool never lets two
conversions share a profile, recycles its converters, kills a hung one and goes on; the client maps
the service's errors back and falls back to one-shot LibreOffice, saying so once."""

from __future__ import annotations

import logging
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from doc_templates import PdfFailed
from doc_templates.pdf import PersistentConverter, page_count
from doc_templates.pdf_service import ConverterClient, ConverterPool, serve_pool, service_address
from gongwen.server import free_port
from tests.doc_templates.conftest import SOFFICE_MISSING
from tests.servers.requirements import needs

pytestmark = needs(SOFFICE_MISSING)

HANGING_BRIDGE = Path(__file__).with_name("hanging_bridge.py")
#: The seed notice's pages.
SEED_PAGES = 7


@pytest.fixture(scope="module")
def docx(seed_docx_bytes: bytes, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("service") / "seed.docx"
    path.write_bytes(seed_docx_bytes)
    return path


@pytest.fixture
def served_pool() -> Iterator[tuple[ConverterPool, str]]:
    """A pool of one converter whose LibreOffice hangs on a .docx holding a part named ``hang``, served
    on a free port; its timeout is 5 s."""
    with ConverterPool(1, recycle_after=100, timeout=5, bridge=HANGING_BRIDGE) as pool:
        server = serve_pool(pool, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield pool, f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def test_concurrent_conversions_never_share_a_profile(docx: Path, tmp_path: Path, monkeypatch) -> None:
    in_use: set[Path] = set()
    used: list[Path] = []
    guard = threading.Lock()
    convert = PersistentConverter.convert

    def watched(self, source, pdf, *, pdfa=False):
        profile = self._profile.folder
        with guard:
            assert profile not in in_use, "two conversions at once on one LibreOffice profile"
            in_use.add(profile)
            used.append(profile)
        try:
            convert(self, source, pdf, pdfa=pdfa)
        finally:
            with guard:
                in_use.discard(profile)

    with ConverterPool(2, recycle_after=100, timeout=60) as pool:
        monkeypatch.setattr(PersistentConverter, "convert", watched)
        threads = [
            threading.Thread(target=pool.convert, args=(docx, tmp_path / f"{i}.pdf"), kwargs={"pdfa": i % 2 == 0})
            for i in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert pool.counts() == {"size": 2, "running": 2, "converted": 6, "failed": 0, "restarted": 0}
    assert [page_count(tmp_path / f"{i}.pdf") for i in range(6)] == [SEED_PAGES] * 6
    assert len(set(used)) == 2  # both converters worked, each on its own profile
    assert b"<pdfaid:part>2</pdfaid:part>" in (tmp_path / "0.pdf").read_bytes()


def test_a_converter_is_replaced_after_recycle_after_documents(docx: Path, tmp_path: Path) -> None:
    profiles = []
    with ConverterPool(1, recycle_after=2, timeout=60) as pool:
        for i in range(5):
            pool.convert(docx, tmp_path / f"{i}.pdf")
            profiles.append(pool._slots[0].converter._profile.folder if pool._slots[0].converter else None)
        counts = pool.counts()
    assert counts["converted"] == 5 and counts["restarted"] == 2  # after the 2nd and the 4th document
    assert page_count(tmp_path / "4.pdf") == SEED_PAGES
    first, third, fifth = profiles[0], profiles[2], profiles[4]
    assert len({first, third, fifth}) == 3 and not first.exists()  # a new profile each time, the old removed


def test_a_hung_conversion_is_killed_after_the_timeout_and_the_next_is_served(
    served_pool, docx: Path, tmp_path: Path
) -> None:
    pool, url = served_pool
    hung = pool._slots[0].converter
    hang = tmp_path / "hang.docx"
    shutil.copy(docx, hang)
    with zipfile.ZipFile(hang, "a") as parts:
        parts.writestr("hang", "")
    with ConverterClient(url, timeout=5) as client:
        with pytest.raises(PdfFailed) as raised:
            client.convert(hang, tmp_path / "hang.pdf")
        assert "5 秒内未完成转换" in raised.value.message and raised.value.field == "pdf"
        assert not hung.alive and hung._office.returncode is not None  # soffice was killed
        client.convert(docx, tmp_path / "next.pdf", pdfa=True)  # on its replacement
    assert page_count(tmp_path / "next.pdf") == SEED_PAGES
    counts = pool.counts()
    assert (counts["converted"], counts["failed"], counts["restarted"], counts["running"]) == (1, 1, 1, 1)


def test_the_client_sends_many_documents_on_one_connection(served_pool, docx: Path, tmp_path: Path) -> None:
    pool, url = served_pool
    with ConverterClient(url, timeout=60) as client:
        for i in range(3):
            client.convert(docx, tmp_path / f"{i}.pdf")
        assert len(client._idle) == 1
    assert pool.counts()["converted"] == 3
    assert page_count(tmp_path / "2.pdf") == SEED_PAGES


def test_without_the_service_the_client_converts_one_shot_and_warns_once(
    docx: Path, tmp_path: Path, caplog, monkeypatch
) -> None:
    monkeypatch.setattr(ConverterClient, "_warned", False)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="doc_templates.pdf_service"):
        for i in range(2):
            with ConverterClient(url, timeout=60) as client:  # one warning per process, not per client
                client.convert(docx, tmp_path / f"{i}.pdf")
    assert [page_count(tmp_path / f"{i}.pdf") for i in range(2)] == [SEED_PAGES] * 2
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and url in warnings[0] and "改用逐份启动 LibreOffice" in warnings[0]


@pytest.mark.parametrize("url", ["127.0.0.1:4300", "https://host:4300", "http://host", "http://host:4300/convert"])
def test_a_service_url_must_be_http_host_port(url: str) -> None:
    with pytest.raises(ValueError, match="应为 http://主机:端口"):
        service_address(url)
