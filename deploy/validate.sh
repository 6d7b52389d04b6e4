#!/usr/bin/env bash
# Builds every kustomization under deploy/ and fails on the first error.
#
#   deploy/validate.sh
#
# Environment:
#   RENDER_DIR           keep the rendered manifests here (default: a temporary directory, removed on exit)
#   REQUIRE_KUBECONFORM  1 = fail when kubeconform is missing (CI sets it); otherwise schema checks are
#                        skipped with a notice
#   KUBERNETES_VERSION   schema version for kubeconform (default 1.32.0)
#
# kubeconform fetches the Kubernetes schemas and, for Argo CD's CRDs, the community CRD catalog; offline it
# needs KUBECONFORM_SCHEMA_LOCATIONS pointing at local copies (space-separated -schema-location values).
set -euo pipefail

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kubernetes_version="${KUBERNETES_VERSION:-1.32.0}"
schema_locations="${KUBECONFORM_SCHEMA_LOCATIONS:-default https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json}"

if [[ -n "${RENDER_DIR:-}" ]]; then
  render_dir="$RENDER_DIR"
  mkdir -p "$render_dir"
else
  render_dir="$(mktemp -d)"
  trap 'rm -rf "$render_dir"' EXIT
fi

if command -v kubectl >/dev/null 2>&1; then
  build() { kubectl kustomize "$1"; }
  echo "kustomize: kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')"
elif command -v kustomize >/dev/null 2>&1; then
  build() { kustomize build "$1"; }
  echo "kustomize: $(kustomize version)"
else
  echo "error: neither kubectl nor kustomize is on PATH" >&2
  exit 1
fi

kubeconform_bin=""
if command -v kubeconform >/dev/null 2>&1; then
  kubeconform_bin="kubeconform"
elif [[ "${REQUIRE_KUBECONFORM:-0}" == "1" ]]; then
  echo "error: kubeconform is required (REQUIRE_KUBECONFORM=1) but not on PATH" >&2
  exit 1
else
  echo "notice: kubeconform not on PATH; building only, no schema validation"
fi

# Every directory with a kustomization, in a stable order: base, overlays, argocd.
mapfile -t kustomizations < <(find "$deploy_dir" -name kustomization.yaml | sed 's|/kustomization.yaml$||' | sort)

failed=0
for dir in "${kustomizations[@]}"; do
  name="${dir#"$deploy_dir"/}"
  out="$render_dir/${name//\//_}.yaml"
  if ! build "$dir" >"$out" 2>"$out.err"; then
    echo "FAIL  $name"
    sed 's/^/      /' "$out.err"
    failed=1
    continue
  fi

  count="$(grep -c '^kind:' "$out" || true)"
  # An overlay that forgot to pin an image would deploy the base's placeholder tag.
  if [[ "$name" == overlays/* ]] && grep -q ':0\.0\.0-unset$' "$out"; then
    echo "FAIL  $name: images still carry the base placeholder tag 0.0.0-unset (set them in the overlay's images:)"
    failed=1
    continue
  fi

  if [[ -n "$kubeconform_bin" ]]; then
    locations=()
    for location in $schema_locations; do locations+=(-schema-location "$location"); done
    if ! "$kubeconform_bin" -strict -summary -kubernetes-version "$kubernetes_version" "${locations[@]}" "$out" >"$out.kubeconform" 2>&1; then
      echo "FAIL  $name: kubeconform"
      sed 's/^/      /' "$out.kubeconform"
      failed=1
      continue
    fi
    echo "ok    $name ($count resources; $(tail -n 1 "$out.kubeconform"))"
  else
    echo "ok    $name ($count resources)"
  fi
done

if [[ "$failed" -ne 0 ]]; then
  echo "validation failed" >&2
  exit 1
fi
echo "all ${#kustomizations[@]} kustomizations build"
