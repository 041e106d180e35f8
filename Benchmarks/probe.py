"""Measurements wrk cannot make, for Benchmarks/run.sh. Prints one JSON object.

  probe.py ttft URL KEY MODEL N          median seconds to the first streamed byte of the body, N requests
  probe.py coldstart URL -- CMD...       seconds from spawning CMD to the first 200 from URL (median of 3)
  probe.py rss PID                       resident memory of PID and its children, in KiB
  probe.py rss-max PID SECONDS           the largest of those sampled every 0.1 s for SECONDS
"""
import http.client, json, os, statistics, subprocess, sys, time, urllib.parse, urllib.request


def ttft(url, key, model, n):
    parts = urllib.parse.urlsplit(url)
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "Say hello."}]})
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        first = response.read1(1) if hasattr(response, "read1") else response.read(1)
        samples.append(time.perf_counter() - start)
        assert first, "empty stream"
        response.read()
    return statistics.median(samples[n // 10:])  # the first tenth warms up


def coldstart(url, command):
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - start < 120:
                try:
                    with urllib.request.urlopen(url, timeout=1) as answer:
                        if answer.status == 200:
                            samples.append(time.perf_counter() - start)
                            break
                except Exception:
                    time.sleep(0.002)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return statistics.median(samples) if samples else None


def tree(pid):
    pids, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        try:
            for child in open(f"/proc/{parent}/task/{parent}/children").read().split():
                pids.add(int(child))
                frontier.append(int(child))
        except OSError:
            pass
    return pids


def rss(pid):
    total = 0
    for p in tree(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "ttft":
        print(json.dumps({"ttft": ttft(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))}))
    elif kind == "coldstart":
        split = sys.argv.index("--")
        print(json.dumps({"coldstart": coldstart(sys.argv[2], sys.argv[split + 1:])}))
    elif kind == "rss":
        print(json.dumps({"rss_kb": rss(int(sys.argv[2]))}))
    elif kind == "rss-max":
        pid, end, peak = int(sys.argv[2]), time.time() + float(sys.argv[3]), 0
        while time.time() < end:
            peak = max(peak, rss(pid))
            time.sleep(0.1)
        print(json.dumps({"rss_max_kb": peak}))
