#!/usr/bin/env bash
# Requests per second with the spend ledger on vs off (general_settings.disable_spend_logs), on the
# in-process mock provider so only the gateway's own work is measured. Figures, not a test.
#   Benchmarks/ledger.sh [seconds-per-measurement] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-10}"; rounds="${2:-3}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product spanway >/dev/null 2>&1
bin="$root/.build/release/spanway"
work="$(mktemp -d)"
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"m","messages":[{"role":"user","content":"Say hello"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
measure() {  # mode connections threads -> requests/s
  local mode=$1 p; p=$(port)
  printf 'model_list: [{model_name: m, litellm_params: {model: mock/gpt-4o-mini}}]\ngeneral_settings: {master_key: sk-bench, disable_spend_logs: %s}\n' \
    "$([ "$mode" = off ] && echo true || echo false)" >"$work/config.yaml"
  rm -rf "$work"/ledger.db*
  DATABASE_URL="sqlite:$work/ledger.db" LOG_LEVEL=error "$bin" serve --config "$work/config.yaml" --host 127.0.0.1 --port "$p" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/health/liveliness" && break; sleep 0.1; done
  wrk -t"$3" -c"$2" -d2s -s "$work/post.lua" "http://127.0.0.1:$p/v1/chat/completions" >/dev/null
  wrk -t"$3" -c"$2" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:$p/v1/chat/completions" \
    | awk 'function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; return v * 1000000 }
           /Requests\/sec/ {rps=$2} / 50%/ {p50=us($2)} / 99%/ {p99=us($2)} END {print rps, p50, p99}'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
declare -A rps p50 p99
for round in $(seq "$rounds"); do
  for mode in off on; do
    for c in 1 64; do
      read -r r a b < <(measure "$mode" "$c" "$([ "$c" = 1 ] && echo 1 || echo 2)")
      rps[$mode-$c]+="$r "; p50[$mode-$c]+="$a "; p99[$mode-$c]+="$b "
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| concurrency | ledger off req/s | ledger on req/s | ratio | p50 µs off → on | p99 µs off → on |"
echo "| --- | --- | --- | --- | --- | --- |"
for c in 1 64; do
  off=$(echo "${rps[off-$c]}" | median); on=$(echo "${rps[on-$c]}" | median)
  echo "| $c | $off | $on | $(python3 -c "print(f'{$on/$off:.2f}×')") | $(echo "${p50[off-$c]}" | median) → $(echo "${p50[on-$c]}" | median) | $(echo "${p99[off-$c]}" | median) → $(echo "${p99[on-$c]}" | median) |"
done
echo
echo "$(date -u +%F), $(nproc) cores, $seconds s per measurement, $rounds rounds alternating; medians. Percentiles are wrk's, per run."
