"""A separate process that registers documents: ``python registration_worker.py URL START IDS``.

Waits until the wall-clock time START (so all workers begin together), registers
each id in IDS (comma separated) and prints ``[[id, serial], …]`` as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from storage import registration
from storage.database import Database


def main(url: str, start: float, ids: list[int]) -> None:
    db = Database.from_url(url)
    db.engine.connect().close()
    time.sleep(max(0.0, start - time.time()))
    results = [[document_id, registration.register(db, document_id=document_id).serial] for document_id in ids]
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), [int(i) for i in sys.argv[3].split(",")])
