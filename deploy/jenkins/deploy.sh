#!/bin/sh
# One release of E-Ren to one environment: one image for every workload, and the manifests
# and configuration of this commit with it. docs/deploy.md explains the order.
#
#   deploy/jenkins/deploy.sh <staging|production> <registry>/eren@sha256:<digest>
#   deploy/jenkins/deploy.sh <staging|production> <registry>/eren:<40-character git SHA>
#
# 1. render the overlay with the image set; refuse a floating or unpinned image
# 2. apply everything but the workloads (hashed ConfigMaps, Secrets' sources, policies...)
# 3. migrate (the Job of this release, reading this release's ConfigMap)
# 4. Celery worker, then beat (consumers of the task queue before its producers)
# 5. the web Rollout: canary 20% -> 50% -> 100%, analysed at every step
# Any step that fails stops the release there; nothing after it runs.
#
# The Namespace and the deployer's own Role and RoleBinding are left to an operator
# (docs/deploy.md, "First installation"): a deployer must not widen its own rights.
#
# Environment: ROLLOUT_TIMEOUT (default 2h) is how long the canary may wait for a person
# when its analysis is inconclusive; without a decision by then the canary is aborted.
set -eu

usage="usage: $0 <staging|production> <registry>/eren@sha256:<digest> | <registry>/eren:<git sha>"
[ "$#" -eq 2 ] || { echo "$usage" >&2; exit 2; }
env="$1"
image="$2"
case "$env" in
  staging | production) ;;
  *) echo "unknown environment: $env" >&2; echo "$usage" >&2; exit 2 ;;
esac
namespace="eren-$env"
root=$(cd "$(dirname "$0")/../.." && pwd)
rollout_timeout="${ROLLOUT_TIMEOUT:-2h}"
field_manager=eren-release

# --- 1. The image: immutable, or no release ------------------------------------------
case "$image" in
  *@*) repository="${image%%@*}"; digest="${image#*@}"; tag="" ;;
  *) repository="$image"; digest=""; tag="" ;;
esac
case "${repository##*/}" in
  *:*) tag="${repository##*:}"; repository="${repository%:*}" ;;
esac
if [ -n "$digest" ]; then
  printf '%s\n' "$digest" | grep -Eqx 'sha256:[0-9a-f]{64}' \
    || { echo "refusing $image: malformed digest" >&2; exit 2; }
  expected="$repository@$digest"
elif printf '%s\n' "$tag" | grep -Eqx '[0-9a-f]{40}'; then
  expected="$repository:$tag"
else
  echo "refusing $image: not a digest or a git SHA tag (tags like latest move)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# kustomize takes bases by relative path only: render from a copy of deploy/k8s.
cp -R "$root/deploy/k8s" "$work/k8s"
mkdir "$work/k8s/release" "$work/objects"
if [ -n "$digest" ]; then
  pin="digest: $digest"
else
  pin="newTag: \"$tag\""
fi
cat > "$work/k8s/release/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../overlays/$env
images:
  - name: $repository
    $pin
EOF
kubectl kustomize "$work/k8s/release" > "$work/release.yaml"

# One file per object, named <kind>_<name>.yaml (kustomize writes top-level keys at column 0).
awk -v dir="$work/objects" '
  function flush() {
    if (kind != "") { file = dir "/" kind "_" name ".yaml"; printf "%s", doc > file; close(file) }
    doc = ""; kind = ""; name = ""; in_metadata = 0
  }
  /^---$/ { flush(); next }
  { doc = doc $0 "\n" }
  /^kind: / { kind = $2 }
  /^[^ ]/ { in_metadata = ($0 == "metadata:") }
  in_metadata && /^  name: / && name == "" { name = $2 }
  END { flush() }
' "$work/release.yaml"

for workload in Rollout_eren-web Deployment_eren-worker Deployment_eren-beat Job_eren-migrate; do
  [ -f "$work/objects/$workload.yaml" ] || { echo "the overlay has no $workload" >&2; exit 1; }
done
# Every workload runs exactly the image released (the overlay's eren image must be
# $repository for the pin to replace it) ...
for workload in Rollout_eren-web Deployment_eren-worker Deployment_eren-beat Job_eren-migrate; do
  grep -Eq "^[[:space:]-]*image:[[:space:]]*\"?$expected\"?\$" "$work/objects/$workload.yaml" \
    || { echo "$workload does not run $expected: is $repository the overlay's image?" >&2; exit 1; }
done
# ... and every other image is pinned by digest.
images=$(sed -n 's/^[[:space:]-]*image:[[:space:]]*//p' "$work/release.yaml" | tr -d '"' | sort -u)
for found in $images; do
  case "$found" in
    "$expected" | *@sha256:*) ;;
    *) echo "refusing to release $found: not pinned by digest" >&2; exit 1 ;;
  esac
done

apply() {
  # --force-conflicts: the release owns what it sets, also after a `rollout undo` by hand.
  kubectl -n "$namespace" apply --server-side --force-conflicts \
    --field-manager="$field_manager" "$@"
}

# --- 2. Everything but the workloads -------------------------------------------------
# ConfigMaps carry a hash of their content in their name: the new ones appear beside the
# old ones, which the running pods (and a rollback) keep using. Other objects must work
# for both releases, like a migration.
for object in "$work"/objects/*.yaml; do
  case "${object##*/}" in
    Namespace_* | Role_* | RoleBinding_* | Rollout_* | Deployment_* | Job_*) ;;
    *) cat "$object"; echo "---" ;;
  esac
done > "$work/config.yaml"
echo "== $env: configuration"
apply -f "$work/config.yaml"
kubectl -n "$namespace" wait --for=condition=Ready externalsecret --all --timeout=5m

# --- 3. Migrations, before any pod runs the new code ---------------------------------
# They must work with the release still serving (docs/deploy.md, "Safe migrations").
echo "== $env: migrate"
kubectl -n "$namespace" delete job eren-migrate --ignore-not-found --wait=true
kubectl -n "$namespace" create -f "$work/objects/Job_eren-migrate.yaml"
# The Job's activeDeadlineSeconds (600) ends it; wait a little longer than that.
deadline=$(( $(date +%s) + 660 ))
while :; do
  conditions=$(kubectl -n "$namespace" get job eren-migrate \
    -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
  case " $conditions " in
    *" Complete "*) break ;;
    *" Failed "*)
      kubectl -n "$namespace" logs job/eren-migrate --tail=200 || true
      echo "migration failed: nothing was rolled out" >&2
      exit 1 ;;
  esac
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "migration did not finish in time: nothing was rolled out" >&2
    exit 1
  fi
  sleep 5
done
kubectl -n "$namespace" logs job/eren-migrate --tail=50 || true

# --- 4. Celery: worker, then beat ----------------------------------------------------
# New workers take the tasks the old web and beat queued (a task keeps accepting the
# arguments of the release before it); no new producer runs before they do. A worker or
# beat that does not become ready is rolled back: nothing has sent it new tasks yet.
roll_deployment() {
  echo "== $env: $1"
  apply -f "$work/objects/Deployment_$1.yaml"
  if ! kubectl -n "$namespace" rollout status "deployment/$1" --timeout=15m; then
    echo "$1 did not become ready: rolling it back, stopping the release" >&2
    kubectl -n "$namespace" rollout undo "deployment/$1" || true
    exit 1
  fi
}
roll_deployment eren-worker
roll_deployment eren-beat

# --- 5. The web canary ---------------------------------------------------------------
echo "== $env: web canary (20% -> 50% -> 100%, analysed after each)"
echo "An inconclusive analysis pauses the canary for a person (docs/runbook.md, \"Canary"
echo "inconclusive\"): kubectl argo rollouts -n $namespace promote|abort eren-web."
apply -f "$work/objects/Rollout_eren-web.yaml"
if ! kubectl argo rollouts -n "$namespace" status eren-web --timeout "$rollout_timeout"; then
  status=$(kubectl argo rollouts -n "$namespace" status eren-web --watch=false || true)
  case "$status" in
    Degraded*) echo "the canary was aborted ($status): traffic is back on stable" >&2 ;;
    *)
      echo "no decision on the canary within $rollout_timeout: aborting it" >&2
      kubectl argo rollouts -n "$namespace" abort eren-web || true ;;
  esac
  echo "worker and beat keep $expected: they accept the tasks of both releases" >&2
  exit 1
fi
echo "== $env: released $expected"
