# Builds the cluster's binaries from the Go modules beside this file, caching each module's
# output under $CACHE/bin/<module>-<hash>/, where the hash covers the module's go.mod, go.sum,
# sources, the Go version and the build flags, so any edit rebuilds and nothing else does.
# Sourced by test/cluster/up after lib.sh.

go_env() {
  export GOMODCACHE="${GOMODCACHE:-$HOME/.cache/go-mod}"
  # Static binaries: no C toolchain needed, and they run on any machine of this kind.
  export CGO_ENABLED=0
  # Never download another Go toolchain; the modules need the one installed.
  export GOTOOLCHAIN=local
}

module_hash() {
  local dir="$1" flags="$2"
  {
    go version
    printf '%s\n' "$flags"
    cd "$dir" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -c1-16
}

# build_module NAME DIR LDFLAGS PACKAGE...: prints the directory holding the binaries.
build_module() {
  local name="$1" dir="$2" ldflags="$3"
  shift 3
  local hash out tmp start secs
  hash="$(module_hash "$dir" "$ldflags $*")"
  out="$CACHE/bin/$name-$hash"
  if [ -f "$out/.complete" ]; then
    log "$name: cached build $(basename "$out") (built in $(cat "$out/.build-seconds")s)"
    printf '%s\n' "$out"
    return
  fi
  log "$name: building $* (first time or sources changed; this can take several minutes)"
  tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  start=$(date +%s)
  # nice 19: the machine's cores are shared, and a cold build takes minutes of both of them.
  if ! (cd "$dir" && nice -n 19 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp/" "$@") >&2; then
    rm -rf "$tmp"
    die "building $name failed (see the go output above)"
  fi
  secs=$(($(date +%s) - start))
  echo "$secs" >"$tmp/.build-seconds"
  touch "$tmp/.complete"
  rm -rf "$out"
  mv "$tmp" "$out"
  log "$name: built in ${secs}s"
  printf '%s\n' "$out"
}

# module_src DIR MODULE NAME: the source of a controller's MODULE in the module cache, which the
# build of DIR downloaded; its CRDs and webhook manifests are applied from there.
module_src() {
  local dir
  dir="$(cd "$1" && go list -m -f '{{.Dir}}' "$2")" || true
  [ -n "$dir" ] && [ -d "$dir/config/components/crd/bases" ] ||
    die "$3's module source is not in the Go module cache ($GOMODCACHE); run test/cluster/up with the Go module proxy reachable"
  printf '%s\n' "$dir"
}

k8s_ldflags() {
  local minor flags p
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    flags="$flags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

# The Kueue version is the one test/cluster/kueue/go.mod pins; stamped in as Kueue's Makefile does.
kueue_version() {
  sed -n 's/^[[:space:]]*sigs\.k8s\.io\/kueue \(v[^ ]*\).*/\1/p' "$CLUSTER_SRC/kueue/go.mod"
}
kueue_ldflags() { printf '%s' "-s -w -X sigs.k8s.io/kueue/pkg/version.GitVersion=$(kueue_version)"; }
KUEUE_PACKAGE=sigs.k8s.io/kueue/cmd/kueue

# The JobSet version is the one test/cluster/jobset/go.mod pins; stamped in as JobSet's Makefile does.
jobset_version() {
  sed -n 's/^[[:space:]]*sigs\.k8s\.io\/jobset \(v[^ ]*\).*/\1/p' "$CLUSTER_SRC/jobset/go.mod"
}
jobset_ldflags() { printf '%s' "-s -w -X sigs.k8s.io/jobset/pkg/version.GitVersion=$(jobset_version)"; }
# JobSet's controller manager is its module's root package (main.go).
JOBSET_PACKAGE=sigs.k8s.io/jobset

K8S_PACKAGES=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)

# binaries_fingerprint: changes whenever build_all would build something different.
binaries_fingerprint() {
  go_env
  {
    module_hash "$CLUSTER_SRC/k8s" "$(k8s_ldflags) ${K8S_PACKAGES[*]}"
    module_hash "$CLUSTER_SRC/etcd" "-s -w ."
    module_hash "$CLUSTER_SRC/node" "-s -w ."
    module_hash "$CLUSTER_SRC/kueue" "$(kueue_ldflags) $KUEUE_PACKAGE"
    module_hash "$CLUSTER_SRC/jobset" "$(jobset_ldflags) $JOBSET_PACKAGE"
  } | sha256sum | cut -c1-16
}

# build_all links every binary into $STATE/bin.
build_all() {
  go_env
  local k8s etcd node kueue jobset b
  k8s="$(build_module k8s "$CLUSTER_SRC/k8s" "$(k8s_ldflags)" "${K8S_PACKAGES[@]}")"
  etcd="$(build_module etcd "$CLUSTER_SRC/etcd" "-s -w" .)"
  node="$(build_module node "$CLUSTER_SRC/node" "-s -w" .)"
  kueue="$(build_module kueue "$CLUSTER_SRC/kueue" "$(kueue_ldflags)" "$KUEUE_PACKAGE")"
  jobset="$(build_module jobset "$CLUSTER_SRC/jobset" "$(jobset_ldflags)" "$JOBSET_PACKAGE")"
  mkdir -p "$STATE/bin"
  for b in "$k8s"/kube-apiserver "$k8s"/kube-controller-manager "$k8s"/kube-scheduler "$k8s"/kubectl \
    "$etcd"/etcd "$node"/node "$kueue"/kueue "$jobset"/jobset; do
    [ -x "$b" ] || die "expected binary $b is missing"
  done
  ln -sfn "$k8s/kube-apiserver" "$STATE/bin/kube-apiserver"
  ln -sfn "$k8s/kube-controller-manager" "$STATE/bin/kube-controller-manager"
  ln -sfn "$k8s/kube-scheduler" "$STATE/bin/kube-scheduler"
  ln -sfn "$k8s/kubectl" "$STATE/bin/kubectl"
  ln -sfn "$etcd/etcd" "$STATE/bin/etcd"
  ln -sfn "$node/node" "$STATE/bin/procnode"
  ln -sfn "$kueue/kueue" "$STATE/bin/kueue"
  ln -sfn "$jobset/jobset" "$STATE/bin/jobset"
}
