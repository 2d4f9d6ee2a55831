"""A stateful stand-in for Jellyfin 10.10 on 127.0.0.1, for the jellyfin_setup module tests.

Request and response bodies are validated against the models of the Jellyfin TypeScript SDK (@jellyfin/sdk 0.11.0,
generated from Jellyfin 10.10's OpenAPI document), turned into JSON Schema by scripts/jellyfin-sdk-schemas.py
(tests/schemas/jellyfin/). A request outside them (unknown path, wrong body, unknown property, missing client
identification) is answered 400 and recorded in `violations`, so a test fails on it.

Behaviour it reproduces: the startup endpoints answer only while the wizard is not complete (then they need an
administrator); GET /Startup/User creates the first user lazily and POST /Startup/User fails without one (10.10);
AuthenticateByName answers 401 to a wrong name or password; /System/Configuration takes the whole configuration back;
libraries are added with their paths, a path is added to one library, names are unique.
"""

import copy
import json
import pathlib
import re
import secrets

import jsonschema
import referencing
import referencing.jsonschema

from .fake_apps import FakeApp

SCHEMA = pathlib.Path(__file__).resolve().parents[1] / 'schemas' / 'jellyfin' / 'jellyfin-sdk-0.11.0-models.json'
AUTH_FIELDS = {'Client', 'Device', 'DeviceId', 'Version'}

# path -> {method: (request model or None, response model or None, needs a token after the wizard)}
ROUTES = {
    '/System/Info/Public': {'GET': (None, 'PublicSystemInfo', False)},
    '/Startup/Configuration': {'GET': (None, 'StartupConfigurationDto', 'wizard'),
                               'POST': ('StartupConfigurationDto', None, 'wizard')},
    '/Startup/User': {'GET': (None, 'StartupUserDto', 'wizard'), 'POST': ('StartupUserDto', None, 'wizard')},
    '/Startup/RemoteAccess': {'POST': ('StartupRemoteAccessDto', None, 'wizard')},
    '/Startup/Complete': {'POST': (None, None, 'wizard')},
    '/Users/AuthenticateByName': {'POST': ('AuthenticateUserByName', 'AuthenticationResult', False)},
    '/System/Configuration': {'GET': (None, 'ServerConfiguration', True),
                              'POST': ('ServerConfiguration', None, True)},
    '/Library/VirtualFolders': {'GET': (None, 'VirtualFolderInfo[]', True),
                                'POST': ('AddVirtualFolderDto', None, True)},
    '/Library/VirtualFolders/Paths': {'POST': ('MediaPathDto', None, True)},
}
QUERY = {('POST', '/Library/VirtualFolders'): {'name', 'collectionType', 'paths', 'refreshLibrary'},
         ('POST', '/Library/VirtualFolders/Paths'): {'refreshLibrary'}}


class Models:
    def __init__(self):
        document = json.loads(SCHEMA.read_text())
        self.uri = 'urn:jellyfin-sdk-models'
        resource = referencing.Resource.from_contents(document,
                                                      default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(self.uri, resource)

    def errors(self, model, body):
        if model.endswith('[]'):
            schema = {'type': 'array', 'items': {'$ref': '{0}#/$defs/{1}'.format(self.uri, model[:-2])}}
        else:
            schema = {'$ref': '{0}#/$defs/{1}'.format(self.uri, model)}
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return ['{0}: {1}'.format('/'.join(str(p) for p in e.absolute_path) or '(root)', e.message)
                for e in validator.iter_errors(body)]


def parse_authorization(value):
    """'MediaBrowser Client="x", Device="y", ...' -> {'Client': 'x', ...}; None when it is not that scheme."""
    if not value or not value.startswith('MediaBrowser '):
        return None
    return dict((m.group(1), m.group(2)) for m in re.finditer(r'(\w+)="([^"]*)"', value))


class FakeJellyfin(FakeApp):
    def __init__(self, port=0, wizard_completed=False, users=None, server_id=None):
        super().__init__('jellyfin', '', port)
        self.models = Models()
        self.server_id = server_id or secrets.token_hex(16)
        self.wizard_completed = wizard_completed
        # name -> {Id, Password, IsAdministrator}
        self.users = copy.deepcopy(users or {})
        self.tokens = {}
        self.remote_access = None
        self.startup_config = {'UICulture': 'en-US', 'MetadataCountryCode': 'US', 'PreferredMetadataLanguage': 'en'}
        self.config = {
            'LogFileRetentionDays': 3, 'IsStartupWizardCompleted': wizard_completed, 'CachePath': '/cache',
            'EnableMetrics': False, 'MetadataPath': '', 'PreferredMetadataLanguage': 'en',
            'MetadataCountryCode': 'US', 'SortRemoveWords': ['the', 'a', 'an'], 'MinResumePct': 5,
            'ServerName': '', 'UICulture': 'en-US', 'LibraryScanFanoutConcurrency': 0,
        }
        self.folders = []      # VirtualFolderInfo dicts
        self.refreshes = []    # names of libraries a refresh was asked for

    def is_write(self, path):
        return path != '/Users/AuthenticateByName'

    @property
    def posts(self):
        return [c for c in self.calls if c[0] == 'POST']

    def add_user(self, name, password, admin=True):
        self.users[name] = {'Id': secrets.token_hex(16), 'Password': password, 'IsAdministrator': admin}

    def add_folder(self, name, collection_type, paths):
        self.folders.append({'Name': name, 'Locations': list(paths), 'CollectionType': collection_type,
                             'LibraryOptions': {'PathInfos': [{'Path': p} for p in paths]},
                             'ItemId': secrets.token_hex(16), 'RefreshStatus': 'Idle'})

    def folder(self, name):
        return next((f for f in self.folders if f['Name'] == name), None)

    # -------------------------------------------------------------------------------------------------- dispatch
    def _violation(self, message):
        self.violations.append(message)
        return 400, message, None

    def handle(self, method, path, query, headers, raw):
        route = ROUTES.get(path, {}).get(method)
        if route is None:
            return self._violation('{0} {1}: not an emulated Jellyfin 10.10 endpoint'.format(method, path))
        request_model, response_model, needs = route
        auth = parse_authorization(headers.get('Authorization'))
        if auth is None or not AUTH_FIELDS <= set(auth):
            return self._violation('{0} {1}: no "Authorization: MediaBrowser Client=, Device=, DeviceId=, Version=" '
                                   'header (got {2!r})'.format(method, path, headers.get('Authorization')))
        unknown = set(query) - QUERY.get((method, path), set())
        if unknown:
            return self._violation('{0} {1}: unknown query parameters {2}'.format(method, path, sorted(unknown)))
        body = None
        if raw:
            if not headers.get('Content-Type', '').startswith('application/json'):
                return self._violation('{0} {1}: body is not sent as JSON'.format(method, path))
            body = json.loads(raw)
        if request_model is not None:
            errors = self.models.errors(request_model, body) if body is not None else ['body missing']
            if errors:
                return self._violation('{0} {1} request ({2}): {3}'.format(method, path, request_model, errors))
        elif body is not None:
            return self._violation('{0} {1}: takes no body'.format(method, path))
        user = self.tokens.get(auth.get('Token'))
        if needs == 'wizard' and self.wizard_completed or needs is True:
            if user is None:
                return 401, '', None
            if not self.users[user]['IsAdministrator']:
                return 403, '', None
        with self.lock:
            status, answer = getattr(self, '_' + re.sub(r'\W', '_', path.strip('/')).lower())(method, query, body,
                                                                                              auth)
        if response_model is not None and 200 <= status < 300:
            errors = self.models.errors(response_model, answer)
            if errors:
                self.violations.append('{0} {1} response ({2}): {3}'.format(method, path, response_model, errors))
        return status, answer, None

    def _system_info_public(self, method, query, body, auth):
        return 200, {'LocalAddress': self.url, 'ServerName': self.config['ServerName'] or 'jellyfin-7d9f',
                     'Version': '10.10.7', 'ProductName': 'Jellyfin Server', 'Id': self.server_id,
                     'StartupWizardCompleted': self.wizard_completed}

    def _startup_configuration(self, method, query, body, auth):
        if method == 'GET':
            return 200, dict(self.startup_config)
        self.startup_config.update(body)
        for key in ('UICulture', 'MetadataCountryCode', 'PreferredMetadataLanguage'):
            if body.get(key) is not None:
                self.config[key] = body[key]
        return 204, ''

    def _startup_user(self, method, query, body, auth):
        if method == 'GET':
            if not self.users:  # 10.10: the first user is created here, named after the process' user
                self.add_user('root', '')
            name = next(iter(self.users))
            return 200, {'Name': name, 'Password': self.users[name]['Password']}
        if not self.users:
            return 500, 'Sequence contains no elements'
        if not body.get('Password'):
            return 400, 'Password must not be empty'
        first = next(iter(self.users))
        entry = self.users.pop(first)
        entry['Password'] = body['Password']
        self.users = dict([(body.get('Name') or first, entry)] + list(self.users.items()))
        return 204, ''

    def _startup_remoteaccess(self, method, query, body, auth):
        self.remote_access = dict(body)
        return 204, ''

    def _startup_complete(self, method, query, body, auth):
        self.wizard_completed = True
        self.config['IsStartupWizardCompleted'] = True
        return 204, ''

    def _users_authenticatebyname(self, method, query, body, auth):
        user = self.users.get(body.get('Username') or '')
        if user is None or user['Password'] != (body.get('Pw') or ''):
            return 401, 'Error processing request.'
        # a new login from the same DeviceId replaces that device's previous session
        for token, name in list(self.tokens.items()):
            if name == body['Username'] and token.startswith(auth['DeviceId'] + ':'):
                del self.tokens[token]
        token = '{0}:{1}'.format(auth['DeviceId'], secrets.token_hex(16))
        self.tokens[token] = body['Username']
        return 200, {'AccessToken': token, 'ServerId': self.server_id,
                     'User': {'Name': body['Username'], 'Id': user['Id'], 'ServerId': self.server_id,
                              'HasPassword': True, 'HasConfiguredPassword': True,
                              'Policy': {'IsAdministrator': user['IsAdministrator'], 'AuthenticationProviderId': 'x',
                                         'PasswordResetProviderId': 'y'}}}

    def _system_configuration(self, method, query, body, auth):
        if method == 'GET':
            return 200, copy.deepcopy(self.config)
        dropped = set(self.config) - set(body)
        if dropped:  # the server replaces its configuration with the body: a partial body resets the rest
            self.violations.append('POST /System/Configuration dropped settings {0}'.format(sorted(dropped)))
        self.config = copy.deepcopy(body)
        return 204, ''

    def _library_virtualfolders(self, method, query, body, auth):
        if method == 'GET':
            return 200, copy.deepcopy(self.folders)
        name = query.get('name', [''])[0]
        collection_type = query.get('collectionType', [None])[0]
        if collection_type not in (None, 'movies', 'tvshows', 'music', 'musicvideos', 'homevideos', 'boxsets',
                                   'books', 'mixed'):
            return self._violation('collectionType={0} is not a CollectionTypeOptions value'.format(
                collection_type))[:2]
        if not name or any(f['Name'].lower() == name.lower() for f in self.folders):
            return 400, 'A media library with the name {0} already exists.'.format(name)
        paths = [p['Path'] for p in ((body or {}).get('LibraryOptions') or {}).get('PathInfos') or []]
        paths += [p for value in query.get('paths', []) for p in value.split(',')]
        self.add_folder(name, None if collection_type == 'mixed' else collection_type, paths)
        if query.get('refreshLibrary', ['false'])[0] == 'true':
            self.refreshes.append(name)
        return 204, ''

    def _library_virtualfolders_paths(self, method, query, body, auth):
        folder = self.folder(body['Name'])
        path = (body.get('PathInfo') or {}).get('Path') or body.get('Path')
        if folder is None:
            return 404, 'Library {0} not found'.format(body['Name'])
        if path in folder['Locations']:
            return 400, 'The path {0} is already in the library'.format(path)
        folder['Locations'].append(path)
        folder['LibraryOptions']['PathInfos'].append({'Path': path})
        if query.get('refreshLibrary', ['false'])[0] == 'true':
            self.refreshes.append(body['Name'])
        return 204, ''
