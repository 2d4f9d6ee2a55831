// Test-only: validate cert-manager and Traefik objects with the ajv validators that @kubernetes-models/cert-manager
// and @kubernetes-models/traefik ship (generated from the projects' CRDs).
// stdin: a JSON list of manifests; stdout: a JSON list, one entry per input: [] when valid, else error strings
// "<field path>: <ajv keyword> <params>". An unknown apiVersion/kind is an error, never a silent pass.
import { readFileSync } from 'node:fs';

// These packages do not list _schemas in their "exports", so the compiled validators are imported by file URL.
const SCHEMAS = new URL('./node_modules/@kubernetes-models/', import.meta.url);
const KINDS = {
  'cert-manager.io/v1 Certificate': 'cert-manager/_schemas/ComGithubCertManagerCertManagerPkgApisCertmanagerV1Certificate.js',
  'cert-manager.io/v1 ClusterIssuer': 'cert-manager/_schemas/ComGithubCertManagerCertManagerPkgApisCertmanagerV1ClusterIssuer.js',
  'traefik.io/v1alpha1 Middleware': 'traefik/_schemas/ComGithubTraefikTraefikV3PkgProviderKubernetesCrdTraefikioV1alpha1Middleware.js',
};

const docs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const doc of docs) {
  const key = `${doc.apiVersion} ${doc.kind}`;
  if (!(key in KINDS)) {
    results.push([`(top level): no validator for ${key}`]);
    continue;
  }
  const { validate } = await import(new URL(KINDS[key], SCHEMAS));
  if (validate(doc)) {
    results.push([]);
  } else {
    results.push(validate.errors.map((e) => `${e.instancePath || '(top level)'}: ${e.keyword} ${JSON.stringify(e.params)}`));
  }
}
process.stdout.write(JSON.stringify(results));
