# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The API connection, and check/diff support, of the modules that talk to the Proxmox VE API (proxmoxer).
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
attributes:
  check_mode:
    support: full
    description: Nothing is written; the result says what would change.
  diff_mode:
    support: full
    description: Before and after values of every managed config key.
requirements:
  - proxmoxer >= 2.0
  - requests
notes:
  - The modules are in the C(homelab.mediacluster.proxmox) action group, so the connection can be set once with
    C(module_defaults).
'''

    # Settings a container and a VM share, described once (proxmox_lxc, proxmox_vm).
    GUEST = r'''
options:
  cores:
    description: CPU cores.
    type: int
  memory:
    description: Memory in MiB.
    type: int
  tags:
    description: Tags (compared as a set).
    type: list
    elements: str
  description:
    description: Notes shown in the PVE web UI.
    type: str
'''

    # A container's device passthrough entries (devN), as proxmox_lxc (API) and pct_set (pct on the host) take them.
    # The module describes the option itself (how it writes the entries); the entries' fields are described here.
    DEVICES = r'''
options:
  devices:
    type: list
    elements: dict
    suboptions:
      path:
        description: Absolute path of the host device, under C(/dev/).
        type: str
        required: true
      gid:
        description: Group id of the device node inside the container (e.g. the container's C(render) group).
        type: int
      uid:
        description: Owner id of the device node inside the container.
        type: int
      mode:
        description: Access mode of the device node, four octal digits such as C("0660") (quote it in YAML).
        type: str
      deny_write:
        description: Make the device read-only inside the container.
        type: bool
'''
