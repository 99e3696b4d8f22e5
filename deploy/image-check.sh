#!/bin/sh
# `make image-check`: build the image for real on a machine without a Docker engine or a
# container registry, then smoke-run it. Not part of `make test` (minutes, needs root).
#
# - buildah (Debian package) builds the Dockerfile with --isolation=chroot and vfs storage
#   kept under .tools/image-check/.
# - The base image is made locally: a Debian bookworm minbase (debootstrap, from the
#   host's configured Debian mirror) plus the host's Python 3.12 ($IMAGE_CHECK_PYTHON), and
#   passed to the Dockerfile as PYTHON_IMAGE.
# - Wheels are downloaded on the host from requirements/base.txt, hashes checked, and
#   mounted into the build; the Dockerfile's own hash-checked install (pip bootstraps uv,
#   uv installs the lock) runs against them.
# - Then, inside the image as uid 10001: `manage.py check --deploy` with production
#   settings, `gunicorn --check-config`, and a few facts about the image.
set -eu

cd "$(dirname "$0")/.."
# The Python 3.12 copied into the base: IMAGE_CHECK_PYTHON (its prefix), else python3.12 on
# PATH, else the newest 3.12 that pyenv (on PATH) has.
python312_prefix() {
  python3.12 -c 'import sys; print(sys.base_prefix)' 2>/dev/null && return
  command -v pyenv >/dev/null 2>&1 || return 0
  version=$(pyenv versions --bare --skip-aliases | grep -E '^3\.12\.[0-9]+$' | tail -n 1)
  [ -z "$version" ] || pyenv prefix "$version"
}
python_home="${IMAGE_CHECK_PYTHON:-$(python312_prefix)}"
work="$PWD/.tools/image-check"
image=localhost/eren:check

missing=""
for command in buildah debootstrap; do
  command -v "$command" >/dev/null 2>&1 || missing="$missing $command"
done
if [ -n "$missing" ]; then
  echo "image-check: installing$missing from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    buildah debootstrap uidmap >/dev/null
fi
if [ ! -x "$python_home/bin/python3.12" ]; then
  echo "image-check: no Python 3.12 at '$python_home' (put python3.12 on PATH or set IMAGE_CHECK_PYTHON)" >&2
  exit 1
fi
python_version=$("$python_home/bin/python3.12" -c 'import platform; print(platform.python_version())')
base="localhost/eren-base:bookworm-python$python_version"

mkdir -p "$work"
bh() {
  buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" "$@"
}

# 1. The local base image (made once, then reused).
if ! bh inspect --type image "$base" >/dev/null 2>&1; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
  rootfs="$work/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase \
    --include=ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libuuid1,libgdbm6,libexpat1,netbase,tzdata \
    bookworm "$rootfs" "$mirror" >"$work/debootstrap.log"
  # The host's Python keeps its build prefix (its libpython has that rpath).
  mkdir -p "$rootfs$python_home"
  cp -a "$python_home/." "$rootfs$python_home/"
  # uid 10001 must reach it, wherever the prefix is (e.g. under /root).
  dir="$python_home"
  while [ "$dir" != "/" ]; do chmod 755 "$rootfs$dir"; dir=$(dirname "$dir"); done
  for name in python python3 python3.12; do
    ln -sf "$python_home/bin/python3.12" "$rootfs/usr/local/bin/$name"
  done
  rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*
  tar -C "$rootfs" -cf "$work/rootfs.tar" .
  container=$(bh from scratch)
  bh add "$container" "$work/rootfs.tar" /
  bh config --env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd python3 "$container"
  bh commit --rm "$container" "$base" >/dev/null
  rm -rf "$rootfs" "$work/rootfs.tar"
fi

# 2. Wheels for the lock file, downloaded on the host with their hashes checked.
"$python_home/bin/python3.12" -m pip download --quiet --disable-pip-version-check \
  --require-hashes --only-binary=:all: --no-deps \
  -r requirements/bootstrap.txt -r requirements/base.txt -d "$work/wheels"

# 3. The build, exactly as CI's Dockerfile, with the local base and wheels.
bh build --isolation chroot --pull-never --layers=false \
  --build-arg "PYTHON_IMAGE=$base" \
  --build-arg "INSTALL_EXTRA_ARGS=--no-index --find-links /wheels" \
  --build-arg "GIT_SHA=$(git rev-parse HEAD)" \
  --volume "$work/wheels:/wheels:ro" \
  --tag "$image" --file Dockerfile .

# 4. Smoke: production settings, as the image's own user (no database needed).
container=$(bh from --pull-never "$image")
trap 'bh rm "$container" >/dev/null 2>&1 || true' EXIT
secret=$("$python_home/bin/python3.12" -c 'import secrets; print(secrets.token_urlsafe(64))')
run() {
  bh run --isolation chroot --user 10001:10001 \
    --env DJANGO_ENV=production \
    --env "SECRET_KEY=$secret" \
    --env DATABASE_URL=postgres://eren:check@127.0.0.1:6432/eren \
    --env REDIS_URL=redis://127.0.0.1:6379/0 \
    --env ALLOWED_HOSTS=eren.washu.edu \
    --env TRUSTED_PROXY_COUNT=1 \
    --env ADMIN_URL=staff-check/ \
    --env DISABLE_SERVER_SIDE_CURSORS=true \
    "$container" -- "$@"
}
echo "== manage.py check --deploy"
run python manage.py check --deploy --fail-level WARNING
echo "== gunicorn --check-config"
run gunicorn --check-config -c gunicorn.conf.py eren.wsgi
echo "== image facts"
run sh -c '
  set -e
  test "$(id -u):$(id -g)" = "10001:10001"
  test -f /app/staticfiles/staticfiles.json          # manifest storage built at build time
  ! touch /app/written-at-runtime 2>/dev/null          # the app tree is not writable
  ! touch /opt/venv/written-at-runtime 2>/dev/null
  python -c "import ddtrace, gunicorn, django, psycopg; print(\"ddtrace\", ddtrace.__version__, \"django\", django.__version__)"
  command -v ddtrace-run >/dev/null
'
echo "== the image's own command serves /health and stops cleanly on SIGTERM"
run env GUNICORN_BIND=127.0.0.1:18123 GUNICORN_WORKERS=1 DD_TRACE_ENABLED=false \
  ALLOWED_HOSTS=127.0.0.1 sh -c '
  ddtrace-run gunicorn -c gunicorn.conf.py eren.wsgi 2>/tmp/gunicorn.log &
  server=$!
  ok=""
  for attempt in $(seq 1 30); do
    if python -c "import urllib.request as u; assert u.urlopen(\"http://127.0.0.1:18123/health\", timeout=2).status == 200" 2>/dev/null; then
      ok=yes; break
    fi
    sleep 1
  done
  kill -TERM "$server"; wait "$server"; status=$?
  [ -n "$ok" ] || { cat /tmp/gunicorn.log; echo "/health did not answer 200" >&2; exit 1; }
  [ "$status" -eq 0 ] || { cat /tmp/gunicorn.log; echo "gunicorn exited $status on SIGTERM" >&2; exit 1; }
  echo "/health 200, graceful exit"
'
echo "image-check: $image built from $base and smoke-tested"
