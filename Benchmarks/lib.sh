# Sourced by the benchmark scripts (after they set `root`): a scratch directory, the processes they
# start and their clean-up on exit, free ports, and waiting for a URL to answer.
work="$(mktemp -d)"
pids=()
probe() { python3 "$root/Benchmarks/probe.py" "$@"; }
# Every process started here is stopped with its children (nginx's and LiteLLM's workers), by pid.
cleanup() {
  set +e
  local all=()
  for p in "${pids[@]}"; do all+=($(probe tree "$p" 2>/dev/null)); done
  if [ ${#all[@]} -gt 0 ]; then
    kill "${all[@]}" 2>/dev/null
    # Give them 10 s to exit (LiteLLM's workers are slow to), then stop the rest for good.
    for _ in $(seq 100); do
      local alive=0
      for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.1
    done
    kill -9 "${all[@]}" 2>/dev/null
  fi
  wait 2>/dev/null
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "scratch directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so an interrupted run still goes through the EXIT trap's clean-up
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
up() { for _ in $(seq "${2:-300}"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
