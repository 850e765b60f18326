# One image for every process of the system: csms, management_api, the migration
# job, the simulator and (by default) the embedded all-in-one launcher.
#
#   docker build -t evcsms:latest .
#   docker run --rm -p 9000:9000 -p 8080:8080 evcsms:latest          # embedded PostgreSQL
#   docker run --rm evcsms:latest python -m csms                      # one role, settings from env
#
# No setting or secret is baked in: everything comes from the environment
# (see config/example.env), as in `docker compose up`.

# ---------------------------------------------------------------------------
# builder: resolve and install the project into a self-contained virtualenv.
# Every runtime dependency ships manylinux wheels, so no compiler is needed.
# ---------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /src
RUN python -m venv "$VIRTUAL_ENV"

# Dependencies first, read from pyproject.toml alone, so that editing the source
# does not invalidate the (large) dependency layer.
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; \
deps = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']['dependencies']; \
pathlib.Path('/tmp/requirements.txt').write_text('\n'.join(deps) + '\n')" \
    && pip install --no-cache-dir -r /tmp/requirements.txt

# Then the project itself (non-editable); .dockerignore keeps caches, venvs and
# local data out of the context.
COPY . .
RUN pip install --no-cache-dir --no-deps .

# ---------------------------------------------------------------------------
# runtime: the venv plus the files that are read from the working directory
# (alembic.ini and migrations/), running as an unprivileged user.
# ---------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="evcsms" \
      org.opencontainers.image.description="OCPP 1.6J / 2.0.1 central system, partner REST API and charger simulator" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A fixed numeric uid/gid so orchestrators can enforce runAsNonRoot; the embedded
# PostgreSQL of the default command refuses to run as root anyway.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=builder /opt/venv /opt/venv
# Source is owned by root and only readable by the app user: the process cannot
# rewrite its own code.
COPY alembic.ini ./
COPY migrations/ ./migrations/
COPY config/ ./config/
COPY core/ ./core/
COPY csms/ ./csms/
COPY management_api/ ./management_api/
COPY simulator/ ./simulator/
COPY launcher/ ./launcher/

# The only writable path: the embedded PostgreSQL data of `python -m launcher`
# (DATA_DIR defaults to ./.data). Mount a volume here to keep it.
RUN install -d -o app -g app -m 0700 /app/.data

USER 10001:10001

# OCPP websockets, REST API.
EXPOSE 9000 8080

# The launcher and management_api answer /health on the API port; set
# HEALTH_PORT=9000 for a container that only runs csms.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('HEALTH_PORT') or os.environ.get('API_PORT') or '8080'; urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4)"]

CMD ["python", "-m", "launcher"]
