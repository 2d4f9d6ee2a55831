"""A small app's manifests covering the kinds the collection delivers: built-ins, a Secret and a Longhorn CR."""

import copy

SECRET_VALUE = 'not-a-real-api-key-5f1c'

MANIFESTS = [
    {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'demo'}},
    {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'settings', 'namespace': 'demo'},
     'data': {'TZ': 'Etc/UTC', 'LOG_LEVEL': 'info'}},
    {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'api-key', 'namespace': 'demo'},
     'type': 'Opaque', 'stringData': {'API_KEY': SECRET_VALUE}},
    {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': 'demo-config', 'namespace': 'demo'},
     'spec': {'accessModes': ['ReadWriteOnce'], 'storageClassName': 'longhorn',
              'resources': {'requests': {'storage': '1Gi'}}}},
    {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'web', 'namespace': 'demo'},
     'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'web'}},
              'template': {'metadata': {'labels': {'app': 'web'}},
                           'spec': {'containers': [{'name': 'web', 'image': 'nginx:1.27',
                                                    'ports': [{'containerPort': 80}],
                                                    'envFrom': [{'configMapRef': {'name': 'settings'}}]}]}}}},
    {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'web', 'namespace': 'demo'},
     'spec': {'selector': {'app': 'web'}, 'ports': [{'port': 80, 'targetPort': 80}]}},
    {'apiVersion': 'longhorn.io/v1beta2', 'kind': 'RecurringJob',
     'metadata': {'name': 'demo-backup', 'namespace': 'longhorn-system'},
     'spec': {'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'concurrency': 1, 'groups': ['demo'],
              'labels': {}}},
]


def manifests():
    return copy.deepcopy(MANIFESTS)
