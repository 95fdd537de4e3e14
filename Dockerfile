# One image per role, each with only its role's requirements:
#   docker build --target core .   core: deploy/start/core.sh (gunicorn, WSGI); also runs deploy/start/migrate.sh
#   docker build --target bot .    bot:  deploy/start/bot.sh (uvicorn, ASGI)
#   docker build --target web .    web:  deploy/start/web.sh (gunicorn + uvicorn workers, ASGI)
# The code is the same in all three (one codebase); the installed packages differ (requirements/<role>.txt).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements/ requirements/
RUN python -m venv /opt/venv

# Wheels only: every pinned package ships one for CPython 3.11, so no stage needs a compiler.
FROM build AS build-core
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r requirements/core.txt \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

FROM build AS build-bot
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r requirements/bot.txt \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

FROM build AS build-web
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r requirements/web.txt \
    && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

# The code, with its bytecode made at build time (the app user cannot write next to the code).
FROM ${PYTHON_IMAGE} AS code
WORKDIR /app
COPY manage.py pyproject.toml ./
COPY config/ config/
COPY apps/ apps/
COPY mongo_migrations/ mongo_migrations/
COPY deploy/ deploy/
RUN python -m compileall -q -j 0 apps config mongo_migrations

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
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "deploy/start/healthcheck.py"]

# Each role: its virtualenv first (changes only with its requirements), then the code (owned by root: the app user
# can read it, not change it).
FROM runtime AS core
COPY --from=build-core /opt/venv /opt/venv
COPY --from=code /app /app
ENV PORT=8000
USER 10001:10001
EXPOSE 8000
CMD ["deploy/start/core.sh"]

FROM runtime AS bot
COPY --from=build-bot /opt/venv /opt/venv
COPY --from=code /app /app
ENV PORT=8001
USER 10001:10001
EXPOSE 8001
CMD ["deploy/start/bot.sh"]

FROM runtime AS web
COPY --from=build-web /opt/venv /opt/venv
COPY --from=code /app /app
ENV PORT=8002
USER 10001:10001
EXPOSE 8002
CMD ["deploy/start/web.sh"]
