"""Test-only validation of cert-manager and Traefik objects (Certificate, ClusterIssuer, Middleware) with the ajv
validators of @kubernetes-models/cert-manager and @kubernetes-models/traefik, the way tests/gateway_api checks
HTTPRoutes: the packages, pinned by package-lock.json (sha512 integrity), are installed with `npm ci` into a cache
outside the work tree and validate.mjs runs under node. A second opinion next to the delivery layer's own check
against the vendored CRDs (roles/k8s_delivery/files/crds). Like the Gateway API validators, these do not reject
unknown fields and do not run CEL rules."""

from ..npm_validators import NpmValidators

_VALIDATORS = NpmValidators('k8s_models', 'k8s-models-npm',
                            '@kubernetes-models/cert-manager and @kubernetes-models/traefik', '@kubernetes-models')


def validate_objects(docs):
    """One list of error strings per doc ([] when valid). Skips the calling test when the validators cannot run."""
    return _VALIDATORS.validate(docs)
