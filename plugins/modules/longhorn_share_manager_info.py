#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: longhorn_share_manager_info
short_description: Find the NFSv4 export of a Longhorn RWX claim's share-manager
version_added: 0.1.0
description:
  - Follows a Longhorn ReadWriteMany PersistentVolumeClaim to its PersistentVolume, the Longhorn C(Volume)
    (C(longhorn.io/v1beta2), in O(longhorn_namespace)) and the share-manager Service of the same name, and returns
    the Service's ClusterIP and the export path C(/<volume>).
  - Nodes that cannot use Longhorn's iSCSI CSI path (Proxmox LXC GPU nodes) mount that export through a static NFS
    PersistentVolume rendered from this module's result; rerun it after the volume was recreated or restored and the
    address changes with it.
  - Fails with what to do when the claim is not bound, when the Longhorn Volume does not match the claim, and when
    the share-manager Service does not exist because no pod mounts the volume through CSI yet (the config holder).
  - Read-only; all calls go through kubernetes.core's API client, so the usual C(kubeconfig)/C(context) options and
    C(K8S_AUTH_*) environment variables apply.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
options:
  claim:
    description: Name of the Longhorn RWX PersistentVolumeClaim.
    type: str
    required: true
  namespace:
    description: Namespace of the claim.
    type: str
    default: media
  longhorn_namespace:
    description: Namespace Longhorn runs in (its Volumes and share-manager Services live there).
    type: str
    default: longhorn-system
  holder:
    description:
      - Name of the Deployment that keeps a CSI mount of the claim, named in the error when the share-manager is
        missing.
    type: str
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
  - homelab.mediacluster.kubernetes_auth
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Find the share-manager export of Plex's config volume
  homelab.mediacluster.longhorn_share_manager_info:
    kubeconfig: "{{ k8s_kubeconfig }}"
    claim: plex-config
    namespace: media
    holder: plex-config-holder
  register: plex_share

- name: Show it
  ansible.builtin.debug:
    msg: "mount {{ plex_share.export }} (NFSv4) from the GPU node"
"""

RETURN = r"""
claim:
  description: The claim that was resolved.
  returned: success
  type: str
persistent_volume:
  description: The PersistentVolume the claim is bound to (C(spec.volumeName)).
  returned: success
  type: str
volume:
  description: The Longhorn Volume (the PV's CSI volume handle, normally the PV name).
  returned: success
  type: str
  sample: pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d
server:
  description: ClusterIP of the share-manager Service.
  returned: success
  type: str
  sample: 10.43.17.201
path:
  description: NFSv4 export path, C(/<volume>).
  returned: success
  type: str
  sample: /pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d
export:
  description: C(server:/path).
  returned: success
  type: str
port:
  description: The NFS port of the Service (2049).
  returned: success
  type: int
size:
  description: Size of the Longhorn Volume in bytes, as Longhorn reports it (C(spec.size)).
  returned: success
  type: str
share_endpoint:
  description: Longhorn's own C(status.shareEndpoint), when the share-manager has published it.
  returned: success
  type: str
storage_class:
  description: The claim's storage class.
  returned: success
  type: str
requested:
  description: The claim's requested size (C(spec.resources.requests.storage)).
  returned: success
  type: str
"""

import copy

from ansible_collections.homelab.mediacluster.plugins.module_utils.longhorn_share_manager import (
    ShareManagerError,
    connect,
    resolve,
)
from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        claim=dict(type='str', required=True),
        namespace=dict(type='str', default='media'),
        longhorn_namespace=dict(type='str', default='longhorn-system'),
        holder=dict(type='str'),
    )
    return spec


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argspec(), supports_check_mode=True)
    try:
        client = connect(module)
        result = resolve(client, module.params['claim'], module.params['namespace'],
                         module.params['longhorn_namespace'], module.params['holder'])
    except ShareManagerError as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
