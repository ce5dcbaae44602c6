"""What each flow run's process finds ready: imported by ``gongwen server``'s forkserver before it forks
any run (flows.run_processes.PRELOADED_MODULES), so every run inherits it instead of building it.

- the SSL context all of a run's Prefect API clients verify with (``share_one_ssl_context``);
- the factory of the run's services, found under the ``gongwen.services`` entry point (a scan of
  every installed distribution's metadata: 25–55 ms a process, before a resumed run's first form);
- the mappers of gongwen's tables configured (SQLAlchemy does it at a process's first query: ≈ 40 ms).
"""

from __future__ import annotations

import sqlalchemy.orm

import models.tables  # noqa: F401 - every table mapped before the mappers are configured
from flows.run_processes import share_one_ssl_context
from flows.runtime import registered_factory

SSL_CONTEXT = share_one_ssl_context()
SERVICES_FACTORY = registered_factory()
sqlalchemy.orm.configure_mappers()
