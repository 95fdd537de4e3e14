# One image for every role; the role is chosen at start by the command (deploy/start/<role>.sh):
#   core: deploy/start/core.sh (gunicorn, WSGI)   web: deploy/start/web.sh (gunicorn + uvicorn workers, ASGI)
#   bot:  deploy/start/bot.sh (uvicorn, ASGI)     migrations: deploy/start/migrate.sh (one-shot, before core)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements/ requirements/
# Wheels only: every pinned package ships one for CPython 3.11, so neither stage needs a compiler.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --only-binary=:all: \
        -r requirements/core.txt -r requirements/bot.txt -r requirements/web.txt \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    DATA_DIR=/data \
    BIND_HOST=0.0.0.0
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data/static \
    && chown -R app:app /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root: the app user can read it, not change it.
COPY manage.py pyproject.toml ./
COPY config/ config/
COPY apps/ apps/
COPY mongo_migrations/ mongo_migrations/
COPY deploy/ deploy/
# Bytecode made at build time (here and in the venv): the app user cannot write next to the code.
RUN python -m compileall -q -j 0 apps config mongo_migrations
USER 10001:10001
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "deploy/start/healthcheck.py"]
CMD ["deploy/start/core.sh"]
