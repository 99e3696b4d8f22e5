# kubectl, kustomize, yq, jq and the AWS CLI (alpine/k8s) plus the Argo Rollouts kubectl
# plugin, for the deploy agent. Built and pushed to ECR when it changes (docs/deploy.md).
# The plugin image's digest is still to pin (docs/deploy.md, "Images").
FROM quay.io/argoproj/kubectl-argo-rollouts:v1.9.0 AS rollouts
FROM alpine/k8s:1.34.1@sha256:ec714df3813b5405292860f8a1c55c5727bf8c33c88992f1e981efad8065547f
COPY --from=rollouts /bin/kubectl-argo-rollouts /usr/local/bin/kubectl-argo-rollouts
USER 1000:1000
