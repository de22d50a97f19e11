# yibao: the service (`yibao serve`) with its index baked in; no network at run time.
#   docker build -t yibao .   then   docker run -p 8000:8000 yibao       (or: docker compose up, see docker-compose.yml)
# With YIBAO_CHROMA_URL set, the vectors are searched on that Chroma server; the first instance to start fills it
# from the baked build (chunks and BM25 stay in each instance).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# dependencies first: a code or knowledge change does not reinstall them
COPY pyproject.toml README.md ./
RUN python -m venv /venv && python -c "import tomllib; \
print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && /venv/bin/pip install -q -r /tmp/requirements.txt
COPY app app
COPY ingest ingest
COPY eval eval
RUN /venv/bin/pip install -q --no-deps .
# bake the index (no Chroma server exists at build time: the vectors stay in the build, uploaded on first load)
COPY knowledge knowledge
RUN YIBAO_KNOWLEDGE_DIR=/app/knowledge YIBAO_INDEX_DIR=/app/data/index /venv/bin/yibao ingest -q

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 yibao
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=yibao /app/knowledge /app/knowledge
COPY --from=build --chown=yibao /app/data /app/data
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    YIBAO_KNOWLEDGE_DIR=/app/knowledge YIBAO_INDEX_DIR=/app/data/index YIBAO_FEEDBACK_DB=/app/data/feedback.sqlite
USER yibao
EXPOSE 8000
# liveness only (/readyz says whether the index is loaded); python, because the slim image has no curl
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["yibao", "serve", "--host", "0.0.0.0", "--port", "8000"]
