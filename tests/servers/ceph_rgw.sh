#!/usr/bin/env bash
# A throwaway Ceph RGW (real S3 server with object lock) for tests and CI.
#
#   ceph_rgw.sh start DIR PORT   one ceph-mon, one memstore OSD and radosgw (beast on
#                                127.0.0.1:PORT) with config, data, logs and pids under DIR;
#                                prints the endpoint and keys as one line of JSON on stdout.
#   ceph_rgw.sh stop DIR         stops what `start DIR` started; removes nothing.
#   ceph_rgw.sh status DIR       exit 0 when running (and print the JSON), 1 when not.
#   ceph_rgw.sh stop-gateway DIR / start-gateway DIR
#                                stop or start radosgw alone (an S3 outage); the mon and the
#                                OSD keep running, so the stored objects survive.
#
# Needs only the Debian packages ceph-mon, ceph-osd, radosgw (.ci/ceph-packages.sh).
# No systemd, no /etc/ceph, no /var/lib/ceph: everything lives in DIR. Authentication
# between the daemons is off (auth none); S3 requests are still signed and checked.
# DIR must be empty, missing, or a DIR used by this script before (it has .ceph-rgw in it);
# each start wipes the cluster state of the previous one (mon/, osd/, run/, log/).
set -euo pipefail

die() { echo "ceph_rgw.sh: $*" >&2; exit 1; }
usage() { die "usage: ceph_rgw.sh start DIR PORT | stop DIR | status DIR | stop-gateway DIR | start-gateway DIR"; }

MARK=.ceph-rgw
USER_ID=gongwen
AUDITOR_ID=auditor

# ---------------------------------------------------------------- helpers

# pid_alive NAME: the pid in DIR/run/NAME.pid is a live process started from DIR.
pid_alive() {
  local f="$DIR/run/$1.pid" pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  gone "$pid" && return 1
  # guard against pid reuse: the command line must name our config file
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR/ceph.conf" || return 1
  echo "$pid"
}

# gone PID: no such process, or a zombie waiting for init to reap it
gone() {
  [[ -d /proc/$1 ]] || return 0
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

stop_one() {
  local name=$1 pid i
  pid=$(pid_alive "$name") || { rm -f "$DIR/run/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    gone "$pid" && break
    sleep 0.05
  done
  if ! gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do gone "$pid" && break; sleep 0.05; done
  fi
  rm -f "$DIR/run/$name.pid"
}

stop_all() {
  [[ -d $DIR/run ]] || return 0
  stop_one rgw
  stop_one osd
  stop_one mon
}

# fail MESSAGE LOG...: stop what was started, print the message and the end of the logs.
fail() {
  local msg=$1 log
  shift
  if [[ ${ON_FAIL:-} == gateway ]]; then stop_one rgw; else stop_all; fi
  {
    echo "ceph_rgw.sh: $msg"
    for log in "$@"; do
      [[ -s $log ]] || continue
      echo "--- last lines of $log"
      tail -n 15 "$log"
    done
  } >&2
  exit 1
}

# spawn NAME COMMAND...: run a daemon in the foreground of its own session, in the
# background of this script; its pid goes to DIR/run/NAME.pid.
spawn() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/run/$name.pid"
  # wait for the exec, so that pid_alive (which checks the command line) sees the daemon
  local i
  for ((i = 0; i < 50; i++)); do
    pid_alive "$name" >/dev/null && return 0
    [[ -d /proc/$! ]] || return 0
    sleep 0.02
  done
}

ceph_cli() { timeout 20 ceph -c "$DIR/ceph.conf" --connect-timeout 15 "$@"; }

port_free() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_key() { # LENGTH: letters and digits
  python3 -c "import secrets, string, sys; a = string.ascii_letters + string.digits; print(''.join(secrets.choice(a) for _ in range(int(sys.argv[1]))))" "$1"
}

s3_answers() { # any HTTP answer from the beast frontend
  python3 - "$PORT" <<'EOF'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

running() {
  pid_alive mon >/dev/null && pid_alive osd >/dev/null && pid_alive rgw >/dev/null &&
    [[ -s $DIR/keys.json ]]
}

# ---------------------------------------------------------------- start

start_gateway() {
  local i
  spawn rgw radosgw -c "$DIR/ceph.conf" -f -n client.rgw.gw
  for ((i = 0; i < 600; i++)); do
    pid_alive rgw >/dev/null || fail "radosgw exited" "$DIR/log/rgw.out" "$DIR/log/client.rgw.gw.log"
    s3_answers && return 0
    sleep 0.1
  done
  fail "radosgw did not answer on 127.0.0.1:$PORT in 60 s" "$DIR/log/client.rgw.gw.log"
}

write_conf() {
  local mon_port=$1 fsid=$2
  cat >"$DIR/ceph.conf" <<EOF
# written by tests/servers/ceph_rgw.sh; every path is under $DIR
[global]
fsid = $fsid
mon_initial_members = a
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# without these radosgw hangs talking to the monitor
ms_mon_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
ms_client_mode = crc
ms_cluster_mode = crc
ms_service_mode = crc
keyring = $DIR/keyring
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.ceph.pid
run_dir = $DIR/run
crash_dir = $DIR/crash
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
log_to_stderr = false
err_to_stderr = true
debug_ms = 0
# commit monitor changes at once (default 1 s each: radosgw's pool creation took 9 s)
paxos_propose_interval = 0.01
paxos_min_wait = 0.01
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000

[mon]
mon_data = $DIR/mon/\$cluster-\$id
mon_data_avail_crit = 1

[osd]
osd_data = $DIR/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_crush_update_on_start = true
osd_class_update_on_start = false

[client.rgw.gw]
rgw_data = $DIR/rgw
rgw_frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw_thread_pool_size = 64
rgw_dns_name = 127.0.0.1
rgw_enable_usage_log = false
# the ops log: every S3 request, allowed or refused, as one JSON line (user, access key, operation,
# bucket, object, http_status, error_code) in log/ops.log: who tried what in the archive bucket
rgw_enable_ops_log = true
rgw_ops_log_rados = false
rgw_ops_log_file_path = $DIR/log/ops.log
EOF
}

start() {
  # already running: print the same keys again
  if running; then
    grep -qF "\"endpoint\": \"127.0.0.1:$PORT\"" "$DIR/keys.json" ||
      die "an RGW started from $DIR is already running on another port: $(<"$DIR/keys.json")"
    s3_answers || die "processes in $DIR are running but S3 does not answer on port $PORT; run: $0 stop $DIR"
    cat "$DIR/keys.json"
    return 0
  fi

  local m
  for m in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool python3; do
    command -v "$m" >/dev/null || die "$m not found: install the Debian packages ceph-mon ceph-osd radosgw (bash .ci/ceph-packages.sh)"
  done

  mkdir -p "$DIR" || die "cannot create $DIR"
  DIR=$(cd "$DIR" && pwd -P)
  if [[ ! -e $DIR/$MARK ]] && [[ -n $(ls -A "$DIR") ]]; then
    die "$DIR is not empty and was not made by this script; give an empty or new directory"
  fi
  stop_all # leftovers of an earlier start that died half way
  rm -rf "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/crash" \
    "$DIR/ceph.conf" "$DIR/monmap" "$DIR/keyring" "$DIR/keys.json"
  : >"$DIR/$MARK"
  mkdir -p "$DIR/mon" "$DIR/osd/ceph-0" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/crash"

  port_free "$PORT" || die "port $PORT on 127.0.0.1 is in use"
  local mon_port fsid osd_uuid setup=$DIR/log/setup.log
  mon_port=$(free_port)
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  osd_uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  write_conf "$mon_port" "$fsid"
  local conf=(-c "$DIR/ceph.conf")

  # monitor
  {
    ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' &&
      monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$DIR/monmap" &&
      ceph-mon "${conf[@]}" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  } >>"$setup" 2>&1 || fail "could not create the monitor" "$setup" "$DIR/log/mon.a.log"
  spawn mon ceph-mon "${conf[@]}" -f -i a
  ceph_cli mon stat >>"$setup" 2>&1 || fail "the monitor does not answer" "$DIR/log/mon.out" "$DIR/log/mon.a.log" "$setup"

  # one OSD in memory
  {
    ceph_cli osd new "$osd_uuid" 0 &&
      ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid"
  } >>"$setup" 2>&1 || fail "could not create the OSD" "$setup" "$DIR/log/osd.0.log"
  spawn osd ceph-osd "${conf[@]}" -f -i 0
  local i up=
  for ((i = 0; i < 300; i++)); do
    pid_alive osd >/dev/null || fail "the OSD exited" "$DIR/log/osd.out" "$DIR/log/osd.0.log"
    if ceph_cli osd stat -f json 2>>"$setup" | grep -q '"num_up_osds":1'; then up=1; break; fi
    sleep 0.1
  done
  [[ -n $up ]] || fail "the OSD did not come up in 30 s" "$DIR/log/osd.0.log"

  start_gateway

  # S3 users: the owner, and an auditor that may not create buckets (max-buckets -1);
  # what the auditor may read is granted per bucket by a bucket policy.
  local access secret aud_access aud_secret
  access=$(random_key 20)
  secret=$(random_key 40)
  aud_access=$(random_key 20)
  aud_secret=$(random_key 40)
  {
    timeout 60 radosgw-admin "${conf[@]}" user create --uid "$USER_ID" \
      --display-name "gongwen archive" --access-key "$access" --secret-key "$secret" &&
      timeout 60 radosgw-admin "${conf[@]}" user create --uid "$AUDITOR_ID" \
        --display-name "auditor (read only)" --access-key "$aud_access" --secret-key "$aud_secret" \
        --max-buckets -1
  } >>"$setup" 2>&1 || fail "radosgw-admin could not create the S3 users" "$setup"

  python3 - "$PORT" "$access" "$secret" "$aud_access" "$aud_secret" "$USER_ID" "$AUDITOR_ID" "$DIR" \
    >"$DIR/keys.json" <<'EOF'
import json, sys
port, ak, sk, aak, ask, user, auditor, d = sys.argv[1:]
print(json.dumps({
    "endpoint": f"127.0.0.1:{port}",
    "access_key": ak, "secret_key": sk, "user": user,
    "auditor_access_key": aak, "auditor_secret_key": ask, "auditor_user": auditor,
    "dir": d,
}))
EOF
  cat "$DIR/keys.json"
}

# ---------------------------------------------------------------- main

cmd=${1:-}
case $cmd in
  start)
    [[ $# -eq 3 ]] || usage
    DIR=$2
    PORT=$3
    [[ $PORT =~ ^[0-9]+$ ]] && ((10#$PORT > 0 && 10#$PORT < 65536)) || die "PORT must be a number from 1 to 65535, not '$PORT'"
    PORT=$((10#$PORT))
    start
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    DIR=$2
    [[ -d $DIR ]] || exit 0
    DIR=$(cd "$DIR" && pwd -P)
    [[ -e $DIR/$MARK ]] || die "$DIR was not made by this script (no $MARK in it)"
    stop_all
    ;;
  status)
    [[ $# -eq 2 ]] || usage
    DIR=$2
    [[ -d $DIR ]] || exit 1
    DIR=$(cd "$DIR" && pwd -P)
    running || exit 1
    cat "$DIR/keys.json"
    ;;
  stop-gateway | start-gateway)
    [[ $# -eq 2 ]] || usage
    DIR=$2
    [[ -d $DIR ]] || die "$DIR does not exist"
    DIR=$(cd "$DIR" && pwd -P)
    pid_alive mon >/dev/null && pid_alive osd >/dev/null && [[ -s $DIR/keys.json ]] ||
      die "no cluster started from $DIR is running; run: $0 start DIR PORT"
    if [[ $cmd == stop-gateway ]]; then
      stop_one rgw
    elif ! pid_alive rgw >/dev/null; then
      PORT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["endpoint"].rsplit(":", 1)[1])' "$DIR/keys.json")
      port_free "$PORT" || die "port $PORT on 127.0.0.1 is in use"
      ON_FAIL=gateway
      start_gateway
    fi
    ;;
  *) usage ;;
esac
