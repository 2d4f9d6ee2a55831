"""Stateful stand-ins for Sonarr, Radarr, Prowlarr and qBittorrent on 127.0.0.1, for the media API module tests.

Every request and response body of the *arr apps is validated against the apps' real OpenAPI specs
(tests/schemas/openapi/*.json, OpenAPI 3.0, converted to JSON Schema 2020-12: `nullable` becomes a `null` type). A
request the spec does not know (path, method or body) is answered 400 and recorded in `violations`, so a test fails on
it. qBittorrent follows its documented WebUI API v2: form-encoded login that sets a session cookie (SID), 403 for
requests without it, `app/preferences`, `app/setPreferences` (form field `json`), `torrents/categories`,
`torrents/createCategory` (409 when the category exists), `torrents/editCategory` (409 when it does not).
"""

import base64
import copy
import hashlib
import json
import pathlib
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import referencing
import referencing.jsonschema

SPEC_DIR = pathlib.Path(__file__).resolve().parents[1] / 'schemas' / 'openapi'
SPECS = {'sonarr': 'sonarr-v3-openapi.json', 'radarr': 'radarr-v3-openapi.json', 'prowlarr': 'prowlarr-v1-openapi.json'}
MASK = '********'


def _to_json_schema(node):
    """OpenAPI 3.0 schema objects -> JSON Schema 2020-12 (nullable -> null type / null enum member)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items()}
    if out.pop('nullable', False):
        if 'type' in out:
            out['type'] = [out['type'], 'null'] if isinstance(out['type'], str) else out['type'] + ['null']
        elif 'enum' in out:
            out['enum'] = out['enum'] + [None]
        elif '$ref' in out:
            out = {'anyOf': [{'$ref': out.pop('$ref')}, {'type': 'null'}], **out}
    return out


class OpenApi:
    """Find the operation for (method, path) and validate bodies against its schemas."""

    def __init__(self, app):
        spec = json.loads((SPEC_DIR / SPECS[app]).read_text())
        self.uri = 'urn:{0}-openapi'.format(app)
        contents = {'components': _to_json_schema(spec['components'])}
        resource = referencing.Resource.from_contents(contents,
                                                      default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(self.uri, resource)
        self.operations = []
        for template, item in spec['paths'].items():
            pattern = '^' + re.sub(r'\{[^}]+\}', '[^/]+', template) + '$'
            for method, operation in item.items():
                self.operations.append((re.compile(pattern), method.upper(), template, operation))
        # a literal segment wins over a parameter: /downloadclient/schema is not /downloadclient/{id}
        self.operations.sort(key=lambda op: op[2].count('{'))

    def operation(self, method, path):
        for pattern, op_method, template, operation in self.operations:
            if op_method == method and pattern.match(path):
                return template, operation
        return None, None

    def _schema(self, content):
        schema = (content or {}).get('application/json', {}).get('schema')
        if schema is None:
            return None
        text = json.dumps(_to_json_schema(schema)).replace('"#/components', '"{0}#/components'.format(self.uri))
        return json.loads(text)

    def errors(self, schema, body):
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        return ['{0}: {1}'.format('/'.join(str(p) for p in e.absolute_path) or '(root)', e.message)
                for e in validator.iter_errors(body)]

    def request_errors(self, operation, body):
        schema = self._schema(operation.get('requestBody', {}).get('content'))
        if schema is None:
            return [] if body is None else ['the operation takes no JSON body']
        return self.errors(schema, body)

    def response_errors(self, operation, status, body):
        response = operation.get('responses', {}).get(str(status))
        if response is None:
            return ['status {0} is not a documented response'.format(status)]
        schema = self._schema(response.get('content'))
        if schema is None:
            return []
        return self.errors(schema, body)


def _fields(pairs, secret=()):
    return [{'order': i, 'name': name, 'label': name, 'value': value, 'type': 'textbox', 'advanced': False,
             'privacy': 'password' if name in secret else 'normal', 'isFloat': False}
            for i, (name, value) in enumerate(pairs)]


def qbittorrent_template(category_field):
    return {
        'id': 0, 'name': '', 'implementation': 'QBittorrent', 'implementationName': 'qBittorrent',
        'configContract': 'QBittorrentSettings', 'infoLink': 'https://wiki.servarr.com/', 'tags': [],
        'enable': True, 'protocol': 'torrent', 'priority': 1, 'removeCompletedDownloads': True,
        'removeFailedDownloads': True, 'presets': [],
        'fields': _fields([('host', 'localhost'), ('port', 8080), ('useSsl', False), ('urlBase', None),
                           ('username', None), ('password', None), (category_field, category_field.replace(
                               'Category', '-{0}'.format('sonarr' if category_field == 'tvCategory' else 'radarr'))),
                           ('initialState', 0), ('sequentialOrder', False), ('firstAndLast', False)],
                          secret=('password',)),
    }


def application_template(implementation):
    return {
        'id': 0, 'name': '', 'implementation': implementation, 'implementationName': implementation,
        'configContract': implementation + 'Settings', 'infoLink': 'https://wiki.servarr.com/', 'tags': [],
        'syncLevel': 'addOnly', 'presets': [],
        'fields': [dict(f, privacy='apiKey' if f['name'] == 'apiKey' else f['privacy'])
                   for f in _fields([('prowlarrUrl', 'http://localhost:9696'), ('baseUrl', ''), ('apiKey', ''),
                                     ('syncCategories', [5000, 5010, 5020]), ('animeSyncCategories', [5070])])],
    }


class FakeApp:
    """One app behind one HTTP server: state, call log, write counter, failure injection."""

    def __init__(self, kind, api_key='', port=0):
        self.kind = kind
        self.api_key = api_key
        self.port = port
        self.calls = []
        self.violations = []
        self.lock = threading.Lock()
        self.unready = 0          # answer 503 to the next N requests
        self.hang = 0.0           # sleep this long before answering
        self.server = None

    # -- bookkeeping -----------------------------------------------------------------------------------------
    @property
    def writes(self):
        return [c for c in self.calls if c[0] in ('POST', 'PUT', 'DELETE') and self.is_write(c[1])]

    def is_write(self, path):
        return True

    @property
    def url(self):
        return 'http://127.0.0.1:{0}'.format(self.server.server_address[1])

    def start(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self, method):
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                with app.lock:
                    app.calls.append((method, parsed.path))
                if app.hang:
                    time.sleep(app.hang)
                if app.unready > 0:
                    app.unready -= 1
                    return self._send(503, b'Service Unavailable', 'text/plain')
                status, body, headers = app.handle(method, parsed.path, urllib.parse.parse_qs(parsed.query),
                                                   self.headers, raw)
                if isinstance(body, (dict, list)):
                    return self._send(status, json.dumps(body).encode(), 'application/json', headers)
                return self._send(status, (body or '').encode(), 'text/plain', headers)

            def _send(self, status, payload, ctype, headers=None):
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                self._serve('GET')

            def do_POST(self):  # noqa: N802
                self._serve('POST')

            def do_PUT(self):  # noqa: N802
                self._serve('PUT')

            def do_DELETE(self):  # noqa: N802
                self._serve('DELETE')

        self.server = ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


class FakeServarr(FakeApp):
    """Sonarr / Radarr / Prowlarr: root folders, download clients, applications; API key auth; masked secrets."""

    def __init__(self, kind, api_key=None, port=0):
        super().__init__(kind, api_key or secrets.token_hex(16), port)
        self.openapi = OpenApi(kind)
        self.api = '/api/v1' if kind == 'prowlarr' else '/api/v3'
        self.rootfolders = []
        self.downloadclients = []
        self.applications = []
        self.next_id = 1
        # config/host (a subset of HostConfigResource, with a fresh install's values) and the one user
        self.host = {'bindAddress': '*', 'port': 8989, 'authenticationMethod': 'none',
                     'authenticationRequired': 'enabled', 'apiKey': self.api_key, 'urlBase': '',
                     'instanceName': kind.title(), 'logLevel': 'info', 'branch': 'main'}
        self.user = None
        if kind == 'prowlarr':
            self.templates = {'downloadclient': [qbittorrent_template('category')],
                              'applications': [application_template('Sonarr'), application_template('Radarr')]}
            for template in self.templates['downloadclient']:
                template.pop('removeCompletedDownloads')
                template.pop('removeFailedDownloads')
        else:
            field = 'tvCategory' if kind == 'sonarr' else 'movieCategory'
            self.templates = {'downloadclient': [qbittorrent_template(field)]}

    def _store(self, kind):
        return {'rootfolder': self.rootfolders, 'downloadclient': self.downloadclients,
                'applications': self.applications}[kind]

    @staticmethod
    def _masked(resource):
        shown = copy.deepcopy(resource)
        for field in shown.get('fields') or []:
            if field.get('privacy') in ('password', 'apiKey') and field.get('value'):
                field['value'] = MASK
        return shown

    def handle(self, method, path, query, headers, raw):
        template, operation = self.openapi.operation(method, path)
        if operation is None:
            self.violations.append('{0} {1}: not in the {2} OpenAPI spec'.format(method, path, self.kind))
            return 404, 'not in spec', None
        # /ping answers without a key, as the real apps do (the kubelet's readiness probe sends none)
        keyed = headers.get('X-Api-Key') == self.api_key or query.get('apikey', [None])[0] == self.api_key
        if path != '/ping' and not keyed:
            return 401, 'Unauthorized', None
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append('{0} {1}: body is not JSON'.format(method, path))
                return 400, 'bad json', None
            errors = self.openapi.request_errors(operation, body)
            if errors:
                self.violations.append('{0} {1} request: {2}'.format(method, template, errors))
                return 400, [{'propertyName': 'body', 'errorMessage': '; '.join(errors)}], None
        status, answer = self._dispatch(method, path, body)
        if 200 <= status < 300:
            errors = self.openapi.response_errors(operation, status, answer)
            if errors:
                self.violations.append('{0} {1} response: {2}'.format(method, template, errors))
        return status, answer, None

    def _dispatch(self, method, path, body):
        rest = path[len(self.api) + 1:] if path.startswith(self.api + '/') else path
        parts = rest.split('/')
        if path == '/ping':
            return 200, {'status': 'OK'}
        if parts[:2] == ['config', 'host']:
            return self._host_config(method, parts[2:], body)
        kind = parts[0]
        if kind not in ('rootfolder', 'downloadclient', 'applications'):
            return 404, 'not emulated'
        store = self._store(kind)
        with self.lock:
            if len(parts) == 2 and parts[1] == 'schema' and method == 'GET':
                return 200, copy.deepcopy(self.templates[kind])
            if len(parts) == 1 and method == 'GET':
                return 200, [self._masked(r) for r in store]
            if len(parts) == 1 and method == 'POST':
                if kind == 'rootfolder':
                    if any(r['path'].rstrip('/') == body['path'].rstrip('/') for r in store):
                        return 400, [{'propertyName': 'Path', 'errorMessage': 'Path is already configured'}]
                    item = {'id': self.next_id, 'path': body['path'].rstrip('/') + '/', 'accessible': True,
                            'freeSpace': 10 ** 12, 'unmappedFolders': []}
                else:
                    if any(r['name'].lower() == body['name'].lower() for r in store):
                        return 400, [{'propertyName': 'Name', 'errorMessage': 'Should be unique'}]
                    item = copy.deepcopy(body)
                    item['id'] = self.next_id
                self.next_id += 1
                store.append(item)
                return 200, self._masked(item)
            if len(parts) == 2:
                matches = [r for r in store if str(r['id']) == parts[1]]
                if not matches:
                    return 404, 'NotFound'
                item = matches[0]
                if method == 'GET':
                    return 200, self._masked(item)
                if method == 'DELETE':
                    store.remove(item)
                    return 200, ''
                if method == 'PUT':
                    old = dict((f['name'], f.get('value')) for f in item.get('fields') or [])
                    new = copy.deepcopy(body)
                    for field in new.get('fields') or []:
                        if field.get('value') == MASK:  # the UI sends the mask back: keep the stored secret
                            field['value'] = old.get(field['name'])
                    new['id'] = item['id']
                    store[store.index(item)] = new
                    return 200, self._masked(new)
        return 405, 'method not allowed'

    def _host_config(self, method, rest, body):
        """config/host as the Servarr HostConfigController answers it: GET shows the stored user's password HASH (not
        the password) and an empty passwordConfirmation; PUT refuses a password that is neither the stored hash nor
        confirmed, saves the settings, and upserts the user (re-hashing only a password that is not the stored hash)."""
        with self.lock:
            if rest and rest != ['1']:
                return 404, 'NotFound'
            if method == 'GET':
                shown = dict(self.host, id=1, username=self.user[0] if self.user else '',
                             password=self.user[1] if self.user else '', passwordConfirmation='')
                return 200, shown
            if method != 'PUT' or not rest:
                return 405, 'method not allowed'
            password = body.get('password') or ''
            if body.get('authenticationMethod') in ('basic', 'forms') and not (
                    (self.user and password == self.user[1]) or password == body.get('passwordConfirmation')):
                return 400, [{'propertyName': 'PasswordConfirmation', 'errorMessage': 'Must match Password'}]
            for key in self.host:
                if key in body:
                    self.host[key] = body[key]
            if body.get('username') and password:
                if not self.user or password != self.user[1]:
                    self.user = (body['username'], self.hash_password(password))
                else:
                    self.user = (body['username'], self.user[1])
            return 200, dict(self.host, id=1)  # the OpenAPI specs document 200 with the resource

    @staticmethod
    def hash_password(password):
        salt = secrets.token_bytes(16)
        return base64.b64encode(hashlib.pbkdf2_hmac('sha512', password.encode(), salt, 10000, 32)).decode() + \
            ':' + base64.b64encode(salt).decode()

    def password_matches(self, password):
        digest, salt = self.user[1].split(':')
        return base64.b64encode(hashlib.pbkdf2_hmac('sha512', password.encode(), base64.b64decode(salt), 10000,
                                                    32)).decode() == digest

    def secret(self, kind, name, field):
        """The stored (unmasked) value of a secret field, for assertions."""
        for item in self._store(kind):
            if item['name'] == name:
                return dict((f['name'], f.get('value')) for f in item['fields'])[field]
        return None


# Preferences qBittorrent reports from app/preferences (a subset of the documented keys, with its defaults).
QBT_PREFERENCES = {
    'save_path': '/downloads/', 'temp_path_enabled': False, 'temp_path': '/downloads/incomplete/',
    'auto_tmm_enabled': False, 'torrent_changed_tmm_enabled': True, 'save_path_changed_tmm_enabled': False,
    'category_changed_tmm_enabled': False, 'web_ui_username': 'admin', 'web_ui_port': 8080,
    'bypass_local_auth': False, 'bypass_auth_subnet_whitelist_enabled': False, 'max_active_downloads': 3,
    'preallocate_all': False, 'create_subfolder_enabled': True,
}


class FakeQbittorrent(FakeApp):
    def __init__(self, password, username='admin', port=0, version='5.1'):
        super().__init__('qbittorrent', '', port)
        # 5.2 answers a login with 204 and names the cookie QBT_SID_<port>; earlier versions 200 "Ok." and SID
        self.version = version
        self.username = username
        self.password = password
        self.preferences = dict(QBT_PREFERENCES, web_ui_username=username)
        self.categories = {}
        self.sessions = set()

    def is_write(self, path):
        return path != '/api/v2/auth/login'

    def handle(self, method, path, query, headers, raw):
        form = urllib.parse.parse_qs(raw.decode()) if raw else {}
        if headers.get('Content-Type', '').startswith('application/json'):
            self.violations.append('{0} {1}: qBittorrent takes form data, not JSON'.format(method, path))
            return 400, 'Bad Request', None
        if path == '/api/v2/auth/login':
            if method != 'POST' or set(form) - {'username', 'password'} or 'username' not in form:
                self.violations.append('login: POST with form fields username and password expected')
                return 400, 'Bad Request', None
            if form['username'][0] == self.username and form.get('password', [''])[0] == self.password:
                sid = secrets.token_hex(16)
                self.sessions.add(sid)
                if self.version >= '5.2':
                    cookie = 'QBT_SID_{0}={1}; HttpOnly; SameSite=Strict; path=/'.format(
                        self.server.server_address[1], sid)
                    return 204, '', {'Set-Cookie': cookie}
                return 200, 'Ok.', {'Set-Cookie': 'SID={0}; HttpOnly; path=/'.format(sid)}
            return 200, 'Fails.', None
        cookie = headers.get('Cookie') or ''
        jar = dict(p.strip().split('=', 1) for p in cookie.split(';') if '=' in p)
        sid = jar.get('QBT_SID_{0}'.format(self.server.server_address[1]) if self.version >= '5.2' else 'SID')
        if sid not in self.sessions:
            return 403, 'Forbidden', None
        with self.lock:
            if path == '/api/v2/app/preferences' and method == 'GET':
                return 200, dict(self.preferences), None
            if path == '/api/v2/app/setPreferences' and method == 'POST':
                if set(form) != {'json'}:
                    self.violations.append('setPreferences: one form field "json" expected, got {0}'.format(
                        sorted(form)))
                    return 400, 'Bad Request', None
                changes = json.loads(form['json'][0])
                for key, value in changes.items():
                    if key == 'web_ui_password':
                        self.password = value
                    elif key in self.preferences:
                        if type(value) is not type(self.preferences[key]):
                            self.violations.append('setPreferences: {0} has type {1}, qBittorrent expects {2}'.format(
                                key, type(value).__name__, type(self.preferences[key]).__name__))
                        self.preferences[key] = value
                    else:
                        self.violations.append('setPreferences: unknown preference {0}'.format(key))
                return 200, '', None
            if path == '/api/v2/torrents/categories' and method == 'GET':
                return 200, copy.deepcopy(self.categories), None
            if path in ('/api/v2/torrents/createCategory', '/api/v2/torrents/editCategory') and method == 'POST':
                allowed = {'category', 'savePath', 'downloadPath', 'downloadPathEnabled'}
                if 'category' not in form or set(form) - allowed:
                    self.violations.append('{0}: form fields category and savePath expected'.format(path))
                    return 400, 'Bad Request', None
                name = form['category'][0]
                exists = name in self.categories
                if path.endswith('createCategory'):
                    if exists:
                        return 409, 'Category already exists', None
                elif not exists:
                    return 409, 'Category does not exist', None
                self.categories[name] = {'name': name, 'savePath': form.get('savePath', [''])[0]}
                return 200, '', None
        self.violations.append('{0} {1}: not an emulated WebUI API v2 call'.format(method, path))
        return 404, 'Not Found', None
