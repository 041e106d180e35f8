#!/usr/bin/env bash
# Side by side, on this machine, all in one run with rounds alternating the targets:
#   direct   requests straight to a zero-latency nginx upstream (canned OpenAI JSON and SSE; no
#            gateway code in it) — the baseline every "added" figure is measured against;
#   hop      an nginx `proxy_pass` hop in front of that upstream (keep-alive upstream pool) — what one
#            well-configured proxy hop costs here;
#   spanway  Spanway with OTLP export, Prometheus and the SQLite spend ledger on, master key;
#   vkey     the same Spanway process, called with a virtual key that belongs to a team with a budget
#            (the key has a budget too), so every request also authenticates the key and checks both
#            budgets — the configuration the performance targets are stated for;
#   bare     Spanway with telemetry off (no OTLP, no ledger), master key;
#   litellm  LiteLLM's proxy (same config file), when it can be installed.
# Not a test: figures only. Usage, from the project root:
#   Benchmarks/run.sh [seconds-per-measurement] [rounds]
# Environment: SKIP_BUILD=1 uses the existing .build/release/spanway (SPANWAY_BIN=path another binary,
# with its resource bundles beside it); SKIP_LITELLM=1 skips LiteLLM;
# SKIP_SLOW=1 skips the concurrent slow streams (SLOW_STREAMS=N changes their number, default 1000);
# KEEP_WORK=1 keeps the scratch directory (raw wrk output, logs) and prints its path.
# Writes Benchmarks/results/latest.md. Needs wrk and nginx (installed from Debian when missing) and,
# for LiteLLM, PyPI (`litellm[proxy]` into a throwaway venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
rounds="${2:-3}"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
# SPANWAY_BIN measures another build (an older commit's, for a before/after table) instead.
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${SPANWAY_BIN:-}" ]; then swift build -c release --product spanway >/dev/null; fi
bin="${SPANWAY_BIN:-$root/.build/release/spanway}"
[ -x "$bin" ] || { echo "no release binary at $bin (run without SKIP_BUILD=1)" >&2; exit 1; }
# 1,000 streams through a gateway need ~2,000 descriptors in it and 1,000 in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

source "$root/Benchmarks/lib.sh"  # work, pids, probe, cleanup on exit, port, up

upstream_port=$(port); hop_port=$(port); sink_port=$(port); spanway_port=$(port); bare_port=$(port)
litellm_port=$(port)

# The slow upstream's answer: the canned SSE with its content chunk repeated 100 times, rate-limited
# by nginx to ~10 s. It lives in the scratch directory, which nginx's unprivileged workers must read.
mkdir -p "$work/slow"
python3 - "$root/Benchmarks/upstream/chat.sse" "$work/slow/slow.sse" <<'PY'
import sys
events = [e for e in open(sys.argv[1]).read().split("\n\n") if e.strip()]
open(sys.argv[2], "w").write("\n\n".join(events[:2] + [events[2]] * 100 + events[-3:]) + "\n\n")
PY
chmod 711 "$work"; chmod -R a+rX "$work/slow"
slow_rate=$(( $(stat -c %s "$work/slow/slow.sse") / 10 ))

sed "s|@WORK@|$work|g; s|@PORT@|$upstream_port|; s|@ROOT@|$root/Benchmarks/upstream|; s|@SLOWRATE@|$slow_rate|g" \
  "$root/Benchmarks/upstream/nginx.conf.template" >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" & direct_pid=$!; pids+=($direct_pid)
sed "s|@WORK@|$work|g; s|@PORT@|$hop_port|; s|@UPSTREAM@|$upstream_port|" \
  "$root/Benchmarks/upstream/nginx-hop.conf.template" >"$work/nginx-hop.conf"
nginx -p "$work" -c "$work/nginx-hop.conf" & hop_pid=$!; pids+=($hop_pid)
python3 "$root/Benchmarks/otlp_sink.py" "$sink_port" >"$work/sink.log" 2>&1 & pids+=($!)

# One config for both gateways: a quickstart-style LiteLLM config with telemetry on.
cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/v1", api_key: sk-bench-upstream}
  - model_name: gpt-4o-mini-stream
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/sse/v1", api_key: sk-bench-upstream}
  - model_name: gpt-4o-mini-slow
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/slow/v1", api_key: sk-bench-upstream}
general_settings:
  master_key: sk-bench
litellm_settings:
  callbacks: ["otel", "prometheus"]
YAML
# The same without telemetry: no OTLP, no ledger (Prometheus is always on).
sed 's/callbacks: \["otel", "prometheus"\]/callbacks: []/; s/master_key: sk-bench/master_key: sk-bench\n  disable_spend_logs: true/' \
  "$work/config.yaml" >"$work/bare.yaml"
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_SERVICE_NAME=bench-gateway
spanway_cmd=(env DATABASE_URL="sqlite:$work/spanway.db" "$bin" serve --config "$work/config.yaml" --host 127.0.0.1)
bare_cmd=(env DATABASE_URL="sqlite:$work/bare.db" OTEL_SDK_DISABLED=true "$bin" serve --config "$work/bare.yaml" --host 127.0.0.1)
up "http://127.0.0.1:$upstream_port/v1/models" || { echo "nginx did not start" >&2; exit 1; }
up "http://127.0.0.1:$hop_port/v1/models" || { echo "the nginx hop did not start" >&2; exit 1; }
cs_port=$(port)
probe coldstart "http://127.0.0.1:$cs_port/health/liveliness" -- \
  env DATABASE_URL="sqlite:$work/coldstart.db" "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 --port "$cs_port" \
  >"$work/spanway-coldstart.json"
cs_port=$(port)
probe coldstart "http://127.0.0.1:$cs_port/health/liveliness" -- \
  env DATABASE_URL="sqlite:$work/coldstart-bare.db" OTEL_SDK_DISABLED=true "$bin" serve --config "$work/bare.yaml" \
  --host 127.0.0.1 --port "$cs_port" >"$work/bare-coldstart.json"
"${spanway_cmd[@]}" --port "$spanway_port" >"$work/spanway.log" 2>&1 & spanway_pid=$!; pids+=($spanway_pid)
"${bare_cmd[@]}" --port "$bare_port" >"$work/bare.log" 2>&1 & bare_pid=$!; pids+=($bare_pid)
{ up "http://127.0.0.1:$spanway_port/health/liveliness" && up "http://127.0.0.1:$bare_port/health/liveliness"; } ||
  { echo "Spanway did not start (see $work/spanway.log, bare.log; KEEP_WORK=1 keeps them)" >&2; exit 1; }

# The virtual-key scenario runs on the telemetry-on process: the issue's targets are stated for
# "telemetry on + a virtual key in a team with a budget", and sharing the process makes the only
# difference from the master-key row the key's authentication and budget checks. Both rows measure
# CPU and memory over their own runs, so sharing does not mix their figures. The budgets (1e9 USD)
# are large enough never to run out during the benchmark.
admin() {
  curl -sf -X POST "http://127.0.0.1:$spanway_port$1" -H "Authorization: Bearer sk-bench" \
    -H "Content-Type: application/json" -d "$2"
}
team_id=$(admin /team/new '{"team_alias":"bench-team","max_budget":1000000000}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["team_id"])')
vkey=$(admin /key/generate "{\"team_id\":\"$team_id\",\"max_budget\":1000000000}" | python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
vkey_pid=$spanway_pid
sleep 1
for t in spanway bare hop; do pid_var="${t}_pid"; probe rss "${!pid_var}" >"$work/$t-idle.json"; done
cp "$work/spanway-idle.json" "$work/vkey-idle.json"; cp "$work/spanway-coldstart.json" "$work/vkey-coldstart.json"

# LiteLLM: a throwaway venv, workers = cores, the same config file. Its `otel` and `prometheus`
# callbacks need the OpenTelemetry SDK and prometheus_client, which `litellm[proxy]` does not pull in.
# Without a database LiteLLM has no virtual keys, so it has no virtual-key row.
litellm_note=""
venv="${LITELLM_VENV:-$HOME/.cache/spanway-bench/litellm-venv}"
litellm_pid=""
if [ "${SKIP_LITELLM:-0}" = 1 ]; then
  litellm_note="skipped (SKIP_LITELLM=1)"
elif ! { [ -x "$venv/bin/litellm" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'litellm[proxy]' prometheus_client \
      opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-http >"$work/pip.log" 2>&1; }; }; then
  litellm_note="skipped: pip could not install litellm[proxy] (see the pip log)"
else
  # uvicorn's supervisor kills a worker that does not answer its health ping within 5 s, and on a
  # busy 2-core machine importing LiteLLM holds the GIL for longer, so the workers are restarted
  # forever; a longer health-check timeout lets them finish starting. LITELLM_LOCAL_MODEL_COST_MAP
  # uses the price table shipped in the package (as Spanway does) instead of fetching it at start.
  healthcheck=()
  if "$venv/bin/litellm" --help 2>/dev/null | grep -q -- --timeout_worker_healthcheck; then
    healthcheck=(--timeout_worker_healthcheck 120)
  fi
  litellm_cmd=(env OTEL_EXPORTER=otlp_http OTEL_ENDPOINT="http://127.0.0.1:$sink_port/v1/traces" LITELLM_LOCAL_MODEL_COST_MAP=True
    "$venv/bin/litellm" --config "$work/config.yaml" --host 127.0.0.1 --num_workers "$(nproc)" "${healthcheck[@]}")
  cs_port=$(port)
  probe coldstart "http://127.0.0.1:$cs_port/health/liveliness" -- "${litellm_cmd[@]}" --port "$cs_port" \
    >"$work/litellm-coldstart.json"
  "${litellm_cmd[@]}" --port "$litellm_port" >"$work/litellm.log" 2>&1 & litellm_pid=$!; pids+=($litellm_pid)
  if up "http://127.0.0.1:$litellm_port/health/liveliness" 600; then
    sleep 2
    probe rss "$litellm_pid" >"$work/litellm-idle.json"
    litellm_version=$("$venv/bin/pip" show litellm 2>/dev/null | awk '/^Version/ {print $2}')
  else
    litellm_note="skipped: the LiteLLM proxy did not become healthy (see its log)"; litellm_pid=""
  fi
fi

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}'
for key in sk-bench "$vkey"; do
  cat >"$work/post-$key.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
done
targets=(direct hop spanway vkey bare)
# Per target: the plain URL, its streaming twin (nginx serves SSE under /sse/, the gateways by model),
# the key it is called with, and the process whose CPU and memory are its cost.
declare -A url=(
  [direct]="http://127.0.0.1:$upstream_port/v1/chat/completions"
  [hop]="http://127.0.0.1:$hop_port/v1/chat/completions"
  [spanway]="http://127.0.0.1:$spanway_port/v1/chat/completions"
  [vkey]="http://127.0.0.1:$spanway_port/v1/chat/completions"
  [bare]="http://127.0.0.1:$bare_port/v1/chat/completions")
declare -A key=([direct]=sk-bench [hop]=sk-bench [spanway]=sk-bench [vkey]="$vkey" [bare]=sk-bench [litellm]=sk-bench)
if [ -n "$litellm_pid" ]; then targets+=(litellm); url[litellm]="http://127.0.0.1:$litellm_port/v1/chat/completions"; fi
stream_url() {
  case $1 in
    direct) echo "http://127.0.0.1:$upstream_port/sse/v1/chat/completions gpt-4o-mini" ;;
    hop) echo "http://127.0.0.1:$hop_port/sse/v1/chat/completions gpt-4o-mini" ;;
    *) echo "${url[$1]} gpt-4o-mini-stream" ;;
  esac
}
for t in "${targets[@]}"; do wrk -t1 -c8 -d2s -s "$work/post-${key[$t]}.lua" "${url[$t]}" >/dev/null; done  # warm up

for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/post-${key[$t]}.lua" "${url[$t]}" >"$work/$t-c1.r$round.txt"
  done
  # At concurrency 64: the serving process's CPU time (with its workers) before and after, for CPU
  # per request, and its resident memory sampled throughout.
  for t in "${targets[@]}"; do
    pid_var="${t}_pid"
    sampler=""
    if [ "$t" != direct ]; then probe rss-max "${!pid_var}" "$seconds" >"$work/$t-rss.r$round.json" & sampler=$!; fi
    probe cpu "${!pid_var}" >"$work/$t-cpu.r$round.json"
    wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/post-${key[$t]}.lua" "${url[$t]}" >"$work/$t-c64.r$round.txt"
    probe cpu "${!pid_var}" >>"$work/$t-cpu.r$round.json"
    if [ -n "$sampler" ]; then wait "$sampler"; fi
  done
  for t in "${targets[@]}"; do
    read -r surl smodel < <(stream_url "$t")
    probe ttft "$surl" "${key[$t]}" "$smodel" 200 >"$work/$t-ttft.r$round.json"
  done
done

# Concurrent slow streams: the telemetry-on gateway with the virtual key holds N streamed answers
# from the rate-limited upstream at once; its largest resident memory meanwhile, and whether all
# completed. nginx's active-connection count shows how many the gateway really held upstream at once.
if [ "${SKIP_SLOW:-0}" != 1 ]; then
  probe slowstreams "${url[vkey]}" "$vkey" gpt-4o-mini-slow "${SLOW_STREAMS:-1000}" \
    "http://127.0.0.1:$upstream_port/nginx_status" "$spanway_pid" >"$work/slowstreams.json"
fi
curl -s "http://127.0.0.1:$spanway_port/metrics" >"$work/metrics.txt"

mkdir -p "$root/Benchmarks/results"
python3 "$root/Benchmarks/summarize.py" "$work" "$rounds" "$seconds" "${targets[*]}" \
  "${litellm_version:-}" "$litellm_note" | tee "$root/Benchmarks/results/latest.md"
