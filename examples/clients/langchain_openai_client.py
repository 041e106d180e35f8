"""Spanway as LangChain's chat model (pip install langchain-openai).

    spanway serve --config examples/quickstart.yaml --port 4000
    python3 examples/clients/langchain_openai_client.py
"""

import os

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

base_url = os.environ.get("SPANWAY_BASE_URL", "http://127.0.0.1:4000")
api_key = os.environ.get("SPANWAY_API_KEY", "sk-spanway-quickstart")
model = os.environ.get("SPANWAY_MODEL", "gpt-4o-mini")

# Any model group of the gateway, whatever provider serves it, behind LangChain's OpenAI chat model.
llm = ChatOpenAI(model=model, base_url=f"{base_url}/v1", api_key=api_key, temperature=0, max_retries=0)

reply = llm.invoke([SystemMessage("Be brief."), HumanMessage("Say hello")])
print("answer:", reply.content)
print("tokens:", reply.usage_metadata["input_tokens"], "in,", reply.usage_metadata["output_tokens"], "out")

streamed = "".join(chunk.content for chunk in llm.stream("Say hello"))
print("streamed:", streamed)
