#!/usr/bin/env bash
# Added latency and throughput of Spanway, with telemetry on, against the same requests sent
# straight to the upstream. Not a test: figures only. Usage, from the project root:
#   Benchmarks/run.sh [seconds-per-measurement] [rounds]
# Writes Benchmarks/results/latest.md. Needs wrk (installed from Debian when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
rounds="${2:-3}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product spanway >/dev/null
bin="$root/.build/release/spanway"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

upstream_port=$(port); sink_port=$(port); gateway_port=$(port)
"$bin" mock-upstream --port "$upstream_port" >"$work/upstream.log" 2>&1 & pids+=($!)
python3 "$root/Benchmarks/otlp_sink.py" "$sink_port" >"$work/sink.log" 2>&1 & pids+=($!)
cat >"$work/config.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:$upstream_port/v1
      api_key: sk-bench-upstream
general_settings:
  master_key: sk-bench
litellm_settings:
  callbacks: ["otel", "prometheus"]
YAML
DATABASE_URL="sqlite:$work/spanway.db" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" LOG_LEVEL=warning \
  "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 --port "$gateway_port" >"$work/gateway.log" 2>&1 & pids+=($!)
wait_up "http://127.0.0.1:$upstream_port/v1/models"
wait_up "http://127.0.0.1:$gateway_port/health/liveliness"

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in one short sentence."}]}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
direct="http://127.0.0.1:$upstream_port/v1/chat/completions"
gateway="http://127.0.0.1:$gateway_port/v1/chat/completions"
for url in "$direct" "$gateway"; do wrk -t1 -c8 -d2s -s "$work/post.lua" "$url" >/dev/null; done  # warm up

measure() {  # name url connections threads
  wrk -t"$4" -c"$3" -d"${seconds}s" --latency -s "$work/post.lua" "$2" >"$work/$1.r$round.txt"
}
for round in $(seq "$rounds"); do
  measure direct-c1 "$direct" 1 1; measure spanway-c1 "$gateway" 1 1
  measure direct-c64 "$direct" 64 2; measure spanway-c64 "$gateway" 64 2
done
rss_kb=$(ps -o rss= -p "${pids[2]}" | tr -d ' ')
exported=$(curl -s "http://127.0.0.1:$gateway_port/metrics" | awk '/^spanway_sink_exported_total/ {print $2}')
dropped=$(curl -s "http://127.0.0.1:$gateway_port/metrics" | awk '/^spanway_sink_dropped_total/ {print $2}')

mkdir -p "$root/Benchmarks/results"
python3 "$root/Benchmarks/summarize.py" "$work" "$rounds" "$seconds" "$rss_kb" "${exported:-0}" "${dropped:-0}" \
  | tee "$root/Benchmarks/results/latest.md"
