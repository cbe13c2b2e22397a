// Adapts JobSet's released manifests (in its module source, SRC) to this control plane:
//   node manifests.mjs SRC URL CA_FILE OUT_DIR
// writes, as JSON Lists for `kubectl create -f`, OUT_DIR/crds.json (the JobSet CRD) and
// OUT_DIR/webhooks.json (the webhook configurations with the patches that JobSet's kustomization
// applies: the pod webhooks only see pods that carry the jobset-name label).
// No Service can reach a process on loopback here, so every `clientConfig.service` becomes
// `url: URL + path`, trusted through CA_FILE (the cluster CA, which signed JobSet's serving cert).
// The CRD's conversion-webhook patch is left out: JobSet serves one version (v1alpha2), so the
// apiserver never converts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [src, url, caFile, outDir] = process.argv.slice(2);
if (!src || !url || !caFile || !outDir) {
  console.error('usage: node manifests.mjs SRC URL CA_FILE OUT_DIR');
  process.exit(2);
}
const { parse, parseAllDocuments } = await import('yaml').catch(() => {
  console.error("the npm package 'yaml' is missing: run `npm ci` in the repository first");
  process.exit(1);
});
const caBundle = readFileSync(caFile).toString('base64');
const readYaml = (path) => parse(readFileSync(path, 'utf8'));

function crds() {
  const dir = join(src, 'config/components/crd');
  return readYaml(join(dir, 'kustomization.yaml')).resources.map((file) => readYaml(join(dir, file)));
}

// The kustomization's patches are JSON patches that replace whole webhooks; anything else means
// JobSet's layout changed and this script must learn it.
function applyPatch(config, ops, file) {
  const webhooks = [...config.webhooks];
  for (const op of ops) {
    const index = /^\/webhooks\/(\d+)$/.exec(op.path)?.[1];
    if (op.op !== 'replace' || index === undefined || Number(index) >= webhooks.length) {
      throw new Error(`${file}: unsupported patch ${JSON.stringify({ op: op.op, path: op.path })}`);
    }
    webhooks[Number(index)] = op.value;
  }
  return { ...config, webhooks };
}

function webhooks() {
  const dir = join(src, 'config/components/webhook');
  const kustomization = readYaml(join(dir, 'kustomization.yaml'));
  const configs = parseAllDocuments(readFileSync(join(dir, 'manifests.yaml'), 'utf8')).map((d) => d.toJS());
  return configs.map((config) => {
    const patched = (kustomization.patches ?? [])
      .filter((p) => p.target?.kind === config.kind && p.target?.name === config.metadata.name)
      .reduce((c, p) => applyPatch(c, readYaml(join(dir, p.path)), p.path), config);
    return {
      ...patched,
      // kustomize names them jobset-<name> in JobSet's own install.
      metadata: { ...patched.metadata, name: `jobset-${patched.metadata.name}` },
      webhooks: patched.webhooks.map((w) => ({
        ...w,
        clientConfig: { url: `${url}${w.clientConfig.service.path}`, caBundle },
      })),
    };
  });
}

const list = (items) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
writeFileSync(join(outDir, 'crds.json'), list(crds()));
writeFileSync(join(outDir, 'webhooks.json'), list(webhooks()));
