# kubectl, kustomize, yq, jq and the AWS CLI (alpine/k8s) plus the Argo Rollouts kubectl
# plugin, for the deploy agent. Built and pushed to ECR by the Jenkinsfile when it changes.
FROM quay.io/argoproj/kubectl-argo-rollouts:v1.9.0 AS rollouts
FROM alpine/k8s:1.34.1
COPY --from=rollouts /bin/kubectl-argo-rollouts /usr/local/bin/kubectl-argo-rollouts
USER 1000:1000
