"""What each flow run's process finds ready: imported by ``gongwen server``'s forkserver before it forks
any run (flows.run_processes.PRELOADED_MODULES), so every run inherits it instead of building it.

- the SSL context all of a run's Prefect API clients verify with (``share_one_ssl_context``).
"""

from __future__ import annotations

from flows.run_processes import share_one_ssl_context

SSL_CONTEXT = share_one_ssl_context()
