#!/bin/sh
# First start of the postgres container (an empty volume): gongwen's and Prefect's databases,
# each owned by its own login role, which is all either needs (both migrate their own schema).
# Run by the postgres image from /docker-entrypoint-initdb.d as the superuser over the local
# socket; never again once the volume holds a cluster (see deploy/README.md to add one later).
set -eu
: "${GONGWEN_DB_PASSWORD:?set GONGWEN_DB_PASSWORD}" "${PREFECT_DB_PASSWORD:?set PREFECT_DB_PASSWORD}"

create() { # role database password
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v role="$1" -v db="$2" -v password="$3" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT ALL ON DATABASE :"db" TO :"role";
SQL
}

create "${GONGWEN_DB_USER:-gongwen}" "${GONGWEN_DB_NAME:-gongwen}" "$GONGWEN_DB_PASSWORD"
create "${PREFECT_DB_USER:-prefect}" "${PREFECT_DB_NAME:-prefect}" "$PREFECT_DB_PASSWORD"
# Prefect's migrations create pg_trgm (a trusted extension); create it as the superuser anyway.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${PREFECT_DB_NAME:-prefect}" \
  -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm'
