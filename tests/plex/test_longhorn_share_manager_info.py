"""longhorn_share_manager_info against the kmock emulator: claim -> PV -> Longhorn Volume -> share-manager Service,
and every failure case with its fix-it message."""

import pytest

from ..module_runner import run_module

VOLUME = 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'


def claim(name='plex-config', volume=VOLUME, phase='Bound'):
    doc = {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
           'metadata': {'name': name, 'namespace': 'media'},
           'spec': {'accessModes': ['ReadWriteMany'], 'storageClassName': 'longhorn-rwx',
                    'resources': {'requests': {'storage': '10Gi'}}}}
    if volume:
        doc['spec']['volumeName'] = volume
    if phase:
        doc['status'] = {'phase': phase}
    return doc


def pv(name=VOLUME, handle=VOLUME, driver='driver.longhorn.io'):
    return {'apiVersion': 'v1', 'kind': 'PersistentVolume', 'metadata': {'name': name},
            'spec': {'capacity': {'storage': '10Gi'}, 'accessModes': ['ReadWriteMany'],
                     'csi': {'driver': driver, 'volumeHandle': handle}}}


def volume(name=VOLUME, access='rwx', pvc='plex-config'):
    return {'apiVersion': 'longhorn.io/v1beta2', 'kind': 'Volume',
            'metadata': {'name': name, 'namespace': 'longhorn-system'},
            'spec': {'accessMode': access, 'size': '10737418240', 'numberOfReplicas': 2},
            'status': {'shareEndpoint': 'nfs://10.43.17.201/' + name,
                       'kubernetesStatus': {'namespace': 'media', 'pvcName': pvc}}}


def service(name=VOLUME, ip='10.43.17.201', owner=None):
    return {'apiVersion': 'v1', 'kind': 'Service',
            'metadata': {'name': name, 'namespace': 'longhorn-system',
                         'labels': {'longhorn.io/managed-by': 'longhorn-manager',
                                    'longhorn.io/share-manager': owner or name}},
            'spec': {'clusterIP': ip, 'type': 'ClusterIP',
                     'ports': [{'name': 'nfs', 'port': 2049, 'protocol': 'TCP', 'targetPort': 2049}],
                     'selector': {'longhorn.io/share-manager': owner or name}}}


def lookup(kube, **extra):
    args = {'kubeconfig': kube.kubeconfig, 'claim': 'plex-config', 'namespace': 'media',
            'holder': 'plex-config-holder'}
    args.update(extra)
    return run_module('longhorn_share_manager_info', args)


def test_resolves_claim_to_share_manager_export(kube):
    kube.apply(claim(), pv(), volume(), service())
    result = lookup(kube)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert (result['volume'], result['server'], result['path']) == (VOLUME, '10.43.17.201', '/' + VOLUME)
    assert result['export'] == '10.43.17.201:/' + VOLUME and result['port'] == 2049
    assert result['requested'] == '10Gi' and result['size'] == '10737418240'
    assert result['share_endpoint'] == 'nfs://10.43.17.201/' + VOLUME


def test_follows_the_csi_volume_handle_of_a_restored_volume(kube):
    # a volume restored from backup in the Longhorn UI can get a PV name that differs from the volume name
    kube.apply(claim(volume='plex-config-restored-pv'), pv(name='plex-config-restored-pv', handle='plex-restored'),
               volume(name='plex-restored'), service(name='plex-restored', ip='10.43.99.7'))
    result = lookup(kube)
    assert (result['volume'], result['server'], result['path']) == ('plex-restored', '10.43.99.7', '/plex-restored')
    assert result['persistent_volume'] == 'plex-config-restored-pv'


def test_no_pv_object_falls_back_to_the_volume_name(kube):
    kube.apply(claim(), volume(), service())
    assert lookup(kube)['server'] == '10.43.17.201'


@pytest.mark.parametrize('seed, expected', [
    pytest.param(lambda: [], ['PersistentVolumeClaim media/plex-config does not exist'], id='claim-missing'),
    pytest.param(lambda: [claim(volume=None, phase='Pending')],
                 ['is not bound yet', 'phase Pending', '50_longhorn.yml'], id='claim-unbound'),
    pytest.param(lambda: [claim(phase='Lost')], ['is not bound yet', 'phase Lost'], id='claim-lost'),
    pytest.param(lambda: [claim(), pv(), volume()],
                 ['Share-manager Service longhorn-system/' + VOLUME, 'no CSI consumer yet',
                  'config holder Deployment media/plex-config-holder must be running'], id='service-missing'),
    pytest.param(lambda: [claim(), pv(), service()],
                 ['Volume name mismatch', 'no Longhorn Volume ' + VOLUME], id='volume-missing'),
    pytest.param(lambda: [claim(), pv(), volume(pvc='sonarr-config'), service()],
                 ['Volume name mismatch', 'belongs to claim media/sonarr-config'], id='volume-of-another-claim'),
    pytest.param(lambda: [claim(), pv(), volume(), service(owner='pvc-other')],
                 ['Volume name mismatch', 'share-manager of pvc-other'], id='service-of-another-volume'),
    pytest.param(lambda: [claim(), pv(driver='nfs.csi.k8s.io')], ['is not a Longhorn volume'], id='not-longhorn'),
    pytest.param(lambda: [claim(), pv(), volume(access='rwo'), service()], ['is rwo, not rwx'], id='rwo-volume'),
    pytest.param(lambda: [claim(), pv(), volume(), service(ip='None')], ['has no ClusterIP'], id='headless'),
])
def test_failures_name_the_object_and_the_fix(kube, seed, expected):
    kube.apply(*seed())
    result = lookup(kube)
    assert result.get('failed'), result
    for text in expected:
        assert text in result['msg'], result['msg']


def test_unreachable_api_is_reported(tmp_path):
    kubeconfig = tmp_path / 'kubeconfig'
    kubeconfig.write_text(
        'apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: x, cluster: {server: '
        '"http://127.0.0.1:9"}}]\nusers: [{name: x, user: {token: t}}]\ncontexts: [{name: x, context: '
        '{cluster: x, user: x}}]\n')
    result = run_module('longhorn_share_manager_info', {'kubeconfig': str(kubeconfig), 'claim': 'plex-config'})
    assert result.get('failed') and 'plex-config' in result['msg'], result
