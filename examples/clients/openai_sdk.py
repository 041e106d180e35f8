"""Spanway with the official OpenAI Python SDK (pip install openai).

Start the gateway on the built-in mock provider, then run this file:
    spanway serve --config examples/quickstart.yaml --port 4000
    python3 examples/clients/openai_sdk.py
SPANWAY_BASE_URL, SPANWAY_API_KEY and SPANWAY_MODEL point it elsewhere.
"""

import os

from openai import OpenAI

base_url = os.environ.get("SPANWAY_BASE_URL", "http://127.0.0.1:4000")
api_key = os.environ.get("SPANWAY_API_KEY", "sk-spanway-quickstart")
model = os.environ.get("SPANWAY_MODEL", "gpt-4o-mini")

# The only change from calling OpenAI directly: the base URL and a Spanway key.
client = OpenAI(base_url=f"{base_url}/v1", api_key=api_key)

# The raw response shows what the gateway adds to every answer: its cost, trace id and model group.
# `user` (the end user) is recorded with the request's spend, never as a metric label.
raw = client.chat.completions.with_raw_response.create(
    model=model,
    messages=[{"role": "user", "content": "Say hello"}],
    user="alice@example.com",
)
reply = raw.parse()
print("answer:", reply.choices[0].message.content)
print("tokens:", reply.usage.prompt_tokens, "in,", reply.usage.completion_tokens, "out")
print("cost (USD):", raw.headers.get("x-spanway-response-cost"))
print("trace id:", raw.headers.get("x-spanway-trace-id"))
print("model group:", raw.headers.get("x-spanway-model-group"))

# Streamed, with the usage reported in a last chunk.
text, usage = "", None
stream = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Say hello"}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
    usage = chunk.usage or usage
print("streamed:", text)
print("streamed tokens:", usage.prompt_tokens, "in,", usage.completion_tokens, "out")
