# Kueue (sigs.k8s.io/kueue, built by build.sh from test/cluster/kueue) beside the control plane.
# There are no Services here and Kueue's internal cert management can only issue certificates for
# a Service name, so it is off: the webhook server listens on loopback with a certificate the
# cluster CA signed (pki.sh), and the webhook configurations and CRD conversion reach it by URL.
# Sourced by test/cluster/up after lib.sh, build.sh and pki.sh.

# Kueue manages batch/v1 Jobs, and only those that name a LocalQueue; the webhooks kept are those
# for these API groups.
KUEUE_WEBHOOK_GROUPS=(kueue.x-k8s.io batch)
# With internal cert management off, Kueue loads a metrics serving certificate from this fixed
# path at start, even with the metrics server off (cmd/kueue/main.go). Nothing scrapes it, so one
# self-signed pair serves every cluster on the machine.
KUEUE_METRICS_CERTS=/etc/kueue/metrics/certs

# kueue_src: the Kueue module's source in the module cache, which the build downloaded; its
# CRDs and webhook manifests are applied from there, so they always match the binary.
kueue_src() { module_src "$CLUSTER_SRC/kueue" sigs.k8s.io/kueue Kueue; }

ensure_kueue_metrics_cert() {
  [ -s "$KUEUE_METRICS_CERTS/tls.crt" ] && [ -s "$KUEUE_METRICS_CERTS/tls.key" ] && return
  local parent tmp
  parent="$(dirname "$KUEUE_METRICS_CERTS")"
  mkdir -p "$parent" 2>/dev/null && tmp="$(mktemp -d "$parent/.certs.XXXXXX" 2>/dev/null)" ||
    die "Kueue needs a certificate in $KUEUE_METRICS_CERTS and $parent is not writable: run test/cluster/up once as root, or create tls.crt and tls.key there yourself (any self-signed pair)"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls.key" -out "$tmp/tls.crt" -days 3650 \
    -subj "/CN=kueue-metrics" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
    die "generating Kueue's metrics certificate with openssl failed"
  # Renaming the whole directory is atomic, so two clusters starting at once never mix a pair.
  mv -T "$tmp" "$KUEUE_METRICS_CERTS" 2>/dev/null || rm -rf "$tmp"
  [ -s "$KUEUE_METRICS_CERTS/tls.crt" ] || die "could not create $KUEUE_METRICS_CERTS/tls.crt"
}

# write_kueue_config PATH WEBHOOK_PORT HEALTH_PORT
write_kueue_config() {
  cat >"$1" <<EOF
apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: kueue-system
health:
  healthProbeBindAddress: 127.0.0.1:$3
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: $2
  certDir: $STATE/pki/kueue-webhook
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
manageJobsWithoutQueueName: false
integrations:
  frameworks: ["batch/job"]
# The visibility API is served through an APIService, which needs a Service.
featureGates:
  VisibilityOnDemand: false
EOF
}

# kueue_manifests SRC URL: writes crds.json and webhooks.json to $STATE/kueue. Parsing the
# Workload CRD (1.4 MB of YAML) takes a second or more, so up runs this while etcd and the
# apiserver start.
kueue_manifests() {
  node "$CLUSTER_SRC/kueue/manifests.mjs" "$1" "$2" "$STATE/pki/ca.crt" "$STATE/kueue" "${KUEUE_WEBHOOK_GROUPS[@]}"
}

# install_kueue_manifests: the CRDs and the webhook configurations. The webhooks fail closed, so
# until Kueue serves them no Job can be created; nothing creates one before up returns, and up
# returns only once the apiserver reaches Kueue (kueue_webhooks_active).
install_kueue_manifests() {
  local crds
  crds="$(kc create -o name -f "$STATE/kueue/crds.json" -f "$STATE/kueue/webhooks.json" | grep '^customresourcedefinition')" ||
    die "installing Kueue's CRDs and webhook configurations failed"
  # shellcheck disable=SC2086 # one name per word
  kc wait --for condition=Established --timeout 60s $crds >/dev/null || die "Kueue's CRDs were not established"
}

kueue_ready() { curl -fs --max-time 2 "http://127.0.0.1:$1/readyz"; }

# kueue_webhooks_active: the apiserver calls Kueue's Job webhook, which suspends a Job that names
# a queue (a server-side dry run, so nothing is created).
kueue_webhooks_active() {
  kc create --dry-run=server -o jsonpath='{.spec.suspend}' -f - <<'EOF_JOB' | grep -qx true
apiVersion: batch/v1
kind: Job
metadata:
  name: kueue-webhook-probe
  namespace: default
  labels: { kueue.x-k8s.io/queue-name: probe }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: main, image: kubetune.test/shell }]
EOF_JOB
}
