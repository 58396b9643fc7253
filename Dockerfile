# syntax=docker/dockerfile:1.7@sha256:a57df69d0ea827fb7266491f2813635de6f17269be881f696fbfdf2d83dda33e

# ---- builder: build the project's wheel and install it, with its dependencies, into a venv ----
# Pinned by digest (the tag says what it is; the digest makes two builds use the same bytes).
# Both stages must be the same image: the venv is copied across with absolute paths to
# /usr/local/bin/python3.11. To move to a newer patch release, update both lines together.
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Only what the wheel is made of: the package, its Alembic scripts (force-included into the
# wheel as mqtt_ca_registry/_migrations) and the metadata hatchling reads; and the pins.
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
COPY migrations ./migrations

# Every dependency at the version pinned in constraints.txt (.ci/refresh-constraints makes it),
# so a rebuild installs what was tested. PIP_CONSTRAINT reaches the isolated build environment
# too, which pins the build backend (hatchling).
RUN PIP_CONSTRAINT=/src/constraints.txt pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt /wheels/mqtt_ca_registry-*.whl

# ---- runtime: the venv and nothing else; no compilers, no sources, not root ----
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS runtime

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

# The default SQLite database lives here. No VOLUME instruction: it would give every container
# an anonymous volume, unused when the database is PostgreSQL (as in docker-compose.yml). To
# keep the SQLite database, mount one: docker run -v mqtt-ca-registry-data:/data ...
WORKDIR /data
# Numeric, so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000
# Liveness only (the process answers HTTP). Slim images have no curl, so ask Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `serve` upgrades the database to the latest schema, then starts uvicorn.
CMD ["mqtt-ca-registry", "serve", "--host", "0.0.0.0", "--port", "8000"]
