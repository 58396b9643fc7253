# syntax=docker/dockerfile:1

# ---- builder: build the project's wheel and install it, with its dependencies, into a venv ----
# The bookworm suffix pins the Debian release as well as Python 3.11; both stages must match
# because the venv is copied across with absolute paths to /usr/local/bin/python3.11.
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Only what the wheel is made of: the package, its Alembic scripts (force-included into the
# wheel as mqtt_ca_registry/_migrations) and the metadata hatchling reads.
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations

RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir /wheels/mqtt_ca_registry-*.whl

# ---- runtime: the venv and nothing else; no compilers, no sources, not root ----
FROM python:3.11-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MQTT_CA_REGISTRY_DATABASE_URL=sqlite:////data/mqtt-ca-registry.db

RUN groupadd --system --gid 10001 registry \
    && useradd --system --uid 10001 --gid registry --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin registry \
    && mkdir /data \
    && chown registry:registry /data

COPY --from=builder /opt/venv /opt/venv

WORKDIR /data
# The default SQLite database lives here; mount a volume to keep it across containers.
VOLUME ["/data"]
# Numeric, so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000
# Liveness only (the process answers HTTP). Slim images have no curl, so ask Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `serve` upgrades the database to the latest schema, then starts uvicorn.
CMD ["mqtt-ca-registry", "serve", "--host", "0.0.0.0", "--port", "8000"]
