#!/usr/bin/env bash
# Starts a throwaway Redis and PostgreSQL on loopback for the scale-out tests, on free ports in a
# temporary directory, and prints the `export` lines that point the tests at them:
#   eval "$(scripts/test-services.sh)"
# Stop them with `scripts/test-services.sh stop` (same shell: it reads SPANWAY_TEST_SERVICES_DIR).
# Needs Debian's redis-server and postgresql packages. PostgreSQL refuses to run as root, so as root
# its server runs as the `postgres` user.
set -euo pipefail

if [ "${1:-}" = stop ]; then
  dir="${SPANWAY_TEST_SERVICES_DIR:?not started by this script}"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D '$dir/pg' -m immediate stop" >/dev/null 2>&1 || true
  else
    "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit 0
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir="$(mktemp -d /tmp/spanway-services.XXXXXX)"
chmod 755 "$dir"

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
pg_port="$(free_port)"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
mkdir -p "$dir/pg"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir/pg"; fi
as_pg "$pg_bin/initdb -D '$dir/pg' -U spanway --auth=trust -E UTF8 >/dev/null"
as_pg "$pg_bin/pg_ctl -D '$dir/pg' -l '$dir/pg/server.log' -w -o \"-p $pg_port -k '$dir/pg' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start >/dev/null"
as_pg "$pg_bin/createdb -h 127.0.0.1 -p $pg_port -U spanway spanway_test"

echo "export SPANWAY_TEST_SERVICES_DIR='$dir'"
echo "export SPANWAY_TEST_REDIS_URL='redis://127.0.0.1:$redis_port'"
echo "export SPANWAY_TEST_DATABASE_URL='postgres://spanway@127.0.0.1:$pg_port/spanway_test'"
