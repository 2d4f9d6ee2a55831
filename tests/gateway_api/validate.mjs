// Test-only: validate Gateway API objects with the ajv validators that @kubernetes-models/gateway-api ships.
// stdin: a JSON list of manifests, or of {"type": "<v1 type name>", "value": ...} to check one field's value against
// its API type (e.g. ParentReference, Hostname, HTTPPathMatch: what a Helm chart copies into its HTTPRoute);
// stdout: a JSON list, one entry per input: [] when valid, else error strings "<field path>: <ajv keyword> <params>".
// An unknown apiVersion/kind or type is an error, never a silent pass.
import { readFileSync } from 'node:fs';

const KINDS = {
  'gateway.networking.k8s.io/v1 HTTPRoute': 'IoK8sSigsGatewayApiApisV1HTTPRoute',
  'gateway.networking.k8s.io/v1 Gateway': 'IoK8sSigsGatewayApiApisV1Gateway',
  'gateway.networking.k8s.io/v1beta1 ReferenceGrant': 'IoK8sSigsGatewayApiApisV1beta1ReferenceGrant',
};

const docs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
const TYPE = /^[A-Z][A-Za-z]+$/;
for (const doc of docs) {
  if (doc.type !== undefined && doc.apiVersion === undefined) {
    let module;
    try {
      module = TYPE.test(doc.type) && await import(`@kubernetes-models/gateway-api/_schemas/IoK8sSigsGatewayApiApisV1${doc.type}`);
    } catch (err) {
      module = null;
    }
    if (!module) {
      results.push([`(top level): no validator for type ${doc.type}`]);
    } else if (module.validate(doc.value)) {
      results.push([]);
    } else {
      results.push(module.validate.errors.map((e) => `${e.instancePath || '(top level)'}: ${e.keyword} ${JSON.stringify(e.params)}`));
    }
    continue;
  }
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
