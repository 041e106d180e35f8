"""Spanway with the official Anthropic Python SDK (pip install anthropic), on `POST /v1/messages`.

Any model group works, whatever its provider: the gateway translates Messages requests and answers.
    spanway serve --config examples/quickstart.yaml --port 4000
    python3 examples/clients/anthropic_sdk.py
"""

import os

import anthropic

base_url = os.environ.get("SPANWAY_BASE_URL", "http://127.0.0.1:4000")
api_key = os.environ.get("SPANWAY_API_KEY", "sk-spanway-quickstart")
model = os.environ.get("SPANWAY_MODEL", "gpt-4o-mini")

# The SDK appends /v1/messages itself; the Spanway key goes where the Anthropic key would.
client = anthropic.Anthropic(base_url=base_url, api_key=api_key)

message = client.messages.create(
    model=model,
    max_tokens=200,
    system="Be brief.",
    messages=[{"role": "user", "content": "Say hello"}],
)
print("answer:", message.content[0].text)
print("stop reason:", message.stop_reason)
print("tokens:", message.usage.input_tokens, "in,", message.usage.output_tokens, "out")

with client.messages.stream(
    model=model, max_tokens=200, messages=[{"role": "user", "content": "Say hello"}]
) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
print("streamed:", text)
print("streamed tokens:", final.usage.output_tokens, "out")
