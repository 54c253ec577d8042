# mockllm as an image: the wheel built from this tree, installed with the `redis` extra into a
# virtual environment that the slim runtime stage copies. Non-root, read-only friendly (only
# /tmp is written: the tokenizer tables), health-checked on /-/health.
#
#   docker build -t mockllm .
#   docker run --rm -p 127.0.0.1:8000:8000 mockllm                    # the embedded default config
#   docker run --rm -p 127.0.0.1:8000:8000 -v "$PWD/rules.yml:/config/rules.yml:ro" \
#       -e MOCKLLM_CONFIG=/config/rules.yml mockllm                   # your config, mounted
#
# Every `mockllm serve` option is also a MOCKLLM_* variable (`docker run IMAGE mockllm serve
# --help`); set the port with MOCKLLM_PORT (not --port) so that the health check follows it.
# docs/deploy.md has the rest.

ARG PYTHON_IMAGE=python:3.12-slim

# --- build: the wheel, then it and its dependencies into /opt/venv --------------------------
# (pip stays in /opt/venv: an image FROM this one can `pip install` a plugin into it as root.)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# What the wheel is built from (pyproject.toml names README.md and LICENSE); nothing else.
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/venv \
 && set -- /dist/mockllm-*.whl \
 && /opt/venv/bin/pip install "$1[redis]" \
 && /opt/venv/bin/mockllm --version

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="mockllm" \
      org.opencontainers.image.description="A mock LLM server speaking the OpenAI, Anthropic, Gemini, Ollama and Azure APIs, scripted by YAML" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric uid/gid (Kubernetes' runAsNonRoot can only verify a numeric USER).
RUN groupadd --system --gid 10001 mockllm \
 && useradd --system --uid 10001 --gid mockllm --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mockllm \
 && mkdir /config
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MOCKLLM_HOST=0.0.0.0 \
    MOCKLLM_PORT=8000
USER 10001:10001
EXPOSE 8000
# No curl in the slim image: Python's urllib, bypassing any HTTP(S)_PROXY of the container.
# A non-2xx answer raises, and the check fails.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/-/health' % os.environ.get('MOCKLLM_PORT', '8000'), timeout=2)"]
CMD ["mockllm", "serve"]
