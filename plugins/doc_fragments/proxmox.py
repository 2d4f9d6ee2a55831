# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  api_host:
    description:
      - Host name or address of a Proxmox VE node's API.
      - Falls back to the E(PROXMOX_HOST) environment variable.
    type: str
    required: true
  api_port:
    description:
      - Port of the API. Falls back to E(PROXMOX_PORT).
    type: int
    default: 8006
  api_user:
    description:
      - User to authenticate as, C(user@realm). With a token, the token's owner.
      - Falls back to E(PROXMOX_USER).
      - Device passthrough, bind mounts, feature flags on privileged containers and hook scripts need
        V(root@pam) with O(api_password); Proxmox VE refuses them for every API token.
    type: str
    default: root@pam
  api_password:
    description:
      - Password of O(api_user). Falls back to E(PROXMOX_PASSWORD).
      - Used when O(api_token_id) is not set.
    type: str
  api_token_id:
    description:
      - API token name (C(mytoken)) or full id (C(user@realm!mytoken)). Falls back to E(PROXMOX_TOKEN_ID).
    type: str
  api_token_secret:
    description:
      - Secret of the API token. Falls back to E(PROXMOX_TOKEN_SECRET).
    type: str
  validate_certs:
    description:
      - Verify the API's TLS certificate. Falls back to E(PROXMOX_VALIDATE_CERTS).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the API certificate with (for self-signed PVE certificates), instead of
        turning O(validate_certs) off. Falls back to E(PROXMOX_CA_PATH).
    type: path
  task_timeout:
    description:
      - Seconds to wait for each Proxmox task (create, clone, start, resize...) to finish.
      - A task that fails sooner fails the module with its C(TASK ERROR) line, not as a timeout.
    type: int
    default: 300
requirements:
  - proxmoxer >= 2.0
  - requests
notes:
  - The modules are in the C(homelab.mediacluster.proxmox) action group, so the connection can be set once with
    C(module_defaults).
'''
