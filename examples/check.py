#!/usr/bin/env python3
"""Runs the client snippets in examples/clients against a running gateway and checks the configs
beside them. CI runs it through `swift test --filter ExampleSnippetsTests`, which starts a gateway
on the mock provider with examples/quickstart.yaml; by hand:

    spanway serve --config examples/quickstart.yaml --port 4000
    python3 examples/check.py --base-url http://127.0.0.1:4000 --api-key sk-spanway-quickstart

Prints `ok <name>`, `skip <name>: <why>` or `FAIL <name>: <why>` per check; exits 1 on a failure,
and on a skip with --require-all.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (command, the Python module or program it needs, the pip package that has it)
SNIPPETS = {
    "openai_sdk.py": ([sys.executable, "clients/openai_sdk.py"], "openai", "openai"),
    "anthropic_sdk.py": ([sys.executable, "clients/anthropic_sdk.py"], "anthropic", "anthropic"),
    "langchain_openai_client.py": ([sys.executable, "clients/langchain_openai_client.py"], "langchain_openai", "langchain-openai"),
    "litellm_sdk.py": ([sys.executable, "clients/litellm_sdk.py"], "litellm", "litellm"),
    "curl.sh": (["bash", "clients/curl.sh"], "curl", None),
}
CONFIGS = ["otel-collector.yaml", "prometheus.yml"]


def available(requirement):
    if requirement == "curl":
        return shutil.which("curl") is not None
    return importlib.util.find_spec(requirement) is not None


def lines(output, prefix):
    return [line[len(prefix):].strip() for line in output.splitlines() if line.startswith(prefix)]


def check_snippet(name, output, expect):
    """Why the snippet's output is wrong, or None."""
    if name == "curl.sh":
        lowered = output.lower()
        for needle in ("x-spanway-response-cost:", "x-spanway-trace-id:", "data: [done]", '"type":"message"'):
            if needle not in lowered:
                return f"no {needle!r} in the output"
        if expect and expect not in output:
            return f"the answer {expect!r} is not in the output"
        return None
    answers, streamed = lines(output, "answer:"), lines(output, "streamed:")
    if not answers or not all(answers) or not streamed or not all(streamed):
        return "no answer or no streamed answer printed"
    if expect and (set(answers) != {expect} or set(streamed) != {expect}):
        return f"answers {answers} / {streamed}, expected {expect!r}"
    if name == "openai_sdk.py":
        cost = lines(output, "cost (USD):")
        if not cost or not float(cost[0]) > 0:
            return f"no cost header: {cost}"
    return None


def check_collector(config):
    """The structure a collector checks on start: every pipeline names defined components, and the
    OTLP receiver takes HTTP, which is what Spanway exports."""
    receivers, processors = config.get("receivers") or {}, config.get("processors") or {}
    exporters, extensions = config.get("exporters") or {}, config.get("extensions") or {}
    service = config.get("service") or {}
    http = (((receivers.get("otlp") or {}).get("protocols") or {}).get("http")) or {}
    if not str(http.get("endpoint", "")).endswith(":4318"):
        return "the otlp receiver does not take OTLP/HTTP on 4318"
    known = {"receivers": {"otlp"}, "processors": {"batch", "memory_limiter"}, "exporters": {"otlp_grpc", "otlp_http", "debug"}}
    for kind, defined in (("receivers", receivers), ("processors", processors), ("exporters", exporters)):
        for component in defined:
            if component.split("/")[0] not in known[kind]:
                return f"{kind}.{component} is not a component of the core collector"
    for extension in service.get("extensions") or []:
        if extension not in extensions:
            return f"service.extensions names undefined {extension}"
    traces = (service.get("pipelines") or {}).get("traces")
    if not traces:
        return "no traces pipeline"
    for kind, defined in (("receivers", receivers), ("processors", processors), ("exporters", exporters)):
        named = traces.get(kind) or []
        if kind != "processors" and not named:
            return f"the traces pipeline has no {kind}"
        for component in named:
            if component not in defined:
                return f"the traces pipeline names undefined {kind[:-1]} {component}"
    for name, exporter in exporters.items():
        if not (exporter or {}).get("endpoint"):
            return f"exporter {name} has no endpoint"
    if traces.get("processors", [None])[0] != "memory_limiter":
        return "memory_limiter must come first"
    return None


def check_prometheus(path, config):
    jobs = {job.get("job_name"): job for job in config.get("scrape_configs") or []}
    job = jobs.get("spanway")
    if not job or job.get("metrics_path", "/metrics") != "/metrics":
        return "no spanway job scraping /metrics"
    promtool = shutil.which("promtool")
    if promtool:
        result = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True)
        if result.returncode != 0:
            return f"promtool check config: {result.stdout}{result.stderr}"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default=os.environ.get("SPANWAY_BASE_URL", "http://127.0.0.1:4000"))
    parser.add_argument("--api-key", default=os.environ.get("SPANWAY_API_KEY", "sk-spanway-quickstart"))
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--expect", help="the answer every snippet must print (the mock provider's)")
    parser.add_argument("--only", action="append", help="run only these checks (file names)")
    parser.add_argument("--require-all", action="store_true", help="a missing package fails instead of skipping")
    args = parser.parse_args()
    env = dict(os.environ, SPANWAY_BASE_URL=args.base_url, SPANWAY_API_KEY=args.api_key, SPANWAY_MODEL=args.model)
    failed = False

    def report(name, problem, skipped=False):
        nonlocal failed
        if skipped:
            print(f"skip {name}: {problem}")
            failed = failed or args.require_all
        elif problem:
            print(f"FAIL {name}: {problem}")
            failed = True
        else:
            print(f"ok {name}")

    for name, (command, requirement, package) in SNIPPETS.items():
        if args.only and name not in args.only:
            continue
        if not available(requirement):
            report(name, f"needs {'pip install ' + package if package else requirement}", skipped=True)
            continue
        try:
            result = subprocess.run(command, cwd=HERE, env=env, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            report(name, "timed out")
            continue
        output = result.stdout + result.stderr
        problem = f"exit {result.returncode}:\n{output}" if result.returncode else check_snippet(name, output, args.expect)
        report(name, problem and (problem if result.returncode else f"{problem}\n{output}"))

    for name in CONFIGS:
        if args.only and name not in args.only:
            continue
        if not available("yaml"):
            report(name, "needs pip install pyyaml", skipped=True)
            continue
        import yaml

        path = os.path.join(HERE, name)
        with open(path) as file:
            config = yaml.safe_load(file)
        report(name, check_collector(config) if name == "otel-collector.yaml" else check_prometheus(path, config))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
