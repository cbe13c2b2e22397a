#!/usr/bin/env bash
# Builds the Helm CLI from its Go module (there is no Debian package for it, and release
# binaries cannot be downloaded here) into the shared binary cache, keyed by version so a
# version bump rebuilds and nothing else does. Prints the path of the helm binary on stdout.
# Used by the deploy tests (test/support/helm.ts) and scripts/test.sh. Settings (environment):
#   KUBETUNE_HELM_VERSION   helm.sh/helm/v3 version to build (default below)
#   KUBETUNE_CLUSTER_CACHE  cache root (default ~/.cache/kubetune/cluster)
set -euo pipefail

HELM_VERSION="${KUBETUNE_HELM_VERSION:-v3.22.0}"
CACHE="${KUBETUNE_CLUSTER_CACHE:-$HOME/.cache/kubetune/cluster}"
# The key includes this script's hash, so changing how helm is built rebuilds it.
SCRIPT_HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"
OUT="$CACHE/bin/helm-$HELM_VERSION-$SCRIPT_HASH"

log() { printf '[helm] %s\n' "$*" >&2; }
die() {
  printf '[helm] ERROR: %s\n' "$*" >&2
  exit 1
}

if [ -x "$OUT/helm" ] && [ -f "$OUT/.complete" ]; then
  printf '%s\n' "$OUT/helm"
  exit 0
fi

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null ||
  die "Go is needed to build helm $HELM_VERSION: install Go 1.26+ at /usr/local/go and put /usr/local/go/bin on PATH (or install helm 3 and set KUBETUNE_HELM=/path/to/helm)"

export GOMODCACHE="${GOMODCACHE:-$HOME/.cache/go-mod}"
export CGO_ENABLED=0
export GOTOOLCHAIN=local
# helm's Makefile stamps the Kubernetes version of its client-go as the default that
# `helm template` and `helm lint` assume; without it they assume v1.20 and reject charts that
# need newer. Read it from helm's own go.mod, as the Makefile does.
helm_gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
[ -f "$helm_gomod" ] || die "could not fetch helm.sh/helm/v3@$HELM_VERSION's go.mod from the Go module proxy"
k8s_minor="$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$helm_gomod" | head -1)"
[ -n "$k8s_minor" ] || die "no k8s.io/client-go requirement in $helm_gomod"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags="$ldflags -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done

# `go install pkg@version` builds in module mode outside any go.mod; helm's own go.mod has no
# replace directives, so this works as is. GOBIN goes to a temp dir so a failed build leaves
# no half-written binary in the cache.
tmp="$OUT.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
log "building helm $HELM_VERSION from helm.sh/helm/v3 (first time only; takes a few minutes)"
start=$(date +%s)
if ! GOBIN="$tmp" nice -n 10 go install -trimpath -ldflags "$ldflags" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2; then
  die "building helm $HELM_VERSION failed (see the go output above); the Go module proxy must be reachable"
fi
echo $(($(date +%s) - start)) >"$tmp/.build-seconds"
touch "$tmp/.complete"
rm -rf "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
log "built helm $HELM_VERSION in $(cat "$OUT/.build-seconds")s"
printf '%s\n' "$OUT/helm"
