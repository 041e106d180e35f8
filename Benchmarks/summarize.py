"""Reads what Benchmarks/run.sh measured and prints the Markdown result table (medians of rounds)."""
import datetime, glob, json, os, platform, re, statistics, subprocess, sys

(work, rounds, seconds, targets, cold_spanway, cold_litellm, idle_spanway, idle_litellm, litellm_version,
 litellm_note) = sys.argv[1:11]
rounds, targets = int(rounds), targets.split()
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
NAMES = {"direct": "direct to nginx", "spanway": "Spanway, telemetry on", "bare": "Spanway, telemetry off",
         "litellm": "LiteLLM proxy"}


def parse(path):
    text = open(path).read()
    pct = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"p50": pct["50"], "p99": pct["99"], "rps": rps, "errors": int(errors.group(1)) if errors else 0}


def median(target, load, key):
    return statistics.median(parse(f"{work}/{target}-{load}.r{r}.txt")[key] for r in range(1, rounds + 1))


def errors(target):
    return sum(parse(f"{work}/{target}-{load}.r{r}.txt")["errors"] for load in ("c1", "c64") for r in range(1, rounds + 1))


def loaded_rss(target):
    values = [json.load(open(p))["rss_max_kb"] for p in glob.glob(f"{work}/{target}-rss.r*.json")]
    return max(values) if values else None


us = lambda s: f"{s * 1e6:,.0f} µs"
mib = lambda kb: "—" if kb in (None, "null") else f"{int(kb) / 1024:.1f} MiB"
ms = lambda s: "—" if s in (None, "null") else f"{float(s) * 1e3:.0f} ms"
figures = {t: {f"{k}{l}": median(t, l, k) for k in ("p50", "p99", "rps") for l in ("c1", "c64")} for t in targets}
for t in targets:
    figures[t]["ttft"] = json.load(open(f"{work}/{t}-ttft.json"))["ttft"]
d = figures["direct"]
cold = {"spanway": json.loads(cold_spanway)["coldstart"], "litellm": json.loads(cold_litellm)["coldstart"] if cold_litellm != "null" else None}
idle = {"spanway": json.loads(idle_spanway)["rss_kb"], "litellm": json.loads(idle_litellm)["rss_kb"] if idle_litellm != "null" else None}
columns = [t for t in ("direct", "spanway", "bare", "litellm") if t in targets]


def row(label, value):
    return f"| {label} | " + " | ".join(value(t) for t in columns) + " |"


def added(key):
    return lambda t: "—" if t == "direct" else f"+{us(figures[t][key] - d[key])}"


swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
wrk = (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split() or ["wrk", "?"])[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
lines = [
    f"# Spanway benchmark — {datetime.date.today()}",
    "",
    f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}. {swift}; nginx {nginx}; "
    f"wrk {wrk}; LiteLLM {litellm_version or '—'}{' (' + litellm_note + ')' if litellm_note else ''}.",
    f"Upstream: nginx serving canned OpenAI JSON and SSE on loopback (no gateway code in it). Spanway: release build, "
    f"the same LiteLLM config file as LiteLLM, telemetry on = OTLP export (gzip protobuf to a local receiver), "
    f"Prometheus and the SQLite spend ledger; telemetry off = no OTLP, no ledger. LiteLLM: `litellm --config` with "
    f"`--num_workers {os.cpu_count()}`, no database. wrk, {seconds} s per measurement, {rounds} rounds alternating "
    f"the targets; every figure is the median over rounds (memory under load: the largest sample).",
    "",
    "| measure | " + " | ".join(NAMES[t] for t in columns) + " |",
    "| --- | " + " | ".join("---" for _ in columns) + " |",
    row("latency p50, concurrency 1", lambda t: us(figures[t]["p50c1"])),
    row("latency p99, concurrency 1", lambda t: us(figures[t]["p99c1"])),
    row("added p50, concurrency 1", added("p50c1")),
    row("added p99, concurrency 1", added("p99c1")),
    row("requests/s, concurrency 64", lambda t: f"{figures[t]['rpsc64']:,.0f}"),
    row("latency p99, concurrency 64", lambda t: us(figures[t]["p99c64"])),
    row("time to first streamed byte", lambda t: us(figures[t]["ttft"])),
    row("added time to first byte", added("ttft")),
    row("resident memory idle", lambda t: mib(idle.get(t)) if t in ("spanway", "litellm") else "—"),
    row("resident memory under load", lambda t: mib(loaded_rss(t)) if t in ("spanway", "litellm") else "—"),
    row("cold start to first healthy answer", lambda t: ms(cold.get(t)) if t in ("spanway", "litellm") else "—"),
    row("non-2xx answers", lambda t: str(errors(t))),
    "",
]
s, b = figures["spanway"], figures.get("bare")
checks = [
    ("added p50 at concurrency 1 ≤ 100 µs", s["p50c1"] - d["p50c1"] <= 100e-6, us(s["p50c1"] - d["p50c1"])),
    ("added p99 at concurrency 1 ≤ 250 µs", s["p99c1"] - d["p99c1"] <= 250e-6, us(s["p99c1"] - d["p99c1"])),
    ("resident memory under load ≤ 64 MB", (loaded_rss("spanway") or 0) <= 64 * 1000, mib(loaded_rss("spanway"))),
    ("cold start ≤ 200 ms", cold["spanway"] is not None and cold["spanway"] <= 0.2, ms(cold["spanway"])),
]
if b:
    checks.append(("telemetry on vs off ≥ 0.90× throughput", s["rpsc64"] / b["rpsc64"] >= 0.9, f"{s['rpsc64'] / b['rpsc64']:.2f}×"))
if "litellm" in figures:
    ratio = s["rpsc64"] / figures["litellm"]["rpsc64"]
    checks.append(("throughput at concurrency 64 ≥ 20× LiteLLM's", ratio >= 20, f"{ratio:.1f}×"))
lines += ["| target | measured | met |", "| --- | --- | --- |"]
lines += [f"| {name} | {value} | {'yes' if ok else 'no'} |" for name, ok, value in checks]
metrics = open(f"{work}/metrics.txt").read()
exported = sum(float(v) for v in re.findall(r'^spanway_sink_exported_total\{sink="otlp"\} (\S+)', metrics, re.M))
dropped = sum(float(v) for v in re.findall(r'^spanway_sink_dropped_total\{sink="otlp"\} (\S+)', metrics, re.M))
lines += ["", f"Spanway exported {exported:.0f} requests over OTLP and dropped {dropped:.0f}. On 2 cores the load "
          "generator, nginx and the gateway share the CPUs, so throughput is bounded by the machine as much as by "
          "the gateway."]
print("\n".join(lines))
