#!/usr/bin/env bash
# Debian packages for the real S3 server of the archive tests (tests/servers/ceph_rgw.sh):
# Ceph RGW = one monitor (ceph-mon), one memstore OSD (ceph-osd), the S3 gateway (radosgw).
# Idempotent and quiet: installs only what is missing, prints apt's output only on failure.
# On a machine without them (Debian 12, ceph 16.2.15): 59 packages, ~68 MB downloaded,
# ~267 MB on disk, ~25 s here. No daemon is started (there is no systemd); the packages
# write nothing the script uses outside its own directory.
set -euo pipefail
need=()
for pkg in ceph-mon ceph-osd radosgw; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
((${#need[@]})) || exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ceph-packages.sh: could not install ${need[*]}" >&2
  exit 1
fi
