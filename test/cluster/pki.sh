# Certificates and credentials for the test cluster, made once per cluster with openssl:
# a CA, the apiserver's serving certificate, an admin client certificate in system:masters,
# the ServiceAccount token signing key, and Kueue's and JobSet's webhook serving certificates
# (kueue-webhook/, jobset-webhook/, named as controller-runtime's webhook server expects).
# Sourced by test/cluster/up after lib.sh.

make_pki() {
  local pki="$STATE/pki"
  [ -f "$pki/.complete" ] && return
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kubetune-test-ca" 2>/dev/null
    cat >apiserver.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
      -subj "/O=system:masters/CN=kubetune-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >webhook.ext
    for w in kueue-webhook jobset-webhook; do
      mkdir -p "$w"
      openssl req -newkey rsa:2048 -nodes -keyout "$w/tls.key" -out "$w.csr" -subj "/CN=$w" 2>/dev/null
      openssl x509 -req -in "$w.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile webhook.ext -out "$w/tls.crt" 2>/dev/null
    done
  ) || die "generating certificates with openssl failed"
  touch "$pki/.complete"
}

# write_kubeconfig PATH SERVER: admin credentials embedded, so the file works on its own.
write_kubeconfig() {
  local path="$1" server="$2" pki="$STATE/pki"
  cat >"$path" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubetune-test
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: kubetune-admin
  user:
    client-certificate-data: $(base64 -w0 <"$pki/admin.crt")
    client-key-data: $(base64 -w0 <"$pki/admin.key")
contexts:
- name: kubetune-test
  context:
    cluster: kubetune-test
    user: kubetune-admin
    namespace: default
current-context: kubetune-test
EOF
  chmod 600 "$path"
}
