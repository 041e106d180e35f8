"""Reads what Benchmarks/run.sh measured and prints the Markdown result tables (medians of rounds).

Usage: summarize.py WORK ROUNDS SECONDS "TARGETS" LITELLM_VERSION LITELLM_NOTE
WORK holds, per target T and round R: T-c1.rR.txt and T-c64.rR.txt (wrk), T-cpu.rR.json (two lines: the
serving process's CPU seconds before and after the c=64 run), T-rss.rR.json (largest resident memory
during it), T-ttft.rR.json; per target: T-idle.json, T-coldstart.json; slowstreams.json; metrics.txt.
"""
import datetime, glob, json, os, platform, re, statistics, subprocess, sys

work, rounds, seconds, targets, litellm_version, litellm_note = sys.argv[1:7]
rounds, targets = int(rounds), targets.split()
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
NAMES = {"direct": "direct to nginx (the baseline)", "hop": "nginx `proxy_pass` hop (keep-alive upstream)",
         "spanway": "Spanway, telemetry on", "bare": "Spanway, telemetry off",
         "vkey": "Spanway, virtual key + team budget", "litellm": "LiteLLM proxy"}
SHORT = {"direct": "direct to nginx", "hop": "nginx hop", "spanway": "Spanway, telemetry on",
         "bare": "Spanway, telemetry off", "vkey": "Spanway, virtual key", "litellm": "LiteLLM proxy"}


def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


def parse(path):
    text = open(path).read()
    pct = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"p50": pct["50"], "p99": pct["99"], "rps": rps, "requests": requests,
            "errors": int(errors.group(1)) if errors else 0}


def run(target, load_, r):
    return parse(f"{work}/{target}-{load_}.r{r}.txt")


def median(target, load_, key):
    return statistics.median(run(target, load_, r)[key] for r in range(1, rounds + 1))


def cpu_per_request(target):
    """Median over rounds of the serving process's CPU time during the c=64 run / requests it answered."""
    samples = []
    for r in range(1, rounds + 1):
        lines = open(f"{work}/{target}-cpu.r{r}.json").read().splitlines()
        before, after = (json.loads(line)["cpu_s"] for line in lines[:2])
        samples.append((after - before) / max(run(target, "c64", r)["requests"], 1))
    return statistics.median(samples)


def errors(target):
    return sum(run(target, l, r)["errors"] for l in ("c1", "c64") for r in range(1, rounds + 1))


def loaded_rss(target):
    values = [load(p)["rss_max_kb"] for p in glob.glob(f"{work}/{target}-rss.r*.json")]
    return max(values) if values else None


def us(s):
    return "—" if s is None else f"{s * 1e6:,.0f} µs"


def signed_us(s):
    return "—" if s is None else f"{'+' if s >= 0 else '−'}{abs(s) * 1e6:,.0f} µs"


def mb(kb):  # decimal megabytes, as the targets are stated
    return "—" if kb is None else f"{kb * 1024 / 1e6:.1f} MB"


def ms(s):
    return "—" if s is None else f"{s * 1e3:,.0f} ms"


figures = {}
for t in targets:
    f = {f"{k}{l}": median(t, l, k) for k in ("p50", "p99", "rps") for l in ("c1", "c64")}
    f["ttft"] = statistics.median(load(f"{work}/{t}-ttft.r{r}.json")["ttft"] for r in range(1, rounds + 1))
    f["cpu"] = cpu_per_request(t)
    f["idle"] = (load(f"{work}/{t}-idle.json") or {}).get("rss_kb")
    f["loaded"] = loaded_rss(t)
    f["cold"] = (load(f"{work}/{t}-coldstart.json") or {}).get("coldstart")
    figures[t] = f
d = figures["direct"]
added = {t: {k: figures[t][k] - d[k] for k in ("p50c1", "p99c1", "ttft")} for t in targets}

swift = (subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines() or ["Swift ?"])[0]
nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
wrk = (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split() or ["wrk", "?"])[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
lines = [
    f"# Spanway benchmark — {datetime.date.today()}",
    "",
    f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}. {swift}; nginx {nginx}; "
    f"wrk {wrk}; LiteLLM {litellm_version or '—'}{' (' + litellm_note + ')' if litellm_note else ''}.",
    f"Upstream: nginx (1 worker) serving canned OpenAI JSON and SSE on loopback (no gateway code in it). nginx hop: a "
    f"second nginx (workers = cores) proxying to it over a keep-alive pool of 64 connections, streams unbuffered. "
    f"Spanway: release build, the same LiteLLM config file as LiteLLM; telemetry on = OTLP export (gzip protobuf to a "
    f"local receiver), Prometheus and the SQLite spend ledger; telemetry off = no OTLP, no ledger; virtual key = the "
    f"telemetry-on process called with a key (budget 1e9 USD) of a team (budget 1e9 USD) made through the admin API. "
    f"LiteLLM: `litellm --config` with `--num_workers {os.cpu_count()}`, no database (so no virtual keys). "
    f"wrk, {seconds} s per measurement, {rounds} rounds alternating the targets; every figure is the median over "
    f"rounds (memory under load: the largest sample). \"Added\" = the target's figure minus direct-to-nginx's from "
    f"the same run. CPU per request = the serving process's user + system CPU time (with its worker processes, "
    f"not the upstream's) during the concurrency-64 run, divided by the requests answered in it.",
    "",
]


def rss_cell(t):
    f = figures[t]
    return "—" if f["idle"] is None and f["loaded"] is None else f"{mb(f['idle'])} / {mb(f['loaded'])}"


def cold_cell(t):
    if t == "vkey":
        return "(same process as telemetry on)"
    return ms(figures[t]["cold"]) if figures[t]["cold"] is not None else "—"


header = ["target", "added p50, c=1", "added p99, c=1", "req/s, c=64", "CPU µs/request", "added TTFB",
          "RSS idle / under load", "cold start"]
lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
for t in [t for t in ("hop", "spanway", "bare", "vkey", "litellm") if t in targets]:
    f, a = figures[t], added[t]
    cells = [NAMES[t], signed_us(a["p50c1"]), signed_us(a["p99c1"]), f"{f['rpsc64']:,.0f}", f"{f['cpu'] * 1e6:,.0f}",
             signed_us(a["ttft"]), rss_cell(t), cold_cell(t)]
    lines.append("| " + " | ".join(cells) + " |")
lines.append("| " + " | ".join([NAMES["direct"], f"({us(d['p50c1'])} p50)", f"({us(d['p99c1'])} p99)",
                                 f"{d['rpsc64']:,.0f}", f"{d['cpu'] * 1e6:,.0f}", f"({us(d['ttft'])} TTFB)", "—", "—"]) + " |")
lines.append("")

# The detailed figures, one column per target.
columns = [t for t in ("direct", "hop", "spanway", "bare", "vkey", "litellm") if t in targets]


def row(label, value):
    return f"| {label} | " + " | ".join(value(t) for t in columns) + " |"


lines += [
    "| measure | " + " | ".join(SHORT[t] for t in columns) + " |",
    "| --- | " + " | ".join("---" for _ in columns) + " |",
    row("latency p50, concurrency 1", lambda t: us(figures[t]["p50c1"])),
    row("latency p99, concurrency 1", lambda t: us(figures[t]["p99c1"])),
    row("added p50, concurrency 1", lambda t: "—" if t == "direct" else signed_us(added[t]["p50c1"])),
    row("added p99, concurrency 1", lambda t: "—" if t == "direct" else signed_us(added[t]["p99c1"])),
    row("requests/s, concurrency 64", lambda t: f"{figures[t]['rpsc64']:,.0f}"),
    row("latency p99, concurrency 64", lambda t: us(figures[t]["p99c64"])),
    row("CPU per request, concurrency 64", lambda t: us(figures[t]["cpu"])),
    row("time to first streamed byte", lambda t: us(figures[t]["ttft"])),
    row("added time to first byte", lambda t: "—" if t == "direct" else signed_us(added[t]["ttft"])),
    row("resident memory idle", lambda t: mb(figures[t]["idle"])),
    row("resident memory under load", lambda t: mb(figures[t]["loaded"])),
    row("cold start to first healthy answer", lambda t: ms(figures[t]["cold"]) if t != "vkey" else "—"),
    row("non-2xx answers", lambda t: str(errors(t))),
    "",
]

# Issue 13's targets, for the configuration they are stated for: telemetry on and a virtual key of a
# team with a budget (the "vkey" target); the telemetry ratio compares the two master-key processes.
v = figures["vkey"] if "vkey" in figures else figures["spanway"]
av = added["vkey"] if "vkey" in added else added["spanway"]
h, ah = figures.get("hop"), added.get("hop")
checks = []


def relative(value, hop):
    """value ≤ 4 × hop; a hop figure at or below zero is within the noise and cannot scale a limit."""
    return "n/a (the hop's figure is within noise)" if hop <= 0 else value <= 4 * hop


if h:
    checks += [
        ("added p50 at c=1 ≤ 4× the nginx hop's", relative(av["p50c1"], ah["p50c1"]),
         f"{signed_us(av['p50c1'])} vs 4 × {signed_us(ah['p50c1'])}"),
    ]
checks += [("added p50 at c=1 ≤ 100 µs (stretch)", av["p50c1"] <= 100e-6, signed_us(av["p50c1"])),
           ("added p99 at c=1 ≤ 1 ms", av["p99c1"] <= 1e-3, signed_us(av["p99c1"]))]
if h:
    share = v["rpsc64"] / h["rpsc64"]
    checks += [("req/s at c=64 ≥ 30 % of the nginx hop's", share >= 0.30, f"{share:.0%} ({v['rpsc64']:,.0f} / {h['rpsc64']:,.0f})"),
               ("req/s at c=64 ≥ 50 % of the nginx hop's (stretch)", share >= 0.50, f"{share:.0%}"),
               ("CPU per request reported", True, f"{v['cpu'] * 1e6:,.0f} µs (nginx hop {h['cpu'] * 1e6:,.0f} µs)")]
if "bare" in figures:
    ratio = figures["spanway"]["rpsc64"] / figures["bare"]["rpsc64"]
    checks.append(("telemetry on vs off ≥ 0.90× throughput", ratio >= 0.9, f"{ratio:.2f}×"))
if h:
    checks.append(("added TTFB ≤ 4× the nginx hop's", relative(av["ttft"], ah["ttft"]),
                   f"{signed_us(av['ttft'])} vs 4 × {signed_us(ah['ttft'])}"))
slow = load(f"{work}/slowstreams.json")
if slow:
    held = slow["completed"] == slow["streams"] and slow["rss_max_kb"] * 1024 <= 150e6
    checks.append((f"{slow['streams']:,} concurrent slow streams held, RSS ≤ 150 MB", held,
                   f"{slow['completed']:,} of {slow['streams']:,} completed, {mb(slow['rss_max_kb'])}"))
checks += [("RSS under load ≤ 50 MB", v["loaded"] is not None and v["loaded"] * 1024 <= 50e6, mb(v["loaded"])),
           ("cold start to first healthy answer ≤ 100 ms", figures["spanway"]["cold"] is not None
            and figures["spanway"]["cold"] <= 0.1, ms(figures["spanway"]["cold"]))]
lines += [f"Targets (issue 13), measured on \"{NAMES['vkey' if 'vkey' in figures else 'spanway']}\" unless the row says otherwise:",
          "", "| target | measured | met |", "| --- | --- | --- |"]
lines += [f"| {name} | {value} | {ok if isinstance(ok, str) else 'yes' if ok else 'no'} |" for name, ok, value in checks]
lines.append("")

def failure(first):
    what = f"HTTP {first['status']}" if first["status"] else first.get("error", "no answer")
    return f" The first failure: {what} after {first['seconds']:.1f} s" + (f", `{first['body']}`." if first.get("body") else ".")


if slow:
    lines.append(
        f"Slow streams: {slow['streams']:,} concurrent streamed requests through Spanway (telemetry on, virtual key) "
        f"to an upstream that trickles each answer (~100 chunks) over ~10 s; {slow['completed']:,} completed; "
        f"stream duration p50 {slow['stream_seconds_p50']:.1f} s, max {slow['stream_seconds_max']:.1f} s "
        f"(all {slow['wall_seconds']:.1f} s); at most {slow['upstream_active_max']:,} answers in progress at the upstream at once; "
        f"Spanway's largest resident memory meanwhile {mb(slow['rss_max_kb'])}."
        + (failure(slow["first_failure"]) if slow.get("first_failure") else ""))
    lines.append("")
metrics = open(f"{work}/metrics.txt").read()
exported = sum(float(v) for v in re.findall(r'^spanway_sink_exported_total\{sink="otlp"\} (\S+)', metrics, re.M))
dropped = sum(float(v) for v in re.findall(r'^spanway_sink_dropped_total\{sink="otlp"\} (\S+)', metrics, re.M))
lines += [f"Spanway exported {exported:.0f} requests over OTLP and dropped {dropped:.0f}. On {os.cpu_count()} cores the "
          "load generator, nginx and the gateway share the CPUs, so throughput is bounded by the machine as much as by "
          "the gateway."]
print("\n".join(lines))
