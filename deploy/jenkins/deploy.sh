#!/bin/sh
# Deploy one image to one environment: migrate, then roll the web tier out.
# Usage: deploy/jenkins/deploy.sh <staging|production> <image>   (run by the Jenkinsfile)
set -eu

env="$1"
image="$2"
namespace="eren-$env"
overlay="deploy/k8s/overlays/$env"

case "$image" in
  *:latest | *:latest@*) echo "refusing to deploy a floating tag: $image" >&2; exit 2 ;;
esac

# 1. Migrations run before any pod runs the new code; they must be backwards compatible
#    with the release still serving (docs/deploy.md, "Safe migrations").
IMAGE="$image" kubectl kustomize "$overlay" \
  | IMAGE="$image" yq 'select(.kind == "Job" and .metadata.name == "eren-migrate")
      | .spec.template.spec.containers[0].image = strenv(IMAGE)' > migrate-job.yaml
kubectl -n "$namespace" delete job eren-migrate --ignore-not-found --wait=true
kubectl -n "$namespace" create -f migrate-job.yaml

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
    echo "migration did not finish in time" >&2
    exit 1
  fi
  sleep 5
done
kubectl -n "$namespace" logs job/eren-migrate --tail=50 || true

# 2. Canary: 20% -> analysis -> 50% -> 100%. `status` fails if the analysis aborts it.
kubectl argo rollouts -n "$namespace" set image eren-web "web=$image"
kubectl argo rollouts -n "$namespace" status eren-web --timeout 30m
