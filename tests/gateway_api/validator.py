"""Test-only validation of Gateway API objects (HTTPRoute, Gateway, ReferenceGrant) with the upstream constraints.

No PyPI, npm or Debian package ships the Gateway API CRD YAML, and GitHub is out of reach, so the collection cannot
ship the CRD for the delivery layer (docs/delivery.md). What npm does have is @kubernetes-models/gateway-api 2.0.0:
ajv validators compiled from the upstream Go API types (sigs.k8s.io/gateway-api/apis/v1), with their kubebuilder
constraints (types, patterns, enums, min/max, required fields). This module installs that package, pinned by
package-lock.json (sha512 integrity), with `npm ci` into a cache OUTSIDE the work tree (node_modules holds YAML
files the linters would walk), and runs validate.mjs through node.

Limits, stated so nobody mistakes this for the CRD: the compiled validators do not reject unknown fields (the API
server's strict field validation does) and do not run the CRD's CEL rules.
"""

from ..npm_validators import NpmValidators

_VALIDATORS = NpmValidators('gateway_api', 'gateway-api-npm', '@kubernetes-models/gateway-api',
                            '@kubernetes-models/gateway-api')


def validate_gateway_objects(docs):
    """One list of error strings per doc ([] when valid). Skips the calling test when the validators cannot run."""
    return _VALIDATORS.validate(docs)
