// Adapts Kueue's released manifests (in its module source, SRC) to this control plane:
//   node manifests.mjs SRC URL CA_FILE OUT_DIR GROUP...
// writes, as JSON Lists for `kubectl create -f`, OUT_DIR/crds.json (the CRDs, with the conversion
// webhooks that Kueue's kustomization patches in) and OUT_DIR/webhooks.json (the webhook
// configurations, keeping only webhooks whose rules stay within the API GROUPs).
// No Service can reach a process on loopback here, so every `clientConfig.service` becomes
// `url: URL + path`, trusted through CA_FILE (the cluster CA, which signed Kueue's serving cert).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [src, url, caFile, outDir, ...groups] = process.argv.slice(2);
if (!src || !url || !caFile || !outDir || groups.length === 0) {
  console.error('usage: node manifests.mjs SRC URL CA_FILE OUT_DIR GROUP...');
  process.exit(2);
}
const { parse, parseAllDocuments } = await import('yaml').catch(() => {
  console.error("the npm package 'yaml' is missing: run `npm ci` in the repository first");
  process.exit(1);
});
const caBundle = readFileSync(caFile).toString('base64');
const clientConfig = (path) => ({ url: `${url}${path}`, caBundle });
const readYaml = (path) => parse(readFileSync(path, 'utf8'));

function crds() {
  const dir = join(src, 'config/components/crd');
  const kustomization = readYaml(join(dir, 'kustomization.yaml'));
  const converted = (kustomization.patches ?? [])
    .filter((p) => /webhook_in_/.test(p.path))
    .map((p) => readYaml(join(dir, p.path)).metadata.name);
  if (converted.length === 0) throw new Error(`no conversion webhook patches in ${dir}/kustomization.yaml`);
  const conversion = {
    strategy: 'Webhook',
    webhook: { clientConfig: clientConfig('/convert'), conversionReviewVersions: ['v1'] },
  };
  return kustomization.resources.map((file) => {
    const crd = readYaml(join(dir, file));
    return converted.includes(crd.metadata.name) ? { ...crd, spec: { ...crd.spec, conversion } } : crd;
  });
}

// Kueue serves a no-op webhook for every integration it does not enable, so a webhook on pods
// or Deployments would only put every such request in the cluster through Kueue for nothing.
function webhooks() {
  const path = join(src, 'config/components/webhook/manifests.yaml');
  const configs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS());
  const out = configs.map((config) => ({
    ...config,
    // kustomize names them kueue-<name> in Kueue's own install.
    metadata: { ...config.metadata, name: `kueue-${config.metadata.name}` },
    webhooks: config.webhooks
      .filter((w) => w.rules.every((r) => r.apiGroups.every((g) => groups.includes(g))))
      .map((w) => ({ ...w, clientConfig: clientConfig(w.clientConfig.service.path) })),
  }));
  if (!out.some((c) => c.webhooks.length > 0)) throw new Error(`no webhook in ${path} is for ${groups}`);
  return out;
}

const list = (items) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
writeFileSync(join(outDir, 'crds.json'), list(crds()));
writeFileSync(join(outDir, 'webhooks.json'), list(webhooks()));
