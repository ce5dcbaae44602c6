#!/usr/bin/env bash
# Debian package for the real MTA of the 核发 tests and benchmark (tests/servers/postfix.py): Postfix,
# configured "Local only" (debconf preseed), so that the package's own instance would relay nothing.
# Idempotent and quiet: installs only when missing, prints apt's output only on failure. No daemon is
# started (there is no systemd; policy-rc.d or not, the tests start private instances of their own).
set -euo pipefail
dpkg -s postfix >/dev/null 2>&1 && exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
debconf-set-selections <<'SEED'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string localhost
SEED
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postfix; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "mail-packages.sh: could not install postfix" >&2
  exit 1
fi
