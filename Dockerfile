# syntax=docker/dockerfile:1
# E-Ren web/worker/beat image: one image for every environment and process type.
#
# PYTHON_IMAGE is pinned to an exact Python release and its digest (Renovate proposes
# updates: renovate.json). `make image-check` passes a locally made base here instead (no
# registry on that machine).
ARG PYTHON_IMAGE=python:3.12.12-slim-bookworm@sha256:593bd06efe90efa80dc4eee3948be7c0fde4134606dd40d8dd8dbcade98e669c

FROM ${PYTHON_IMAGE} AS build
# Extra installer arguments, e.g. "--no-index --find-links /wheels" for wheels downloaded
# beforehand (pip and uv both take them).
ARG INSTALL_EXTRA_ARGS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements/bootstrap.txt requirements/base.txt /tmp/requirements/
# As in `make venv`: the base image's pip installs only the hash-pinned uv (kept out of the
# runtime image), and uv makes /opt/venv exactly the lock, hashes checked, nothing resolved.
RUN python -m venv /opt/uv \
    && /opt/uv/bin/pip install ${INSTALL_EXTRA_ARGS} --require-hashes --no-deps \
       -r /tmp/requirements/bootstrap.txt \
    && python -m venv --without-pip /opt/venv \
    && /opt/uv/bin/uv pip sync ${INSTALL_EXTRA_ARGS} --python /opt/venv/bin/python \
       --require-hashes /tmp/requirements/base.txt \
    && /opt/uv/bin/uv pip check --python /opt/venv/bin/python

FROM ${PYTHON_IMAGE} AS runtime
ARG GIT_SHA=unknown
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=eren.settings.base \
    DJANGO_ENV=production \
    STATIC_ROOT=/app/staticfiles \
    DD_VERSION=${GIT_SHA} \
    DD_GIT_COMMIT_SHA=${GIT_SHA}
RUN groupadd --system --gid 10001 eren \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin eren
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# Static files are built into the image with the production storage (hashed names and a
# manifest), so pods never write to their filesystem. The settings only need placeholder
# values here: collectstatic touches neither the database nor Redis.
RUN DJANGO_ENV=production \
    SECRET_KEY=collectstatic-at-build-time-only-not-a-real-secret-0123456789 \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    ALLOWED_HOSTS=build.invalid \
    TRUSTED_PROXY_COUNT=0 \
    ADMIN_URL=build-only/ \
    python manage.py collectstatic --noinput \
    && python -m compileall -q /app /opt/venv
USER 10001:10001
EXPOSE 8000
# gunicorn.conf.py reads bind, workers, threads and timeouts from the environment; on
# SIGTERM it stops accepting and gives requests GUNICORN_GRACEFUL_TIMEOUT to finish.
CMD ["ddtrace-run", "gunicorn", "-c", "gunicorn.conf.py", "eren.wsgi"]
