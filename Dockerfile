# syntax=docker/dockerfile:1
#
# The CRM image: one image for every process (web, worker, beat, migrate); docker-compose.yml
# picks the command. Four stages:
#   vendor   - npm ci + scripts/vendor-static.mjs -> static/vendor/ (served by the app, no CDN)
#   base     - python:3.12-slim with the Python dependencies of pyproject.toml
#   build    - base + gettext: compilemessages (.mo) and collectstatic (hashed, compressed files)
#   runtime  - base + the built /app, run as an unprivileged user
#
#   docker build -t crm .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... crm

# ---------------------------------------------------------------------------------------------
# 1. Front-end libraries
# ---------------------------------------------------------------------------------------------
FROM node:20-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
# The libraries are plain files: no package needs an install script.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts/vendor-static.mjs scripts/
RUN node scripts/vendor-static.mjs

# ---------------------------------------------------------------------------------------------
# 2. Python and the project's dependencies
# ---------------------------------------------------------------------------------------------
FROM python:3.12-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /app
# Only the dependencies listed in pyproject.toml's [project] dependencies (the set `pip install .`
# would pull in, without the dev extras), so that this layer is rebuilt only when they change.
# The project itself runs from /app (PYTHONPATH below) rather than from site-packages: settings
# find templates/, static/ and locale/ next to the crm_site package.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# ---------------------------------------------------------------------------------------------
# 3. Translations and static files, built once into the image
# ---------------------------------------------------------------------------------------------
FROM base AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY manage.py ./
COPY crm_site crm_site/
COPY accounts accounts/
COPY customers customers/
COPY interactions interactions/
COPY opportunities opportunities/
COPY service service/
COPY analytics analytics/
COPY templates templates/
COPY static static/
COPY locale locale/
COPY --from=vendor /build/static/vendor static/vendor/
# Settings refuse to load without SECRET_KEY and FIELD_ENCRYPTION_KEYS when DEBUG is off, so these
# two commands get throwaway keys that are never stored in the image (they are not ENV). DEBUG and STATIC_MANIFEST
# are set explicitly (manage.py would default to development mode), so collectstatic writes the
# hashed, compressed files and the manifest that WhiteNoise serves in production.
# CRM_VAR_DIR points away from /app/var: the settings create folders there on import.
RUN export SECRET_KEY=build-only-throwaway-key-not-used-at-runtime CRM_VAR_DIR=/tmp/build-var \
        FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS10aHJvd2F3YXkta2V5LW5vdC11c2U= \
        DEBUG=false STATIC_MANIFEST=true \
    && python manage.py compilemessages \
    && python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var

# ---------------------------------------------------------------------------------------------
# 4. Runtime
# ---------------------------------------------------------------------------------------------
FROM base AS runtime
# A real home directory: gunicorn (25.1+) puts its control socket in ~/.gunicorn/.
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --create-home --home-dir /home/crm \
        --shell /usr/sbin/nologin crm
# Code, .mo files and staticfiles/ stay owned by root: the app only reads them.
COPY --from=build /app /app
# Runtime state (uploads, the beat schedule) is the only writable place; created before the
# VOLUME line so that a fresh named volume starts with this ownership.
RUN mkdir -p /app/var/media \
    && chown -R crm:crm /app/var
ENV PYTHONPATH=/app \
    CRM_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    CELERY_BEAT_SCHEDULE_FILE=/app/var/celerybeat-schedule \
    WEB_CONCURRENCY=2
VOLUME ["/app/var"]
USER 10001:10001
EXPOSE 8000
# gunicorn reads its number of workers from WEB_CONCURRENCY. The worker heartbeat files go to
# /dev/shm (a tmpfs) so that a slow overlay filesystem cannot make workers look stuck.
CMD ["gunicorn", "crm_site.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
