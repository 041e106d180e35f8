#!/usr/bin/env bash
# Spanway with curl: a chat completion, a streamed one, and what the gateway adds to each answer.
#   spanway serve --config examples/quickstart.yaml --port 4000
#   bash examples/clients/curl.sh
set -euo pipefail
base="${SPANWAY_BASE_URL:-http://127.0.0.1:4000}"
key="${SPANWAY_API_KEY:-sk-spanway-quickstart}"
model="${SPANWAY_MODEL:-gpt-4o-mini}"

# -D - prints the response headers: x-spanway-response-cost (USD), x-spanway-trace-id, x-spanway-model-group.
curl -sS --fail-with-body -D - "$base/v1/chat/completions" \
  -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model": "'"$model"'", "messages": [{"role": "user", "content": "Say hello"}]}'
echo

# Streamed (server-sent events); the usage comes in a last chunk when asked for.
curl -sS --fail-with-body -N "$base/v1/chat/completions" \
  -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"model": "'"$model"'", "stream": true, "stream_options": {"include_usage": true},
       "messages": [{"role": "user", "content": "Say hello"}]}'

# Anthropic's Messages API, on any model group.
curl -sS --fail-with-body "$base/v1/messages" \
  -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
  -d '{"model": "'"$model"'", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}'
echo
