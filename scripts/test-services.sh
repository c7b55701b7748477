#!/usr/bin/env bash
# Makes sure every service the test suite needs is there, runs a command with
# them, and stops what it started when the command ends. `npm test` and .ci/run
# both go through it, so the README's test command works on a fresh machine.
#
# Usage: scripts/test-services.sh [command [args...]]
#   (no command: bring the services up, report, stop them again)
#
# Services (TEST_SERVICES, comma-separated; default: all of them):
#   redis     Redis at REDIS_URL (default redis://127.0.0.1:6379). One that answers
#             is reused; otherwise, for a loopback URL, a private redis-server is
#             started on that port (no persistence, noeviction) and stopped at the end.
#   chromium  Debian's chromium for the board's browser test (exported as CHROMIUM_PATH).
#   sentinel  redis-sentinel for the Redis failover test.
#   ceph      a private Ceph RADOS Gateway (S3) for the S3 lake suite, through
#             scripts/ceph-s3.sh, when the project has it.
# Missing Debian packages are installed with apt-get when this runs as root;
# otherwise (or with TEST_SERVICES_INSTALL=never) the exact command is printed
# and the script exits 1 without running the command.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SERVICES=",${TEST_SERVICES:-redis,chromium,sentinel,ceph},"
INSTALL="${TEST_SERVICES_INSTALL:-auto}"
T0=$(date +%s)
log() { echo "[test-services] $*" >&2; }
wants() { [[ "$SERVICES" == *",$1,"* ]]; }

STOPS=()
cleanup() {
  local i
  for ((i = ${#STOPS[@]} - 1; i >= 0; i--)); do eval "${STOPS[$i]}" >/dev/null 2>&1 || true; done
  STOPS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MISSING=()
# ensure_package <command> <debian package>: the command is on PATH, or gets installed, or is named as missing.
ensure_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$INSTALL" != never ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "$1 missing: installing Debian's $2 (apt-get install -y --no-install-recommends $2)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"; } >&2
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $2 did not put $1 on PATH ($PATH)"
  fi
  MISSING+=("$2")
  return 1
}

redis_answers() { node "$ROOT/scripts/redis-ping.mjs" "$1"; }

if wants redis; then
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  if redis_answers "$REDIS_URL"; then
    log "Redis answers at $(echo "$REDIS_URL" | sed -E 's#//[^@/]*@#//[REDACTED]@#'): reusing it"
  else
    host="$(node -e 'const u=new URL(process.argv[1]);process.stdout.write(u.hostname)' "$REDIS_URL")"
    port="$(node -e 'const u=new URL(process.argv[1]);process.stdout.write(u.port||"6379")' "$REDIS_URL")"
    case "$host" in
      127.0.0.1 | localhost | "[::1]") ;;
      *) log "no Redis answers at $REDIS_URL and it is not on this machine: start it, or unset REDIS_URL"; exit 1 ;;
    esac
    if ensure_package redis-server redis-server; then
      dir="$(mktemp -d "${TMPDIR:-/tmp}/recomart-test-redis.XXXXXX")"
      log "no Redis at 127.0.0.1:$port: starting a private redis-server there (data in $dir)"
      redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --maxmemory-policy noeviction --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
      STOPS+=("kill \$(cat '$dir/redis.pid') && while kill -0 \$(cat '$dir/redis.pid') 2>/dev/null; do sleep 0.05; done; rm -rf '$dir'")
      for _ in $(seq 1 100); do redis_answers "$REDIS_URL" && break; sleep 0.1; done
      redis_answers "$REDIS_URL" || { log "the private redis-server did not answer on port $port: $(tail -3 "$dir/redis.log")"; exit 1; }
    fi
  fi
fi

if wants chromium && ensure_package chromium chromium; then
  CHROMIUM_PATH="$(command -v chromium)"
  export CHROMIUM_PATH
fi

if wants sentinel; then ensure_package redis-sentinel redis-sentinel || true; fi

if wants ceph && [ -x "$ROOT/scripts/ceph-s3.sh" ]; then
  for pair in radosgw:radosgw ceph-mon:ceph-mon ceph-osd:ceph-osd ceph:ceph-common; do
    ensure_package "${pair%%:*}" "${pair#*:}" || true
  done
fi

if [ ${#MISSING[@]} -gt 0 ]; then
  log "missing: ${MISSING[*]}. Install them with:"
  log "  sudo apt-get install -y --no-install-recommends ${MISSING[*]}"
  exit 1
fi

if wants ceph && [ -x "$ROOT/scripts/ceph-s3.sh" ]; then
  log "starting a private Ceph RGW (S3) for the S3 suite"
  "$ROOT/scripts/ceph-s3.sh" start >&2 || { log "Ceph RGW did not start (see above)"; exit 1; }
  STOPS+=("'$ROOT/scripts/ceph-s3.sh' stop")
fi

log "services ready in $(($(date +%s) - T0)) s"
[ $# -eq 0 ] && exit 0
"$@"
