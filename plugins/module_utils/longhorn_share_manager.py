# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve a Longhorn RWX claim to the NFSv4 export of its share-manager.

Longhorn serves every RWX volume from a share-manager pod in ``longhorn-system`` behind a Service named after the
volume; the export path is ``/<volume>``. Nodes that cannot use Longhorn's iSCSI-based CSI driver (Proxmox LXC GPU
nodes) mount that export through a static NFS PersistentVolume. This module follows
claim -> PersistentVolume -> Longhorn Volume -> share-manager Service and returns the address, or raises
ShareManagerError naming the object, the cause and the fix. All Kubernetes calls go through kubernetes.core's client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LONGHORN_DRIVER = 'driver.longhorn.io'
LONGHORN_VOLUME_API = 'longhorn.io/v1beta2'
SHARE_MANAGER_LABEL = 'longhorn.io/share-manager'

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

try:
    from kubernetes.dynamic.exceptions import NotFoundError
except ImportError:  # the module reports the missing library through kubernetes.core's requires()
    NotFoundError = None


class ShareManagerError(Exception):
    """Raised with a message naming the object, the cause and the fix."""


def connect(module):
    """kubernetes.core's API client for the module's auth options (kubeconfig, context, host, ...)."""
    try:
        return get_api_client(module)
    except Exception as err:  # CoreException, config errors, and urllib3's connection errors from discovery
        raise ShareManagerError('Cannot reach the Kubernetes API to look up claim {0}/{1}: {2}; check '
                                'k8s_kubeconfig (kubeconfig) and context, and that the API server is up.'.format(
                                    module.params.get('namespace'), module.params.get('claim'), err)) from err


def get_object(client, kind, api_version, name, namespace=None):
    """The object as a dict, or None when the API says 404."""
    what = '{0} {1}{2}'.format(kind, namespace + '/' if namespace else '', name)
    try:
        resource = client.resource(kind, api_version)
        return client.get(resource, name=name, namespace=namespace).to_dict()
    except Exception as err:  # the dynamic client raises many types; map them to one error here
        if NotFoundError is not None and isinstance(err, NotFoundError):
            return None
        summary = getattr(err, 'summary', None)
        reason = summary() if callable(summary) else str(err)
        raise ShareManagerError('Cannot read {0} ({1}): {2}; check the API server is up and the credentials may '
                                'read it.'.format(what, api_version, reason)) from err


def resolve(client, claim, namespace, longhorn_namespace='longhorn-system', holder=None):
    """Return the share-manager export of claim as a dict (see the module's RETURN)."""
    holder_hint = ('the config holder Deployment {0}/{1}'.format(namespace, holder) if holder
                   else 'a pod that mounts the claim through the Longhorn CSI driver (the config holder)')
    pvc = get_object(client, 'PersistentVolumeClaim', 'v1', claim, namespace)
    if pvc is None:
        raise ShareManagerError(
            'PersistentVolumeClaim {0}/{1} does not exist; create the Longhorn RWX claim first (the plex role does '
            'this in its configure step) or fix the claim name.'.format(namespace, claim))
    spec = pvc.get('spec') or {}
    phase = (pvc.get('status') or {}).get('phase')
    pv_name = spec.get('volumeName')
    if not pv_name or (phase and phase != 'Bound'):
        raise ShareManagerError(
            'PersistentVolumeClaim {0}/{1} is not bound yet (phase {2}, no spec.volumeName); Longhorn provisions it '
            'when the storage class {3} exists and a storage node is Ready — check `kubectl describe pvc -n {0} {1}` '
            'and that the longhorn playbook (50_longhorn.yml) has run.'.format(
                namespace, claim, phase or 'unknown', spec.get('storageClassName') or '(none)'))
    pv = get_object(client, 'PersistentVolume', 'v1', pv_name)
    volume = pv_name
    if pv is not None:
        csi = (pv.get('spec') or {}).get('csi') or {}
        if csi.get('driver') != LONGHORN_DRIVER:
            raise ShareManagerError(
                'PersistentVolume {0} (bound to {1}/{2}) is not a Longhorn volume (CSI driver {3!r}, expected {4}); '
                'the config claim must use a Longhorn RWX storage class.'.format(
                    pv_name, namespace, claim, csi.get('driver'), LONGHORN_DRIVER))
        volume = csi.get('volumeHandle') or pv_name
    lh_volume = get_object(client, 'Volume', LONGHORN_VOLUME_API, volume, longhorn_namespace)
    if lh_volume is None:
        raise ShareManagerError(
            'Volume name mismatch: {0}/{1} is bound to {2} but there is no Longhorn Volume {3} in {4}. The claim was '
            'bound to a volume Longhorn does not know (deleted, or restored under another name); restore the volume '
            'from a Longhorn backup with the PV/PVC name the claim expects, or delete the claim and let the role '
            'recreate it (docs/plex.md).'.format(namespace, claim, pv_name, volume, longhorn_namespace))
    vol_spec = lh_volume.get('spec') or {}
    vol_status = lh_volume.get('status') or {}
    kube_status = vol_status.get('kubernetesStatus') or {}
    owner = (kube_status.get('namespace'), kube_status.get('pvcName'))
    if kube_status.get('pvcName') and owner != (namespace, claim):
        raise ShareManagerError(
            'Volume name mismatch: Longhorn Volume {0} belongs to claim {1}/{2}, not {3}/{4}; the claim points at '
            'another workload\'s volume — fix plex_config_claim or recreate the claim.'.format(
                volume, owner[0], owner[1], namespace, claim))
    if vol_spec.get('accessMode') not in (None, 'rwx'):
        raise ShareManagerError(
            'Longhorn Volume {0} (claim {1}/{2}) is {3}, not rwx: only RWX volumes have a share-manager NFS export. '
            'Use the Longhorn RWX storage class for the claim (plex_config_storage_class).'.format(
                volume, namespace, claim, vol_spec.get('accessMode')))
    service = get_object(client, 'Service', 'v1', volume, longhorn_namespace)
    if service is None:
        raise ShareManagerError(
            'Share-manager Service {0}/{1} for claim {2}/{3} does not exist: Longhorn starts the share-manager only '
            'while a pod mounts the volume through the CSI driver, and there is no CSI consumer yet. {4} must be '
            'running on a storage node — check `kubectl get pods -n {2}` for it, then rerun.'.format(
                longhorn_namespace, volume, namespace, claim, holder_hint[0].upper() + holder_hint[1:]))
    labels = (service.get('metadata') or {}).get('labels') or {}
    if labels.get(SHARE_MANAGER_LABEL) not in (None, volume):
        raise ShareManagerError(
            'Volume name mismatch: Service {0}/{1} is the share-manager of {2}, not of volume {1}; something else '
            'owns that Service name — remove it so Longhorn can recreate its own.'.format(
                longhorn_namespace, volume, labels.get(SHARE_MANAGER_LABEL)))
    svc_spec = service.get('spec') or {}
    server = svc_spec.get('clusterIP')
    if not server or server == 'None':
        raise ShareManagerError(
            'Share-manager Service {0}/{1} has no ClusterIP (got {2!r}); a static NFS PV needs a stable address. '
            'Delete the Service so Longhorn recreates it.'.format(longhorn_namespace, volume, server))
    ports = [p.get('port') for p in svc_spec.get('ports') or []]
    return {
        'claim': claim,
        'namespace': namespace,
        'persistent_volume': pv_name,
        'volume': volume,
        'server': server,
        'path': '/' + volume,
        'export': '{0}:/{1}'.format(server, volume),
        'port': 2049 if not ports or 2049 in ports else ports[0],
        'size': vol_spec.get('size'),
        'share_endpoint': vol_status.get('shareEndpoint'),
        'storage_class': spec.get('storageClassName'),
        'requested': ((spec.get('resources') or {}).get('requests') or {}).get('storage'),
    }
