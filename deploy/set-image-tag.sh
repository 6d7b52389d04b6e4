#!/usr/bin/env bash
# Pins all AgentPlatform images of one overlay to one tag: the GitOps deploy step. CI's deploy jobs run it
# in a clone of the default branch and push the result, which Argo CD then syncs (docs/deployment.md).
#
#   deploy/set-image-tag.sh <dev|staging|prod> <image prefix> <tag>
#   deploy/set-image-tag.sh staging registry.gitlab.example.com/agentplatform/agentplatform v1.4.0
#
# Needs kustomize (for `kustomize edit`) and kubectl or kustomize to check that the overlay still builds.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <dev|staging|prod> <image prefix> <tag>" >&2
  exit 2
fi
environment="$1" prefix="${2%/}" tag="$3"

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
overlay="$deploy_dir/overlays/$environment"
if [[ ! -f "$overlay/kustomization.yaml" ]]; then
  echo "error: no overlay $overlay" >&2
  exit 2
fi
# Image tags: letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-'.
if [[ ! "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "error: '$tag' is not a valid image tag" >&2
  exit 2
fi

# The base's placeholder names are the keys; one image per deployable (deploy/base/kustomization.yaml).
services=(gateway controlplane modelgateway worker console migrations)
(
  cd "$overlay"
  for service in "${services[@]}"; do
    kustomize edit set image "registry.example.com/agentplatform/$service=$prefix/$service:$tag"
  done
)

if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$overlay" >/dev/null
else
  kustomize build "$overlay" >/dev/null
fi
echo "$environment now deploys $prefix/<service>:$tag"
