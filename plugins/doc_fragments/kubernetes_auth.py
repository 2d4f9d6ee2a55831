# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of modules that reach the Kubernetes API through kubernetes.core's client (they take
    # kubernetes.core's own argument spec). Documented here, in this collection, so that ansible-doc and Galaxy's
    # importer can read this collection's module docs without kubernetes.core being installed next to it.
    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file to read the cluster, user and context from, or the kubeconfig's content as a
        dict. Falls back to E(K8S_AUTH_KUBECONFIG), then to C(~/.kube/config).
      - On a k3s server the file is C(/etc/rancher/k3s/k3s.yaml).
    type: raw
  context:
    description:
      - Context of the kubeconfig to use. Falls back to E(K8S_AUTH_CONTEXT), then to the current context.
    type: str
  host:
    description:
      - URL of the API server, when not taken from the kubeconfig. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for basic authentication. Falls back to E(K8S_AUTH_USERNAME).
    type: str
  password:
    description:
      - Password for basic authentication. Falls back to E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Check the API server's TLS certificate. Falls back to E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - CA certificate file to check the API server's certificate against. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate file for TLS client authentication. Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Key file of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP proxy URL to reach the API server through. Falls back to E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, addresses or CIDRs that bypass O(proxy). Falls back to E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description:
      - Headers sent to the proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication.
        type: str
      basic_auth:
        description:
          - C(user:password) for basic authentication.
        type: str
      user_agent:
        description:
          - The C(User-Agent) header.
        type: str
  persist_config:
    description:
      - Write refreshed credentials (for example a renewed OIDC token) back to the kubeconfig file.
        Falls back to E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description:
      - User to act as (Kubernetes impersonation). Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Groups to act as (Kubernetes impersonation). Falls back to E(K8S_AUTH_IMPERSONATE_GROUPS).
    type: list
    elements: str
notes:
  - The connection options and their environment variables are those of the M(kubernetes.core.k8s) modules, whose
    API client these modules use; C(kubernetes.core) must be installed to run them.
'''
