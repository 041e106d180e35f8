#!/usr/bin/env bash
# Side by side, on this machine: requests straight to a zero-latency nginx upstream (canned OpenAI
# JSON and SSE; no gateway code in it), through Spanway with OTLP export, Prometheus and the spend
# ledger on, through Spanway with telemetry off, and through LiteLLM's proxy (same config file) when
# it can be installed. Not a test: figures only. Usage, from the project root:
#   Benchmarks/run.sh [seconds-per-measurement] [rounds]
# Writes Benchmarks/results/latest.md. Needs wrk and nginx (installed from Debian when missing) and,
# for LiteLLM, PyPI (`litellm[proxy]` into a throwaway venv; SKIP_LITELLM=1 skips it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
rounds="${2:-3}"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
swift build -c release --product spanway >/dev/null
bin="$root/.build/release/spanway"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up() { for _ in $(seq "${2:-300}"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
probe() { python3 "$root/Benchmarks/probe.py" "$@"; }

upstream_port=$(port); sink_port=$(port); spanway_port=$(port); bare_port=$(port); litellm_port=$(port)
sed "s|@WORK@|$work|g; s|@PORT@|$upstream_port|; s|@ROOT@|$root/Benchmarks/upstream|" \
  "$root/Benchmarks/upstream/nginx.conf.template" >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" & pids+=($!)
python3 "$root/Benchmarks/otlp_sink.py" "$sink_port" >"$work/sink.log" 2>&1 & pids+=($!)

# One config for both gateways: a quickstart-style LiteLLM config with telemetry on.
cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/v1", api_key: sk-bench-upstream}
  - model_name: gpt-4o-mini-stream
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$upstream_port/sse/v1", api_key: sk-bench-upstream}
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
up "http://127.0.0.1:$upstream_port/v1/models" || { echo "nginx did not start" >&2; exit 1; }
cs_port=$(port)
coldstart_spanway=$(probe coldstart "http://127.0.0.1:$cs_port/health/liveliness" -- \
  env DATABASE_URL="sqlite:$work/coldstart.db" "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 --port "$cs_port")
"${spanway_cmd[@]}" --port "$spanway_port" >"$work/spanway.log" 2>&1 & spanway_pid=$!; pids+=($spanway_pid)
DATABASE_URL="sqlite:$work/bare.db" OTEL_SDK_DISABLED=true "$bin" serve --config "$work/bare.yaml" --host 127.0.0.1 \
  --port "$bare_port" >"$work/bare.log" 2>&1 & pids+=($!)
up "http://127.0.0.1:$spanway_port/health/liveliness" && up "http://127.0.0.1:$bare_port/health/liveliness"
sleep 1
idle_spanway=$(probe rss "$spanway_pid")

# LiteLLM: a throwaway venv, workers = cores, the same config file. Its `otel` and `prometheus`
# callbacks need the OpenTelemetry SDK and prometheus_client, which `litellm[proxy]` does not pull in.
litellm_note=""
venv="${LITELLM_VENV:-$HOME/.cache/spanway-bench/litellm-venv}"
litellm_pid=""
if [ "${SKIP_LITELLM:-0}" = 1 ]; then
  litellm_note="skipped (SKIP_LITELLM=1)"
elif ! { [ -x "$venv/bin/litellm" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'litellm[proxy]' prometheus_client \
      opentelemetry-api opentelemetry-sdk opentelemetry-exporter-otlp-proto-http >"$work/pip.log" 2>&1; }; }; then
  litellm_note="skipped: pip could not install litellm[proxy] (see the pip log)"
else
  litellm_cmd=(env OTEL_EXPORTER=otlp_http OTEL_ENDPOINT="http://127.0.0.1:$sink_port/v1/traces"
    "$venv/bin/litellm" --config "$work/config.yaml" --host 127.0.0.1 --num_workers "$(nproc)")
  cs_port=$(port)
  coldstart_litellm=$(probe coldstart "http://127.0.0.1:$cs_port/health/liveliness" -- "${litellm_cmd[@]}" --port "$cs_port")
  "${litellm_cmd[@]}" --port "$litellm_port" >"$work/litellm.log" 2>&1 & litellm_pid=$!; pids+=($litellm_pid)
  if up "http://127.0.0.1:$litellm_port/health/liveliness" 600; then
    sleep 2
    idle_litellm=$(probe rss "$litellm_pid")
    litellm_version=$("$venv/bin/pip" show litellm 2>/dev/null | awk '/^Version/ {print $2}')
  else
    litellm_note="skipped: the LiteLLM proxy did not become healthy (see its log)"; litellm_pid=""
  fi
fi

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
targets=(direct spanway bare)
declare -A url=(
  [direct]="http://127.0.0.1:$upstream_port/v1/chat/completions"
  [spanway]="http://127.0.0.1:$spanway_port/v1/chat/completions"
  [bare]="http://127.0.0.1:$bare_port/v1/chat/completions")
if [ -n "$litellm_pid" ]; then targets+=(litellm); url[litellm]="http://127.0.0.1:$litellm_port/v1/chat/completions"; fi
for t in "${targets[@]}"; do wrk -t1 -c8 -d2s -s "$work/post.lua" "${url[$t]}" >/dev/null; done  # warm up

for round in $(seq "$rounds"); do
  for t in "${targets[@]}"; do
    wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/post.lua" "${url[$t]}" >"$work/$t-c1.r$round.txt"
  done
  for t in "${targets[@]}"; do
    pid_var="${t}_pid"
    if [ "$t" = spanway ] || [ "$t" = litellm ]; then
      probe rss-max "${!pid_var}" "$seconds" >"$work/$t-rss.r$round.json" & sampler=$!
    fi
    wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/post.lua" "${url[$t]}" >"$work/$t-c64.r$round.txt"
    if [ -n "${sampler:-}" ]; then wait "$sampler"; sampler=""; fi
  done
done
for t in "${targets[@]}"; do
  case $t in
    direct) base="http://127.0.0.1:$upstream_port/sse/v1/chat/completions"; model=gpt-4o-mini ;;
    *) base="${url[$t]}"; model=gpt-4o-mini-stream ;;
  esac
  probe ttft "$base" sk-bench "$model" 400 >"$work/$t-ttft.json"
done
curl -s "http://127.0.0.1:$spanway_port/metrics" >"$work/metrics.txt"

mkdir -p "$root/Benchmarks/results"
python3 "$root/Benchmarks/summarize.py" "$work" "$rounds" "$seconds" "${targets[*]}" \
  "${coldstart_spanway}" "${coldstart_litellm:-null}" "$idle_spanway" "${idle_litellm:-null}" \
  "${litellm_version:-}" "$litellm_note" | tee "$root/Benchmarks/results/latest.md"
