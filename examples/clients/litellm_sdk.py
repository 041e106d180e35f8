"""The litellm Python SDK as a client of Spanway (pip install litellm): Spanway is an
OpenAI-compatible endpoint, so the model is `openai/<model group>` with Spanway as `api_base`.

    spanway serve --config examples/quickstart.yaml --port 4000
    python3 examples/clients/litellm_sdk.py
"""

import os

# litellm fetches its model price list from the internet on import unless told to use its bundled
# copy; Spanway prices the requests anyway.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402

base_url = os.environ.get("SPANWAY_BASE_URL", "http://127.0.0.1:4000")
api_key = os.environ.get("SPANWAY_API_KEY", "sk-spanway-quickstart")
model = os.environ.get("SPANWAY_MODEL", "gpt-4o-mini")

response = litellm.completion(
    model=f"openai/{model}",
    api_base=f"{base_url}/v1",
    api_key=api_key,
    messages=[{"role": "user", "content": "Say hello"}],
)
print("answer:", response.choices[0].message.content)
print("tokens:", response.usage.prompt_tokens, "in,", response.usage.completion_tokens, "out")

text = ""
for chunk in litellm.completion(
    model=f"openai/{model}",
    api_base=f"{base_url}/v1",
    api_key=api_key,
    messages=[{"role": "user", "content": "Say hello"}],
    stream=True,
):
    text += chunk.choices[0].delta.content or ""
print("streamed:", text)
