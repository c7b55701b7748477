#!/usr/bin/env bash
# The S3 server of the integration tests: a throw-away single-node Ceph
# (monitor + in-memory "memstore" OSD + RADOS Gateway), bound to 127.0.0.1.
# Written from the measured recipe in ../shared/ceph-s3/ (see its README for
# the numbers and the sharp edges handled below).
#
#   scripts/ceph-s3.sh start     # wipes any previous instance, starts, creates the test user
#   scripts/ceph-s3.sh stop      # stops the daemons (radosgw first), removes the folder
#   scripts/ceph-s3.sh status    # exit 0 when the S3 endpoint answers
#   scripts/ceph-s3.sh stop-gateway | start-gateway
#                                # only radosgw (the fault tests' "S3 server stopped"); data kept
#   scripts/ceph-s3.sh gc          # free deleted objects now (RGW frees them hours later; memstore holds them in RAM)
#
# Settings (environment; defaults are what the tests expect):
#   CEPH_S3_DIR        private folder of this instance   (default /tmp/recomart-ceph-s3)
#   CEPH_S3_PORT       S3 (radosgw) port on 127.0.0.1     (default 7480)
#   CEPH_S3_MON_PORT   monitor v1 port; v2 is +1          (default 40789)
#   CEPH_S3_MEM_BYTES  memstore size (not enforced by Ceph: a full OSD hangs writes; keep it large)
#                                                         (default 4 GiB)
#   TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY  the test user's fixed keys
#                                                         (default recomart-test / recomart-test-secret)
# No ceph-mgr is started (RGW does not need it; it saves ~300 MB).
# Needs Debian's: ceph-mon ceph-osd radosgw ceph-common (and uuidgen, curl).
set -euo pipefail

DIR=${CEPH_S3_DIR:-/tmp/recomart-ceph-s3}
PORT=${CEPH_S3_PORT:-7480}
MON_PORT=${CEPH_S3_MON_PORT:-40789}
MON_PORT2=$((MON_PORT + 1))
MEM_BYTES=${CEPH_S3_MEM_BYTES:-4294967296}
ACCESS_KEY=${TEST_S3_ACCESS_KEY:-recomart-test}
SECRET_KEY=${TEST_S3_SECRET_KEY:-recomart-test-secret}
CONF=$DIR/ceph.conf
START_MS=$(( $(date +%s%N) / 1000000 ))

say() { echo "[ceph-s3 +$(( $(date +%s%N) / 1000000 - START_MS ))ms] $*" >&2; }
ceph_cli() { ceph -c "$CONF" --connect-timeout 15 "$@"; }

# Is pid $1 one of this instance's daemons? (its command line names our conf; guards against pid reuse)
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$CONF"; }

# TERM the named daemons, wait up to 10 s, then KILL what is left.
stop_daemons() {
  local name pid pids=()
  for name in "$@"; do
    [ -f "$DIR/pids/$name" ] || continue
    pid=$(cat "$DIR/pids/$name")
    if ours "$pid"; then pids+=("$pid"); fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid ignored TERM for 10 s: KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

# radosgw first (with the OSD gone it takes >10 s to stop), the monitor last.
stop_all() {
  if [ -d "$DIR/pids" ]; then
    stop_daemons rgw
    stop_daemons osd
    stop_daemons mon
  fi
  rm -rf "$DIR"
}

endpoint_up() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; }

# wait_until <seconds> <what> <command...>: fails (logs, stops everything) on timeout or a dead daemon.
wait_until() {
  local secs=$1 what=$2 f
  shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    for f in "$DIR"/pids/*; do
      if ! kill -0 "$(cat "$f")" 2>/dev/null; then
        say "$(basename "$f") died while waiting for $what; last log lines:"
        tail -n 20 "$DIR"/log/* >&2 || true
        stop_daemons rgw osd mon
        exit 1
      fi
    done
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "timed out after ${secs}s waiting for $what; last log lines:"
      tail -n 20 "$DIR"/log/* >&2 || true
      stop_daemons rgw osd mon
      exit 1
    fi
    sleep 0.25
  done
  say "$what"
}

# The RADOS Gateway alone (the S3 endpoint); the data stays in the OSD across a stop and start.
start_gateway() {
  if endpoint_up; then say "S3 endpoint already answers on 127.0.0.1:$PORT"; return 0; fi
  radosgw -c "$CONF" -n client.rgw -f </dev/null >>"$DIR/log/rgw.out" 2>&1 &
  echo $! >"$DIR/pids/rgw"
  wait_until 120 "S3 endpoint answers on 127.0.0.1:$PORT" endpoint_up
}

start() {
  stop_all
  local port
  for port in "$PORT" "$MON_PORT" "$MON_PORT2"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then say "port $port on 127.0.0.1 is taken"; exit 1; fi
  done
  mkdir -p "$DIR"/{log,run,pids,mon,osd,rgw,crash}
  local fsid
  fsid=$(uuidgen)
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT2,v1:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = 6800
ms bind port max = 6900
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
run dir = $DIR/run
crash dir = $DIR/crash
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = $DIR/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 2
mon data avail crit = 1
mgr initial modules =
[mon]
mon data = $DIR/mon
mon cluster log file = $DIR/log/cluster.log
paxos propose interval = 0.1
[osd]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = $MEM_BYTES
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
ms mon client mode = crc secure
rgw data = $DIR/rgw
rgw dns name = localhost
rgw thread pool size = 64
rgw enable usage log = false
CONF
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT2,v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null

  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  ceph-mon -c "$CONF" -i a -f </dev/null >>"$DIR/log/mon.out" 2>&1 &
  echo $! >"$DIR/pids/mon"
  wait_until 60 "monitor in quorum" ceph_cli mon stat

  local uuid id
  uuid=$(uuidgen)
  id=$(ceph_cli osd new "$uuid")
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >"$DIR/log/osd-mkfs.out" 2>&1
  ceph-osd -c "$CONF" -i "$id" -f </dev/null >>"$DIR/log/osd.out" 2>&1 &
  echo $! >"$DIR/pids/osd"
  wait_until 60 "osd up" bash -c "ceph -c '$CONF' --connect-timeout 15 osd dump | grep -q '^osd.$id up'"

  start_gateway

  radosgw-admin -c "$CONF" user create --uid=recomart-test --display-name=recomart-test \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1
  say "ready: S3 endpoint http://127.0.0.1:$PORT (test user recomart-test), folder $DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop_all; say "stopped" ;;
  stop-gateway) stop_daemons rgw; say "gateway stopped (the cluster and its data stay)" ;;
  start-gateway) start_gateway ;;
  gc) radosgw-admin -c "$CONF" gc process --include-all >/dev/null 2>&1; say "garbage of deleted objects freed" ;;
  status) if endpoint_up; then say "S3 endpoint answers on 127.0.0.1:$PORT"; else say "no S3 endpoint on 127.0.0.1:$PORT"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|stop-gateway|start-gateway|gc" >&2; exit 2 ;;
esac
