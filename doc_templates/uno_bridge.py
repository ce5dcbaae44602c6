"""Bridge to a running LibreOffice, run by LibreOffice's own Python (it needs ``uno``).

Started by ``doc_templates.pdf.PersistentConverter`` as
``python3 uno_bridge.py PIPE_NAME``: it connects to the soffice listening on that
pipe, then reads one JSON request per line on stdin
(``{"docx": path, "pdf": path, "pdfa": bool}``) and answers one JSON line on
stdout (``{"ok": true}`` or ``{"ok": false, "error": text}``). End of input, or
``{"quit": true}``, terminates LibreOffice. Standard library and ``uno`` only:
this file is not imported by gongwen.
"""

import contextlib
import json
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

CONNECT_SECONDS = 60


def _property(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def _connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _convert(desktop, request):
    source = uno.systemPathToFileUrl(request["docx"])
    hidden = (_property("Hidden", True), _property("ReadOnly", True))
    document = desktop.loadComponentFromURL(source, "_blank", 0, hidden)
    if document is None:
        raise RuntimeError(f"LibreOffice cannot open {request['docx']}")
    try:
        options = (_property("SelectPdfVersion", 2),) if request.get("pdfa") else ()
        filter_data = uno.Any("[]com.sun.star.beans.PropertyValue", options)
        arguments = (_property("FilterName", "writer_pdf_Export"), _property("FilterData", filter_data))
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(request["pdf"]), arguments))
    finally:
        document.close(True)


def main():
    desktop = _connect(sys.argv[1])
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        try:
            _convert(desktop, request)
            answer = {"ok": True}
        except Exception as error:  # noqa: BLE001 - every failure goes back to the caller
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    with contextlib.suppress(Exception):  # LibreOffice drops the connection as it exits
        desktop.terminate()


if __name__ == "__main__":
    main()
