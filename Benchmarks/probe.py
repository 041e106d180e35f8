"""Measurements wrk cannot make, for Benchmarks/run.sh. Prints one JSON object.

  probe.py ttft URL KEY MODEL N          median seconds to the first streamed byte of the body, N requests
  probe.py coldstart URL -- CMD...       seconds from spawning CMD to the first 200 from URL (median of 3)
  probe.py rss PID                       resident memory of PID and its children, in KiB
  probe.py rss-max PID SECONDS           the largest of those sampled every 0.1 s for SECONDS
  probe.py cpu PID                       CPU seconds (user + system) used so far by PID and its live children
  probe.py tree PID                      PID and its descendants, space-separated (for clean-up)
  probe.py slowstreams URL KEY MODEL N STATUS_URL PID
                                         N concurrent streamed requests held open at once; reports how many
                                         completed, their durations, the most upstream connections nginx saw
                                         active (STATUS_URL, stub_status) and PID's largest resident memory
"""
import asyncio, http.client, json, os, signal, statistics, subprocess, sys, threading, time, urllib.parse, urllib.request


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
            stop(process.pid)  # LiteLLM's workers are children of the process started here
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


def stop(pid):
    for p in tree(pid):
        try:
            os.kill(p, signal.SIGTERM)
        except OSError:
            pass


def cpu(pid):
    # utime and stime (fields 14 and 15 of /proc/PID/stat, in clock ticks) cover all of a process's threads;
    # the live children (nginx's and uvicorn's workers) are summed in, dead ones do not matter here.
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for p in tree(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / tick


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


async def slow_stream(host, port, request, results):
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        await writer.drain()
        received = bytearray()
        while chunk := await reader.read(65536):
            received += chunk
        writer.close()
        status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0
        result = {"ok": status == 200 and b"[DONE]" in received, "status": status, "seconds": time.perf_counter() - start}
        if not result["ok"]:  # the gateway's error body says why
            result["body"] = received.split(b"\r\n\r\n", 1)[-1][:300].decode(errors="replace")
        results.append(result)
    except Exception as error:  # a refused or reset connection counts as not completed
        results.append({"ok": False, "status": 0, "seconds": time.perf_counter() - start, "error": repr(error)})


def slowstreams(url, key, model, n, status_url, pid):
    parts = urllib.parse.urlsplit(url)
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "Say hello."}]})
    # Connection: close lets the client read each answer to EOF without parsing chunked encoding.
    request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()
    peak = {"rss_kb": 0, "upstream_active": 0}
    done = threading.Event()

    def sample():  # a thread, so a busy event loop cannot skew the samples
        while not done.is_set():
            peak["rss_kb"] = max(peak["rss_kb"], rss(pid))
            try:
                text = urllib.request.urlopen(status_url, timeout=1).read().decode()
                # "Writing" = connections with an answer in progress (idle kept-alive ones, e.g. the
                # nginx hop's pool, are "Waiting"), less this status request itself.
                writing = int(text.split("Writing:")[1].split()[0]) - 1
                peak["upstream_active"] = max(peak["upstream_active"], writing)
            except Exception:
                pass
            time.sleep(0.2)

    async def run():
        results = []
        tasks = []
        for i in range(n):  # open in batches of 50 so the accept backlog never overflows
            tasks.append(asyncio.create_task(slow_stream(parts.hostname, parts.port, request, results)))
            if i % 50 == 49:
                await asyncio.sleep(0.02)
        await asyncio.gather(*tasks)
        return results

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    results = asyncio.run(run())
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    seconds = sorted(r["seconds"] for r in results)
    failures = [r for r in results if not r["ok"]]
    return {"streams": n, "completed": n - len(failures), "wall_seconds": wall,
            "stream_seconds_p50": statistics.median(seconds), "stream_seconds_max": seconds[-1],
            "upstream_active_max": peak["upstream_active"], "rss_max_kb": peak["rss_kb"],
            "first_failure": failures[0] if failures else None}


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
    elif kind == "cpu":
        print(json.dumps({"cpu_s": cpu(int(sys.argv[2]))}))
    elif kind == "tree":
        print(" ".join(str(p) for p in sorted(tree(int(sys.argv[2])))))
    elif kind == "slowstreams":
        url, key, model, n, status_url, pid = sys.argv[2:8]
        print(json.dumps(slowstreams(url, key, model, int(n), status_url, int(pid))))
