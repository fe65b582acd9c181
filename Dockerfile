# Nexus Discord bot image.
#   docker build -t nexus .
#   docker run -d --name nexus -e DISCORD_TOKEN=... -v nexus-data:/data nexus
# The default database is SQLite in the /data volume; set DATABASE_URL to a
# postgresql+asyncpg:// URL to use PostgreSQL instead.

# ---- builder: install the project and its dependencies into /opt/venv ----
# Python 3.13: the suite passes on 3.11 and 3.13 (the workflow's matrix); the locks cover both.
FROM python:3.13-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# The dependencies first, exactly as locked (versions and sha256 hashes), in a layer of their
# own that a code change does not rebuild; then Nexus itself, with no further dependencies.
COPY requirements/runtime.lock requirements/
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/runtime.lock
COPY pyproject.toml README.md alembic.ini ./
COPY bot/ bot/
COPY cogs/ cogs/
COPY models/ models/
RUN pip install --no-cache-dir --no-deps . && pip check

# ---- runtime ----
FROM python:3.13-slim-bookworm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/nexus.db

RUN groupadd --system --gid 10001 nexus \
    && useradd --system --uid 10001 --gid nexus --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin nexus \
    && mkdir -p /data \
    && chown nexus:nexus /data

COPY --from=builder /opt/venv /opt/venv

# matplotlib (the charts) keeps its font list in MPLCONFIGDIR, which must be writable by the bot:
# built here once, so the first chart after a start neither rebuilds it nor warns about a
# temporary directory (the home directory, /app, is not writable).
ENV MPLCONFIGDIR=/opt/matplotlib
RUN mkdir -p /opt/matplotlib \
    && python -c "import matplotlib.font_manager" \
    && chown -R nexus:nexus /opt/matplotlib

# The installed package carries the migrations as package data; the source copy
# keeps `alembic -c alembic.ini ...` (script_location = models/migrations) usable
# from the working directory, e.g. `docker exec nexus alembic current`.
WORKDIR /app
COPY alembic.ini ./
COPY models/migrations/ models/migrations/

# SQLite database lives here. /data is owned by nexus in the image, so a fresh named
# volume starts out writable by the bot (a bind mount must be writable by uid 10001).
VOLUME /data

# The nexus user, by number: a numeric USER lets runtimes (e.g. Kubernetes
# runAsNonRoot) verify it is not root without reading /etc/passwd (hadolint DL3066).
USER 10001:10001

# Prometheus metrics on :9100/metrics and health on :9100/healthz (200 only when the
# gateway is connected and the database answers SELECT 1; else 503). The slim image
# has no curl, so the probe is Python's urllib (a non-2xx answer raises: exit 1).
ENV METRICS_PORT=9100 \
    METRICS_HOST=0.0.0.0
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4)"]

# Python turns SIGINT into KeyboardInterrupt even as PID 1 (it installs no SIGTERM
# handler), so `docker stop` gives the bot a clean shutdown instead of a SIGKILL
# after the timeout.
STOPSIGNAL SIGINT

# `run` applies pending migrations, then starts the bot; it requires DISCORD_TOKEN.
CMD ["python", "-m", "bot", "run"]
