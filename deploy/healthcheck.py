"""Container healthchecks for deploy/compose.yaml; exit 0 when healthy, 1 (with the reason) when not.

    python healthcheck.py url URL    an HTTP GET answers 200: the Prefect API's /api/health,
                                     a worker's /health (``prefect worker start --with-healthcheck``)
    python healthcheck.py services   the Prefect background services can reach what they work
                                     on: Redis (PREFECT_REDIS_MESSAGING_*, the events they consume)
                                     and PostgreSQL (PREFECT_SERVER_DATABASE_CONNECTION_URL)

``prefect server services start`` has no HTTP endpoint of its own; it runs as the container's
main process, so the container stops (and restarts) when it dies. Standard library, plus the
redis and psycopg packages the image has anyway (prefect-redis, gongwen).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 4.0


def check_url(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return None if response.status == 200 else f"{url}: HTTP {response.status}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {error}"


def check_services() -> str | None:
    import psycopg
    import redis

    env = os.environ
    try:
        redis.Redis(
            host=env.get("PREFECT_REDIS_MESSAGING_HOST", "localhost"),
            port=int(env.get("PREFECT_REDIS_MESSAGING_PORT", "6379")),
            db=int(env.get("PREFECT_REDIS_MESSAGING_DB", "0")),
            password=env.get("PREFECT_REDIS_MESSAGING_PASSWORD") or None,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        ).ping()
    except redis.RedisError as error:
        return f"Redis: {error}"
    url = env.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") or env.get("PREFECT_API_DATABASE_CONNECTION_URL")
    if not url:
        return "PREFECT_SERVER_DATABASE_CONNECTION_URL is not set"
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=int(TIMEOUT)) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL: {error}"
    return None


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://…) as libpq takes it (postgresql://…)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "url":
        problem = check_url(argv[1])
    elif argv == ["services"]:
        problem = check_services()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
