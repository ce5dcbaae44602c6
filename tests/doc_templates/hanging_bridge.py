"""``doc_templates/uno_bridge.py`` whose LibreOffice never finishes a .docx holding a part named
``hang``: a hung conversion for the PDF service's tests. Run, like the bridge, by LibreOffice's Python."""

import sys
import threading
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "doc_templates"))

import uno_bridge  # noqa: E402 - found through the path above

_convert = uno_bridge._convert


def _hanging(desktop, request):
    if "hang" in zipfile.ZipFile(request["docx"]).namelist():
        threading.Event().wait()  # forever
    _convert(desktop, request)


uno_bridge._convert = _hanging
uno_bridge.main()
