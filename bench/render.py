"""印制 benchmark: prints figures, asserts nothing.

1. Median ms per document for 200 renders of the seed notice through gongwen
   (layout → sandboxed, escaped render → .docx bytes) against the bare
   ``DocxTemplate.render`` of the same template with the same context (plain
   Jinja, no sandbox, no escaping), and their ratio (target: within 1.3×).
2. PDF ms per document: one-shot ``soffice --convert-to`` against the persistent
   converter (target: ≤ 250 ms per document persistent), where LibreOffice is installed.
3. 印制 inside issue via the service client: ``print_document`` of the seed notice end to
   end (layout, .docx, PDF/A through ``ConverterClient`` → HTTP → the pool of a
   ``gongwen converter serve`` process) against the bare baseline, ``PersistentConverter``
   converting the same .docx in this process; medians of 3 repeats of 10 documents each,
   their range, the ratio and the load average (target: ≤ 250 ms per 印制).

Run: .venv/bin/python bench/render.py
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from docxtpl import DocxTemplate

from doc_templates import print_document
from doc_templates.pdf import OneShotConverter, PersistentConverter
from doc_templates.pdf_service import ConverterClient
from doc_templates.render import context_for, render_docx, template_bytes
from gongwen.converter_service import ConverterProcess
from models.directory import parse_directory
from models.layout import layout_for
from models.refno import ReferenceNumber
from models.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent

RENDERS, ONE_SHOT_PDFS, PERSISTENT_PDFS = 200, 5, 30
SERVICE_REPEATS, SERVICE_PDFS, SERVICE_TARGET_MS = 3, 10, 250


def median_ms(action, times: int) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    example = ROOT / "examples" / "kaifeng"
    directory = parse_directory(yaml.safe_load((example / "directory.yaml").read_text(encoding="utf-8")))
    spec, _ = parse_spec(yaml.safe_load((example / "notice.yaml").read_text(encoding="utf-8")))
    ref = ReferenceNumber("汴打假", 2022, 3)

    def gongwen() -> bytes:
        return render_docx(layout_for(spec, directory, ref=ref))

    layout = layout_for(spec, directory, ref=ref)
    source = template_bytes(layout.kind)
    context = context_for(layout, DocxTemplate(io.BytesIO(source)))

    def bare() -> bytes:
        template = DocxTemplate(io.BytesIO(source))
        template.render(context)
        out = io.BytesIO()
        template.save(out)
        return out.getvalue()

    gongwen(), bare()  # warm up
    ours, theirs = median_ms(gongwen, RENDERS), median_ms(bare, RENDERS)
    print(f"docx  gongwen render_docx      {ours:7.1f} ms/doc (median of {RENDERS})")
    print(f"docx  bare DocxTemplate.render {theirs:7.1f} ms/doc (median of {RENDERS})")
    print(f"docx  ratio gongwen / bare     {ours / theirs:7.2f}×  (target ≤ 1.30×)")

    if shutil.which("soffice") is None:
        print("pdf   skipped: LibreOffice is not installed (bash .ci/system-packages.sh)")
        return
    with tempfile.TemporaryDirectory() as folder:
        docx = Path(folder) / "seed.docx"
        docx.write_bytes(gongwen())
        with OneShotConverter() as converter:
            one_shot = median_ms(lambda: converter.convert(docx, Path(folder) / "one.pdf"), ONE_SHOT_PDFS)
        start = time.perf_counter()
        with PersistentConverter() as converter:
            started = (time.perf_counter() - start) * 1000
            converter.convert(docx, Path(folder) / "warm.pdf")
            persistent = median_ms(lambda: converter.convert(docx, Path(folder) / "p.pdf"), PERSISTENT_PDFS)
    print(f"pdf   one-shot soffice         {one_shot:7.1f} ms/doc (median of {ONE_SHOT_PDFS})")
    print(
        f"pdf   persistent converter     {persistent:7.1f} ms/doc "
        f"(median of {PERSISTENT_PDFS}; start {started:.0f} ms once)"
    )
    print("pdf   target persistent        ≤ 250 ms/doc")
    service_row(spec, directory, ref)


def service_row(spec, directory, ref) -> None:
    """Row 3: 印制 through the PDF service's client against the bare persistent converter."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        service = ConverterProcess(out / "home")
        try:
            if not service.wait_until_healthy():
                print(f"service skipped: {service.problem()}")
                return
            with ConverterClient(service.url, timeout=60) as client, PersistentConverter() as bare:
                print_pdf = lambda: print_document(  # noqa: E731
                    spec,
                    directory,
                    ref=ref,
                    out_docx=out / "s.docx",
                    out_pdf=out / "s.pdf",
                    pdfa=True,
                    converter=client,
                )
                print_pdf()  # the first connection
                bare.convert(out / "s.docx", out / "warm.pdf", pdfa=True)  # its first document loads the fonts
                ours, theirs = [], []
                for _ in range(SERVICE_REPEATS):
                    ours.append(median_ms(print_pdf, SERVICE_PDFS))
                    theirs.append(
                        median_ms(lambda: bare.convert(out / "s.docx", out / "b.pdf", pdfa=True), SERVICE_PDFS)
                    )
        finally:
            service.stop()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"印制  load average {load} (1, 5, 15 min)")
    print(
        f"印制  inside issue via the service client {mine:7.1f} ms/doc "
        f"(median of {SERVICE_REPEATS} repeats × {SERVICE_PDFS}; range {min(ours):.1f}–{max(ours):.1f})"
    )
    print(
        f"印制  bare PersistentConverter, PDF/A     {base:7.1f} ms/doc "
        f"(median of {SERVICE_REPEATS} repeats × {SERVICE_PDFS}; range {min(theirs):.1f}–{max(theirs):.1f})"
    )
    met = "met" if mine <= SERVICE_TARGET_MS else "not met"
    print(f"印制  ratio service / bare {mine / base:5.2f}×; target ≤ {SERVICE_TARGET_MS} ms per 印制: {met}")


if __name__ == "__main__":
    main()
