# JobSet (sigs.k8s.io/jobset, built by build.sh from test/cluster/jobset) beside the control
# plane, run as Kueue is (kueue.sh): JobSet's internal cert management can only issue
# certificates for a Service name, so it is off; the webhook server listens on loopback with a
# certificate the cluster CA signed (pki.sh), and the webhook configurations reach it by URL.
# Sourced by test/cluster/up after lib.sh, build.sh and pki.sh.

# jobset_src: the JobSet module's source in the module cache, which the build downloaded; its
# CRD and webhook manifests are applied from there, so they always match the binary.
jobset_src() { module_src "$CLUSTER_SRC/jobset" sigs.k8s.io/jobset JobSet; }

# write_jobset_config PATH WEBHOOK_PORT HEALTH_PORT
write_jobset_config() {
  cat >"$1" <<EOF_CONFIG
apiVersion: config.jobset.x-k8s.io/v1alpha1
kind: Configuration
health:
  healthProbeBindAddress: 127.0.0.1:$3
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: $2
  certDir: $STATE/pki/jobset-webhook
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
EOF_CONFIG
}

# jobset_manifests SRC URL: writes crds.json and webhooks.json to $STATE/jobset; up runs it while
# etcd and the apiserver start (the CRD is 0.8 MB of YAML).
jobset_manifests() {
  node "$CLUSTER_SRC/jobset/manifests.mjs" "$1" "$2" "$STATE/pki/ca.crt" "$STATE/jobset"
}

# install_jobset_manifests: the CRD and the webhook configurations. The webhooks fail closed, so
# until JobSet serves them no JobSet (nor a JobSet's pod) can be created; up returns only once
# the apiserver reaches JobSet (jobset_webhooks_active).
install_jobset_manifests() {
  kc create -o name -f "$STATE/jobset/crds.json" -f "$STATE/jobset/webhooks.json" >/dev/null ||
    die "installing JobSet's CRD and webhook configurations failed"
  # Not `kubectl wait`: it fails at once when the new CRD has no status.conditions yet.
  wait_until jobset 60 jobset_crd_established
}

jobset_crd_established() {
  [ "$(kc get crd jobsets.jobset.x-k8s.io -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" = True ]
}

jobset_ready() { curl -fs --max-time 2 "http://127.0.0.1:$1/readyz"; }

# jobset_webhooks_active: the apiserver calls JobSet's defaulting webhook, which sets the
# replicated Job's completionMode (a server-side dry run, so nothing is created).
jobset_webhooks_active() {
  kc create --dry-run=server -o jsonpath='{.spec.replicatedJobs[0].template.spec.completionMode}' -f - <<'EOF_JOBSET' | grep -qx Indexed
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: jobset-webhook-probe
  namespace: default
spec:
  replicatedJobs:
    - name: probe
      template:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{ name: main, image: kubetune.test/shell }]
EOF_JOBSET
}
