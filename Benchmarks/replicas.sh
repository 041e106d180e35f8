#!/usr/bin/env bash
# One Spanway replica against three behind an nginx load balancer, sharing PostgreSQL and Redis, on
# this machine, in one run with rounds alternating the targets:
#   direct   requests straight to the canned nginx upstream (Benchmarks/upstream/) — the baseline every
#            "added" figure is measured against;
#   sqlite   one Spanway on its SQLite store, no services: the single-machine set-up, as in run.sh;
#   pg1      one Spanway replica on PostgreSQL + Redis, called directly (what the store and the shared
#            state cost against sqlite, without the load balancer's hop);
#   lb1      the same replica behind an nginx load balancer;
#   lb3      three replicas on the same PostgreSQL + Redis behind the same kind of load balancer (an
#            `upstream` block with a keep-alive pool, from Benchmarks/upstream/nginx-hop.conf.template).
#            pg1's and lb1's replica is the first of these three, so lb1 and lb3 differ only in the
#            replica count.
# Every Spanway runs run.sh's telemetry-on config (OTLP to a do-nothing receiver, Prometheus, the spend
# ledger) and is called with a virtual key of a team with a budget; the key has a budget, an rpm limit
# and max_parallel_requests too, all far above what the run reaches, so every request is checked against
# them (on PostgreSQL + Redis by Redis's limit scripts) and none is refused.
# Not a test: figures only. Usage, from the project root:
#   Benchmarks/replicas.sh [seconds-per-measurement] [rounds]
# Environment: SKIP_BUILD=1 uses the existing .build/release/spanway (SPANWAY_BIN=path another binary, with
# its resource bundles beside it); KEEP_WORK=1 keeps the scratch directory (raw wrk output, logs).
# Writes Benchmarks/results/replicas.md and prints it, with the sqlite row set against the same row
# ("virtual key") of Benchmarks/results/latest.md. Needs wrk, nginx, redis-server and PostgreSQL
# (installed from Debian when missing); scripts/test-services.sh starts Redis and PostgreSQL.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
rounds="${2:-3}"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${SPANWAY_BIN:-}" ]; then swift build -c release --product spanway >/dev/null; fi
bin="${SPANWAY_BIN:-$root/.build/release/spanway}"
[ -x "$bin" ] || { echo "no release binary at $bin (run without SKIP_BUILD=1)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

source "$root/Benchmarks/lib.sh"  # work, pids, probe, cleanup on exit, port, up
chmod 711 "$work"  # nginx's unprivileged workers keep their temporary files in it
# Redis and PostgreSQL run as daemons outside `pids`: scripts/test-services.sh stops them.
stop_services() {
  if [ -n "${SPANWAY_TEST_SERVICES_DIR:-}" ]; then "$root/scripts/test-services.sh" stop || true; fi
}
trap 'cleanup; stop_services' EXIT
# Other work on the machine (other builds and test runs) skews every figure; the output says how much there was.
load_note() {
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) (this benchmark's own load included)," \
    "$(pgrep -c swift-frontend || true) Swift compiler and $(pgrep -fc 'swift-test|xctest' || true) test processes running"
}
# Each measurement starts once the machine is nearly idle (under 15 % of its CPU over half a second):
# the gateways ingest spend rows and export spans after a load run, and that must not fall into the next
# target's measurement. Other work on the machine can keep it busy; after 15 s the measurement starts
# anyway and is counted, and the output says how many were.
busy_starts=0; measurements=0
settle() {
  local u n s i w q sq st total0 idle0 total1 idle1
  measurements=$((measurements + 1))
  for _ in $(seq 30); do
    read -r _ u n s i w q sq st _ </proc/stat; total0=$((u + n + s + i + w + q + sq + st)); idle0=$((i + w))
    sleep 0.5
    read -r _ u n s i w q sq st _ </proc/stat; total1=$((u + n + s + i + w + q + sq + st)); idle1=$((i + w))
    [ $(( (total1 - total0 - idle1 + idle0) * 100 )) -lt $(( (total1 - total0) * 15 )) ] && return 0
  done
  busy_starts=$((busy_starts + 1))
  # What kept it busy: the three busiest processes over one second.
  echo "busy before measurement $measurements: $(top -bn2 -d1 -w 512 -o %CPU | awk '/^ *PID/ {n++; next} n == 2 && c < 3 && NF {printf "%s %s%%; ", $12, $9; c++}')" \
    >>"$work/busy.txt"
}
echo "$(date -u +%FT%TZ) start: $(load_note)" >"$work/load.txt"

# A SPANWAY_TEST_SERVICES_DIR from the caller's environment names services this script did not start.
unset SPANWAY_TEST_SERVICES_DIR
services_env=$("$root/scripts/test-services.sh") || { echo "scripts/test-services.sh could not start Redis and PostgreSQL" >&2; exit 1; }
eval "$services_env"
redis_pid=$(cat "$SPANWAY_TEST_SERVICES_DIR/redis.pid")
pg_pid=$(head -1 "$SPANWAY_TEST_SERVICES_DIR/pg/postmaster.pid")
redis_cli() { redis-cli -u "$SPANWAY_TEST_REDIS_URL" "$@"; }

upstream_port=$(port); sink_port=$(port); sqlite_port=$(port); lb1_port=$(port); lb3_port=$(port)
replica_ports=($(port) $(port) $(port))

# The canned upstream (run.sh's; its slow location is not used here).
sed "s|@WORK@|$work|g; s|@PORT@|$upstream_port|; s|@ROOT@|$root/Benchmarks/upstream|; s|@SLOWRATE@|1000|g" \
  "$root/Benchmarks/upstream/nginx.conf.template" >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" & direct_pid=$!; pids+=($direct_pid)
python3 "$root/Benchmarks/otlp_sink.py" "$sink_port" >"$work/sink.log" 2>&1 & pids+=($!)

# The load balancers: run.sh's proxy hop with the replicas as its upstream servers.
balancer() {  # name port replica-ports...
  local name=$1 listen=$2 servers=""; shift 2
  for p in "$@"; do servers+="server 127.0.0.1:$p; "; done
  mkdir -p "$work/$name"
  sed "s|@WORK@|$work/$name|g; s|@PORT@|$listen|; s|server 127.0.0.1:@UPSTREAM@;|$servers|" \
    "$root/Benchmarks/upstream/nginx-hop.conf.template" >"$work/$name/nginx.conf"
  grep -q "server 127.0.0.1:$1;" "$work/$name/nginx.conf" || { echo "the hop template changed: no upstream server line" >&2; exit 1; }
  nginx -p "$work/$name" -c "$work/$name/nginx.conf" &
}
balancer lb1 "$lb1_port" "${replica_ports[0]}"; lb1_pid=$!; pids+=($lb1_pid)
balancer lb3 "$lb3_port" "${replica_ports[@]}"; lb3_pid=$!; pids+=($lb3_pid)

cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/v1", api_key: sk-bench-upstream}
general_settings:
  master_key: sk-bench
litellm_settings:
  callbacks: ["otel", "prometheus"]
YAML
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_SERVICE_NAME=bench-gateway
env DATABASE_URL="sqlite:$work/spanway.db" "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 \
  --port "$sqlite_port" >"$work/sqlite.log" 2>&1 & sqlite_pid=$!; pids+=($sqlite_pid)
# The replicas: each in its own directory, where it keeps its spend journal. The first one migrates
# the schema before the others start (they would wait on the migration lock anyway).
replica_pids=()
for i in 0 1 2; do
  mkdir -p "$work/r$i"
  (cd "$work/r$i" && exec env DATABASE_URL="$SPANWAY_TEST_DATABASE_URL" REDIS_URL="$SPANWAY_TEST_REDIS_URL" \
    "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 --port "${replica_ports[$i]}" >"$work/r$i.log" 2>&1) &
  replica_pids+=($!); pids+=($!)
  up "http://127.0.0.1:${replica_ports[$i]}/health/liveliness" ||
    { echo "replica $i did not start (KEEP_WORK=1 keeps its log):" >&2; tail -5 "$work/r$i.log" >&2; exit 1; }
done
up "http://127.0.0.1:$upstream_port/v1/models" || { echo "nginx did not start" >&2; exit 1; }
up "http://127.0.0.1:$sqlite_port/health/liveliness" || { echo "Spanway on SQLite did not start" >&2; exit 1; }
for p in "$lb1_port" "$lb3_port"; do up "http://127.0.0.1:$p/health/liveliness" || { echo "a load balancer did not start" >&2; exit 1; }; done

# One key per store, made with the master key: on the SQLite gateway, and on the first replica (the
# others find it in PostgreSQL). Budgets of 1e9 USD, 1e8 requests a minute and 100,000 in parallel
# are never reached.
admin() {
  curl -sf -X POST "http://127.0.0.1:$1$2" -H "Authorization: Bearer sk-bench" -H "Content-Type: application/json" -d "$3"
}
field() { python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }
make_key() {  # port -> key
  local team; team=$(admin "$1" /team/new '{"team_alias":"bench-team","max_budget":1000000000}' | field team_id)
  admin "$1" /key/generate "{\"team_id\":\"$team\",\"max_budget\":1000000000,\"rpm_limit\":100000000,\"max_parallel_requests\":100000}" |
    field key
}
sqlite_key=$(make_key "$sqlite_port")
shared_key=$(make_key "${replica_ports[0]}")

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}'
for k in "$sqlite_key" "$shared_key"; do
  cat >"$work/post-$k.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $k"
LUA
done
# Every replica answers the key before anything is measured (the key reached them through PostgreSQL).
call() { curl -s -o "$work/answer.json" -w '%{http_code}' -X POST "$1" -H "Authorization: Bearer $2" -H "Content-Type: application/json" -d "$body"; }
for p in "$sqlite_port" "${replica_ports[@]}" "$lb1_port" "$lb3_port"; do
  k=$shared_key; [ "$p" = "$sqlite_port" ] && k=$sqlite_key
  status=$(call "http://127.0.0.1:$p/v1/chat/completions" "$k")
  [ "$status" = 200 ] || { echo "port $p answered $status: $(head -c 300 "$work/answer.json")" >&2; exit 1; }
done

targets=(direct sqlite pg1 lb1 lb3)
declare -A url=(
  [direct]="http://127.0.0.1:$upstream_port/v1/chat/completions"
  [sqlite]="http://127.0.0.1:$sqlite_port/v1/chat/completions"
  [pg1]="http://127.0.0.1:${replica_ports[0]}/v1/chat/completions"
  [lb1]="http://127.0.0.1:$lb1_port/v1/chat/completions"
  [lb3]="http://127.0.0.1:$lb3_port/v1/chat/completions")
declare -A key=([direct]="$shared_key" [sqlite]="$sqlite_key" [pg1]="$shared_key" [lb1]="$shared_key" [lb3]="$shared_key")
# Whose CPU time is the target's cost: the gateways, and the load balancer and services they need.
declare -A gateways=([direct]="$direct_pid" [sqlite]="$sqlite_pid" [pg1]="${replica_pids[0]}" [lb1]="${replica_pids[0]}" [lb3]="${replica_pids[*]}")
declare -A helpers=([direct]="" [sqlite]="" [pg1]="$redis_pid $pg_pid" [lb1]="$lb1_pid $redis_pid $pg_pid" [lb3]="$lb3_pid $redis_pid $pg_pid")
cpu_of() {  # pids... -> CPU seconds of them and their children
  local total=0 p
  for p in "$@"; do total=$(python3 -c "print($total + $(probe cpu "$p" | field cpu_s))"); done
  echo "$total"
}
# Redis's count of script calls, to show how many the shared limits made per request.
scripts_run() { redis_cli INFO commandstats | awk -F'[=,:]' '/^cmdstat_eval(sha)?:/ {n += $3} END {print n + 0}'; }

for t in "${targets[@]}"; do wrk -t1 -c8 -d2s -s "$work/post-${key[$t]}.lua" "${url[$t]}" >/dev/null; done  # warm up
for round in $(seq "$rounds"); do
  echo "round $round: $(load_note)" >>"$work/load.txt"
  for t in "${targets[@]}"; do
    settle
    wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/post-${key[$t]}.lua" "${url[$t]}" >"$work/$t-c1.r$round.txt"
  done
  for t in "${targets[@]}"; do
    read -r -a g <<<"${gateways[$t]}"; read -r -a h <<<"${helpers[$t]}"
    settle
    before="$(cpu_of "${g[@]}") $(cpu_of "${g[@]}" "${h[@]}") $(scripts_run)"
    wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/post-${key[$t]}.lua" "${url[$t]}" >"$work/$t-c64.r$round.txt"
    echo "$before $(cpu_of "${g[@]}") $(cpu_of "${g[@]}" "${h[@]}") $(scripts_run)" >"$work/$t-cpu.r$round.txt"
  done
done
echo "$(date -u +%FT%TZ) end: $(load_note)" >>"$work/load.txt"
echo "measurements started on a busy machine (still over 15 % CPU after 15 s): $busy_starts of $measurements" >>"$work/load.txt"
[ -f "$work/busy.txt" ] && cat "$work/busy.txt" >>"$work/load.txt"
# Whether any replica fell back to its own limits meanwhile (Redis unreachable): then lb1 and lb3
# would not have measured the shared path.
for i in 0 1 2; do
  degraded=$(curl -s -H "Authorization: Bearer sk-bench" "http://127.0.0.1:${replica_ports[$i]}/metrics" |
    awk '/^spanway_shared_state_degraded/ {print $2}')
  echo "replica $i: spanway_shared_state_degraded ${degraded:-missing}" >>"$work/load.txt"
done

# Redis's own time per script call over the whole run (the limit scripts run inside Redis, one at a time).
redis_cli INFO commandstats | awk -F'[=,:]' '/^cmdstat_eval(sha)?:/ {n += $3; t += $5} END {if (n) printf "%.1f\n", t / n; else print "none"}' \
  >"$work/redis-usec.txt"
mkdir -p "$root/Benchmarks/results"
# What the binary was built from, as far as can be seen: the tree now, and whether sources changed since.
stale=$(find "$root/Sources" -name '*.swift' -newer "$bin" | wc -l)
built="$(date -u -r "$bin" +%FT%TZ); the tree is at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' with uncommitted changes'), $stale source files modified since the build"
python3 - "$work" "$rounds" "$seconds" "$root/Benchmarks/results/latest.md" "$bin" "$built" <<'PY' | tee "$root/Benchmarks/results/replicas.md"
import datetime, os, re, statistics, sys

work, rounds, seconds, latest_path, binary, built = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
targets = ["direct", "sqlite", "pg1", "lb1", "lb3"]
NAMES = {"direct": "direct to nginx (the baseline)", "sqlite": "one Spanway on SQLite (single machine)",
         "pg1": "one replica on PostgreSQL + Redis, no load balancer",
         "lb1": "one replica on PostgreSQL + Redis, behind nginx", "lb3": "three replicas on PostgreSQL + Redis, behind nginx"}
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def wrk(t, load, r):
    text = open(f"{work}/{t}-{load}.r{r}.txt").read()
    pct = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"p50": pct["50"], "p99": pct["99"], "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "requests": int(re.search(r"(\d+) requests in", text).group(1)), "errors": int(errors.group(1)) if errors else 0}


def per_round(t, load, k):
    return [wrk(t, load, r)[k] for r in range(1, rounds + 1)]


def cost(t):  # per round: CPU s/request of the gateways, of everything, and Redis script calls/request, at c=64
    rows = []
    for r in range(1, rounds + 1):
        g0, a0, s0, g1, a1, s1 = map(float, open(f"{work}/{t}-cpu.r{r}.txt").read().split())
        n = max(wrk(t, "c64", r)["requests"], 1)
        rows.append(((g1 - g0) / n, (a1 - a0) / n, (s1 - s0) / n))
    return [statistics.median(c) for c in zip(*rows)]


med = statistics.median
f = {t: {f"{k}{l}": med(per_round(t, l, k)) for k in ("p50", "p99", "rps") for l in ("c1", "c64")} for t in targets}
for t in targets:
    f[t]["cpu"], f[t]["cpu_all"], f[t]["scripts"] = cost(t)
    f[t]["errors"] = sum(sum(per_round(t, l, "errors")) for l in ("c1", "c64"))
d = f["direct"]


def us(s):
    return f"{s * 1e6:,.0f} µs"


def signed(s):
    return f"{'+' if s >= 0 else '−'}{abs(s) * 1e6:,.0f} µs"


out = [f"`Benchmarks/replicas.sh {seconds} {rounds}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
       f"{os.cpu_count()} cores (wrk, nginx, the load balancer, Redis, PostgreSQL and the gateways share them); wrk, "
       f"{seconds} s per measurement, {rounds} rounds alternating the targets, medians over rounds. Every Spanway: "
       "telemetry on (OTLP, Prometheus, spend ledger), a virtual key of a team with a budget, the key with a budget, "
       "an rpm limit and max_parallel_requests (never reached). Added = target − direct (medians). "
       f"Binary: `{os.path.relpath(binary)}`, built {built}.", "",
       "| target | req/s, c=64 | added p50, c=1 | added p99, c=1 | p50 / p99, c=64 | CPU µs/request, gateways "
       "| CPU µs/request, with LB, Redis, PostgreSQL | Redis scripts/request | non-2xx |",
       "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
for t in targets:
    x = f[t]
    added = ("—", "—") if t == "direct" else (signed(x["p50c1"] - d["p50c1"]), signed(x["p99c1"] - d["p99c1"]))
    out.append(f"| {NAMES[t]} | {x['rpsc64']:,.0f} | {added[0]} | {added[1]} | {us(x['p50c64'])} / {us(x['p99c64'])} "
               f"| {x['cpu'] * 1e6:,.0f} | {x['cpu_all'] * 1e6:,.0f} | {x['scripts']:.1f} | {x['errors']} |")
out.append(f"\n(direct: p50 {us(d['p50c1'])}, p99 {us(d['p99c1'])} at c=1.) CPU is over the c=64 run: for direct, "
           "the upstream nginx; otherwise the gateway processes, then with the load balancer's nginx and the "
           "Redis and PostgreSQL servers (the upstream nginx and the OTLP receiver are left out).")
l1, l3, s, p1 = f["lb1"], f["lb3"], f["sqlite"], f["pg1"]
out.append(f"\nThree replicas against one, both behind nginx: {l3['rpsc64'] / l1['rpsc64']:.2f}× the requests/s at c=64 "
           f"({l3['rpsc64']:,.0f} against {l1['rpsc64']:,.0f}); added p50 at c=1 {signed(l3['p50c1'] - d['p50c1'])} against "
           f"{signed(l1['p50c1'] - d['p50c1'])}. One replica on PostgreSQL + Redis against one on SQLite, both called "
           f"directly: {p1['rpsc64'] / s['rpsc64']:.2f}× the requests/s, added p50 at c=1 {signed(p1['p50c1'] - d['p50c1'])} "
           f"against {signed(s['p50c1'] - d['p50c1'])}; the load balancer's hop adds {signed(l1['p50c1'] - p1['p50c1'])} "
           f"at c=1. On {os.cpu_count()} cores the replicas compete with each other, nginx, Redis and PostgreSQL for the "
           "same CPUs, so three replicas cannot add capacity here; the figures show what sharing state costs per "
           "request, not how a fleet on separate machines scales.")
out.append(f"\nRedis spent {open(f'{work}/redis-usec.txt').read().strip()} µs per script call (`INFO commandstats`, the "
           "whole run); it runs scripts one at a time, so this bounds the shared-limit calls per second it can serve.")
out += ["", "Per round (req/s at c=64; p50 at c=1):", "", "| target | " + " | ".join(f"round {r}" for r in range(1, rounds + 1)) + " |",
        "| --- |" + " --- |" * rounds]
for t in targets:
    out.append(f"| {NAMES[t]} | " + " | ".join(f"{wrk(t, 'c64', r)['rps']:,.0f}; {us(wrk(t, 'c1', r)['p50'])}"
                                                for r in range(1, rounds + 1)) + " |")

# The SQLite row against results/latest.md's "Spanway, virtual key" column (run.sh, the same config and
# key kind, without the rpm and parallel limits). Within noise = latest.md's figure lies inside the range
# this run's rounds gave (added figures per round against the same round's direct run).
out += ["", "### One Spanway on SQLite against `results/latest.md`", ""]
try:
    # The first table whose header starts with "measure": every figure, one column per target.
    lines = open(latest_path).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| measure |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    table = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines[start:end]]
    head, rows = table[0], {r[0]: r for r in table[2:]}
    col, dcol = head.index("Spanway, virtual key"), head.index("direct to nginx")
    number = lambda cell: float(re.sub(r"[^\d.]", "", cell))
    old = {"p50": number(rows["added p50, concurrency 1"][col]) * 1e-6, "p99": number(rows["added p99, concurrency 1"][col]) * 1e-6,
           "rps": number(rows["requests/s, concurrency 64"][col]), "direct": number(rows["requests/s, concurrency 64"][dcol]),
           "cpu": number(rows["CPU per request, concurrency 64"][col]) * 1e-6}
except (OSError, StopIteration, IndexError, KeyError, ValueError) as error:
    old = None
    out.append(f"Could not read the figures of {latest_path} ({error!r}); no comparison.")
if old:
    direct = lambda k, l: per_round("direct", l, k)
    ranges = {"p50": [a - b for a, b in zip(per_round("sqlite", "c1", "p50"), direct("p50", "c1"))],
              "p99": [a - b for a, b in zip(per_round("sqlite", "c1", "p99"), direct("p99", "c1"))],
              "rps": per_round("sqlite", "c64", "rps"),
              "share": [a / b for a, b in zip(per_round("sqlite", "c64", "rps"), direct("rps", "c64"))]}
    old["share"] = old["rps"] / old["direct"]
    fmt = {"p50": signed, "p99": signed, "rps": lambda v: f"{v:,.0f}", "share": lambda v: f"{v:.1%}"}
    now = {"p50": s["p50c1"] - d["p50c1"], "p99": s["p99c1"] - d["p99c1"], "rps": s["rpsc64"], "share": s["rpsc64"] / d["rpsc64"]}
    label = {"p50": "added p50, c=1", "p99": "added p99, c=1", "rps": "req/s, c=64",
             "share": "req/s at c=64 as a share of direct's (same run)"}
    out += ["| figure | latest.md | this run (median) | this run, range over rounds | latest.md within that range |",
            "| --- | --- | --- | --- | --- |"]
    for k in ("p50", "p99", "rps", "share"):
        lo, hi = min(ranges[k]), max(ranges[k])
        out.append(f"| {label[k]} | {fmt[k](old[k])} | {fmt[k](now[k])} | {fmt[k](lo)} – {fmt[k](hi)} "
                   f"| {'yes' if lo <= old[k] <= hi else f'no ({now[k] / old[k]:.2f}× latest.md)'} |")
    out.append(f"\nCPU per request at c=64: {s['cpu'] * 1e6:,.0f} µs here, {old['cpu'] * 1e6:,.0f} µs in latest.md. Direct to "
               f"nginx gave {d['rpsc64']:,.0f} req/s here and {old['direct']:,.0f} in latest.md, which shows how much faster "
               "or slower the machine was: the share of direct's throughput compares across runs better than req/s. "
               f"{rounds} rounds give a narrow range: a figure outside it is not proof of a change.")
out += ["", "Load during the run (other work on the machine skews the figures):", "", "```",
        open(f"{work}/load.txt").read().rstrip(), "```"]
print("\n".join(out))
PY
