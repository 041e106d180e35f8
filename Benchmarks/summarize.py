"""Reads the wrk outputs of Benchmarks/run.sh and prints the Markdown result table (medians of rounds)."""
import os, platform, re, statistics, subprocess, sys, datetime

work, rounds, seconds, rss_kb, exported, dropped = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse(path):
    text = open(path).read()
    pct = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"p50": pct["50"], "p99": pct["99"], "rps": rps, "errors": int(errors.group(1)) if errors else 0}


def median(name, key):
    return statistics.median(parse(os.path.join(work, f"{name}.r{r}.txt"))[key] for r in range(1, rounds + 1))


def errors(name):
    return sum(parse(os.path.join(work, f"{name}.r{r}.txt"))["errors"] for r in range(1, rounds + 1))


us = lambda s: f"{s * 1e6:.0f} µs"
d50, s50 = median("direct-c1", "p50"), median("spanway-c1", "p50")
d99, s99 = median("direct-c1", "p99"), median("spanway-c1", "p99")
drps1, srps1 = median("direct-c1", "rps"), median("spanway-c1", "rps")
drps, srps = median("direct-c64", "rps"), median("spanway-c64", "rps")
d99_64, s99_64 = median("direct-c64", "p99"), median("spanway-c64", "p99")
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"""# Spanway benchmark — {datetime.date.today()}

Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; {swift}.
Upstream: `spanway mock-upstream` (deterministic OpenAI JSON, loopback). Spanway: release build, OTLP export
(gzip protobuf to a local receiver) and Prometheus on. Load: wrk, {seconds} s per measurement, {rounds} rounds
alternating direct and Spanway; each figure is the median over rounds.

| measure | direct to upstream | through Spanway | added / ratio |
| --- | --- | --- | --- |
| latency p50, concurrency 1 | {us(d50)} | {us(s50)} | +{us(s50 - d50)} |
| latency p99, concurrency 1 | {us(d99)} | {us(s99)} | +{us(s99 - d99)} |
| requests/s, concurrency 1 | {drps1:.0f} | {srps1:.0f} | {srps1 / drps1:.2f}× |
| requests/s, concurrency 64 | {drps:.0f} | {srps:.0f} | {srps / drps:.2f}× |
| latency p99, concurrency 64 | {us(d99_64)} | {us(s99_64)} | +{us(s99_64 - d99_64)} |

Gateway resident memory after the run: {int(rss_kb) / 1024:.1f} MiB. Spans exported: {exported}; dropped: {dropped}.
Non-2xx answers: direct {errors('direct-c1') + errors('direct-c64')}, Spanway {errors('spanway-c1') + errors('spanway-c64')}.
Note: on 2 cores the load generator, the upstream and the gateway share the CPUs, so concurrency-64
throughput through Spanway is bounded by the machine as much as by the gateway.""")
