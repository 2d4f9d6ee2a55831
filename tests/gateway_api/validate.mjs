// Test-only: validate Gateway API objects with the ajv validators that @kubernetes-models/gateway-api ships.
// stdin: a JSON list of manifests; stdout: a JSON list, one entry per manifest: [] when valid, else error strings
// "<field path>: <ajv keyword> <params>". Unknown apiVersion/kind is an error, never a silent pass.
import { readFileSync } from 'node:fs';

const KINDS = {
  'gateway.networking.k8s.io/v1 HTTPRoute': 'IoK8sSigsGatewayApiApisV1HTTPRoute',
  'gateway.networking.k8s.io/v1 Gateway': 'IoK8sSigsGatewayApiApisV1Gateway',
};

const docs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const doc of docs) {
  const key = `${doc.apiVersion} ${doc.kind}`;
  if (!(key in KINDS)) {
    results.push([`(top level): no validator for ${key}`]);
    continue;
  }
  const { validate } = await import(`@kubernetes-models/gateway-api/_schemas/${KINDS[key]}`);
  if (validate(doc)) {
    results.push([]);
  } else {
    results.push(validate.errors.map((e) => `${e.instancePath || '(top level)'}: ${e.keyword} ${JSON.stringify(e.params)}`));
  }
}
process.stdout.write(JSON.stringify(results));
