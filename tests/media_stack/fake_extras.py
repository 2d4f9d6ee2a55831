"""Stateful stand-ins for SABnzbd 4.5 and Bazarr 1.5 on 127.0.0.1, and the Sabnzbd download client template of
Sonarr/Radarr, for the tests of the optional apps' wiring.

SABnzbd (sabnzbd/interface.py, api.py, config.py): one endpoint `/api`, `mode` selects the call, the API key is the
`apikey` parameter (query or form), refusals are HTTP 403 with a plain-text reason ("API Key Required", "API Key
Incorrect", "Access denied - Hostname verification failed ..." for a Host header that is neither an IP, localhost nor
in host_whitelist); `output=json` answers; `get_config` (section, keyword) answers {"config": {section: ...}} (the
categories as a list of {name, order, pp, script, dir, newzbin, priority}); an unknown keyword answers {"config": {}};
`set_config` with section=categories takes name/keyword plus the category fields, with another section
keyword + value, and answers the stored item. Passwords ([misc] password, config.OptionPassword) are reported as ten
asterisks when set, and set_config ignores a value made only of asterisks (what the UI sends back unchanged). The web
login (interface.LoginPage, POST /login/ with username and password): with html_login on and both set, the right
pair answers 303 with a login_cookie, a wrong one 200 with the login page again; with no login configured it redirects
without a cookie. This fake also records as a violation an API key sent in a URL (the module must keep it out of
URLs and logs), a password in a URL, and any API call without output=json.

Bazarr (bazarr/api/system/settings.py, app/config.py, api/utils.py): `GET /api/system/settings` returns every section
with API keys in clear (flask_secret_key left out); `POST /api/system/settings` takes form fields
`settings-<section>-<key>`, converts them like Bazarr's save_settings (digit strings to int except the str_keys such
as password, 'true'/'false' to booleans, slashes squeezed in base_url, settings-auth-password stored as its MD5 hex
digest unless it equals the stored value), validates the types and auth.type in (None, basic, form) (a failure is
HTTP 500) and answers 204. Auth: X-API-KEY
header, or apikey in the query or form; otherwise 401. A key the real Bazarr does not know is recorded as a violation.
"""

import copy
import hashlib
import secrets
import urllib.parse

from .fake_apps import FakeApp, _fields

# ------------------------------------------------------------------------------------------------------- SABnzbd
SAB_MISC = {
    'api_key': '', 'nzb_key': 'nzbkey0123456789abcdef0123456789', 'host_whitelist': [],
    'download_dir': 'Downloads/incomplete', 'complete_dir': 'Downloads/complete', 'inet_exposure': 0,
    'local_ranges': [], 'permissions': '', 'username': '', 'password': '', 'enable_https': 0, 'port': '8080',
    'html_login': 1,
}
SAB_STARS = '*' * 10


def sab_category(name, folder='', order=0):
    return {'name': name, 'order': order, 'pp': '', 'script': 'Default', 'dir': folder, 'newzbin': '',
            'priority': -100}


class FakeSabnzbd(FakeApp):
    def __init__(self, api_key=None, port=0, categories=('*', 'movies', 'tv', 'audio', 'software')):
        super().__init__('sabnzbd', api_key or secrets.token_hex(16), port)
        self.misc = dict(copy.deepcopy(SAB_MISC), api_key=self.api_key, host_whitelist=['sabnzbd-7d9c'])
        self.categories = [sab_category(name, order=i) for i, name in enumerate(categories)]
        self.modes = []           # (mode, section) of every authenticated call
        self.unwritable = set()   # folders set_config refuses (SABnzbd keeps the old value)
        self.logins = []          # True/False per web login attempt with credentials

    @property
    def writes(self):
        return [m for m in self.modes if m[0].startswith('set_') or m[0].startswith('del_')]

    def category(self, name):
        return next((c for c in self.categories if c['name'] == name), None)

    def _login(self, params):
        misc = self.misc
        if not (misc['html_login'] and misc['username'] and misc['password']):
            return 303, '', {'Location': '/'}  # check_login(): nothing to log in to
        if not params.get('username') and not params.get('password'):
            return 200, '<html>login form</html>', None
        ok = params.get('username') == misc['username'] and params.get('password') == misc['password']
        self.logins.append(ok)
        if ok:
            cookie = 'login_cookie={0}; HttpOnly; Path=/'.format(secrets.token_hex(20))
            return 303, '', {'Location': '/', 'Set-Cookie': cookie}
        return 200, '<html>Authentication failed, check username/password.</html>', None

    def handle(self, method, path, query, headers, raw):
        if path in ('/login', '/login/', '/sabnzbd/login', '/sabnzbd/login/'):
            if 'password' in query:
                self.violations.append('{0} {1}: password sent in the URL'.format(method, path))
            params = {k: v[-1] for k, v in urllib.parse.parse_qs((raw or b'').decode(), keep_blank_values=True).items()}
            host = (headers.get('Host') or '').rsplit(':', 1)[0].lower()
            if host not in ('localhost', '127.0.0.1') and host not in self.misc['host_whitelist']:
                return 403, 'Access denied - Hostname verification failed: https://sabnzbd.org/hostname-check', None
            with self.lock:
                return self._login(params)
        if path not in ('/api', '/sabnzbd/api'):
            self.violations.append('{0} {1}: SABnzbd only has /api'.format(method, path))
            return 404, 'Not Found', None
        if 'apikey' in query:
            self.violations.append('{0} {1}: API key sent in the URL'.format(method, path))
        params = {k: v[-1] for k, v in query.items()}
        if raw:
            if not headers.get('Content-Type', '').startswith('application/x-www-form-urlencoded'):
                self.violations.append('{0} {1}: body is not form data'.format(method, path))
            params.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()})
        host = (headers.get('Host') or '').rsplit(':', 1)[0].lower()
        if host not in ('localhost', '127.0.0.1') and host not in self.misc['host_whitelist']:
            return 403, 'Access denied - Hostname verification failed: https://sabnzbd.org/hostname-check', None
        if not params.get('apikey'):
            return 403, 'API Key Required', None
        if params['apikey'] != self.misc['api_key']:
            return 403, 'API Key Incorrect', None
        if params.get('output') != 'json':
            self.violations.append('mode={0}: output=json expected'.format(params.get('mode')))
        mode, section = params.get('mode', ''), params.get('section', '')
        with self.lock:
            self.modes.append((mode, section))
            if mode == 'get_config':
                return 200, {'config': self._get(section, params.get('keyword'))}, None
            if mode == 'set_config':
                return 200, self._set(section, params), None
        self.violations.append('mode={0}: not emulated'.format(mode))
        return 200, {'status': False, 'error': 'not implemented'}, None

    def _get(self, section, keyword):
        if section == 'categories':
            items = sorted(self.categories, key=lambda c: (c['name'] != '*', c['order'], c['name']))
            if keyword:
                found = [copy.deepcopy(c) for c in items if c['name'] == keyword]
                return {'categories': found} if found else {}
            return {'categories': copy.deepcopy(items)}
        if section == 'misc':
            shown = dict(copy.deepcopy(self.misc), password=SAB_STARS if self.misc['password'] else '')
            if keyword:
                return {'misc': {keyword: shown[keyword]}} if keyword in shown else {}
            return {'misc': shown}
        self.violations.append('get_config section={0}: not emulated'.format(section))
        return {}

    def _set(self, section, params):
        if section == 'categories':
            name = (params.get('keyword') or params.get('name') or '').lower()
            if not name:
                return {'status': False, 'error': 'expects one parameter'}
            unknown = set(params) - {'mode', 'output', 'apikey', 'section', 'keyword', 'name', 'order', 'pp',
                                     'script', 'dir', 'newzbin', 'priority'}
            if unknown:
                self.violations.append('set_config categories: unknown fields {0}'.format(sorted(unknown)))
            item = self.category(name)
            if item is None:
                item = sab_category(name, order=len(self.categories))
                self.categories.append(item)
            for field in ('order', 'priority'):
                if field in params:
                    item[field] = int(params[field])
            for field in ('pp', 'script', 'dir', 'newzbin'):
                if field in params:
                    item[field] = params[field].strip()
            return {'config': {'categories': [copy.deepcopy(item)]}}
        keyword = params.get('keyword')
        if section != 'misc' or keyword not in self.misc:
            return {'status': False, 'error': 'Config item does not exist'}
        value = params.get('value')
        if keyword == 'password' and value and not value.strip('*'):
            value = None  # OptionPassword.set: the asterisks the UI shows are not a new password
        if value is not None and not (keyword.endswith('_dir') and value in self.unwritable):
            current = self.misc[keyword]
            if isinstance(current, list):
                value = [v.strip() for v in value.split(',') if v.strip()]
            elif isinstance(current, int):
                value = int(value)
            self.misc[keyword] = value
        stored = self.misc[keyword]
        if keyword == 'password' and stored:
            stored = SAB_STARS
        return {'config': {'misc': {keyword: copy.deepcopy(stored)}}}


# -------------------------------------------------------------------------------------------------------- Bazarr
BAZARR_SETTINGS = {
    # ip: Bazarr's default listen address (a value in the fake, nothing binds to it)
    'general': {'ip': '0.0.0.0', 'port': 6767, 'base_url': '', 'use_sonarr': False,  # noqa: S104
                'use_radarr': False, 'path_mappings': [], 'debug': False, 'flask_secret_key': 'f' * 32},
    'auth': {'apikey': '', 'type': None, 'username': '', 'password': ''},
    'sonarr': {'ip': '127.0.0.1', 'port': 8989, 'base_url': '/', 'ssl': False, 'http_timeout': 60, 'apikey': '',
               'full_update': 'Daily', 'only_monitored': False, 'excluded_tags': []},
    'radarr': {'ip': '127.0.0.1', 'port': 7878, 'base_url': '/', 'ssl': False, 'http_timeout': 60, 'apikey': '',
               'full_update': 'Daily', 'only_monitored': False, 'excluded_tags': []},
}
# Bazarr's validators for the settings above: the type each must have after conversion.
BAZARR_TYPES = {'ip': str, 'port': int, 'base_url': str, 'use_sonarr': bool, 'use_radarr': bool, 'debug': bool,
                'apikey': str, 'ssl': bool, 'http_timeout': int, 'full_update': str, 'only_monitored': bool,
                'username': str, 'password': str}


BAZARR_STR_KEYS = ('chmod', 'log_include_filter', 'log_exclude_filter', 'password', 'f_password', 'hashed_password')


def _bazarr_value(key, value):
    """What Bazarr's save_settings makes of one form value."""
    if value in ('None', 'null', 'undefined'):
        return None
    if key not in BAZARR_STR_KEYS:
        try:
            value = int(value)
        except ValueError:
            pass
    if key == 'base_url' and isinstance(value, str):
        while '//' in value:
            value = value.replace('//', '/')
    if value == 'true':
        return True
    if value == 'false':
        return False
    return value


class FakeBazarr(FakeApp):
    def __init__(self, api_key=None, port=0):
        super().__init__('bazarr', api_key or secrets.token_hex(16), port)
        self.settings = copy.deepcopy(BAZARR_SETTINGS)
        self.settings['auth']['apikey'] = self.api_key

    def handle(self, method, path, query, headers, raw):
        form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True) if raw else {}
        given = headers.get('X-API-KEY') or query.get('apikey', [None])[0] or form.get('apikey', [None])[0]
        if path != '/api/system/settings' or method not in ('GET', 'POST'):
            self.violations.append('{0} {1}: not an emulated Bazarr API call'.format(method, path))
            return 404, 'Not Found', None
        if given != self.settings['auth']['apikey']:
            return 401, {'message': 'The server could not verify that you are authorized'}, None
        with self.lock:
            if method == 'GET':
                shown = copy.deepcopy(self.settings)
                shown['general'].pop('flask_secret_key')
                return 200, shown, None
            if raw and not headers.get('Content-Type', '').startswith('application/x-www-form-urlencoded'):
                self.violations.append('POST settings: form data expected')
                return 400, 'Bad Request', None
            staged = copy.deepcopy(self.settings)
            for name, values in form.items():
                parts = name.split('-')
                if len(parts) != 3 or parts[0] != 'settings' or parts[1] not in staged \
                        or parts[2] not in staged[parts[1]]:
                    self.violations.append('POST settings: {0} is not a Bazarr setting'.format(name))
                    continue
                value = _bazarr_value(parts[2], values[0])
                stored = self.settings['auth']['password']
                if name == 'settings-auth-password' and value is not None and value != stored:
                    value = hashlib.md5(str(value).encode('utf-8')).hexdigest()  # noqa: S324 - Bazarr's own scheme
                staged[parts[1]][parts[2]] = value
            if staged['auth']['type'] not in (None, 'basic', 'form'):
                return 500, {'message': 'Internal Server Error', 'detail': 'auth.type must be basic or form'}, None
            for section, values in staged.items():
                for key, value in values.items():
                    wanted = BAZARR_TYPES.get(key)
                    if wanted is not None and value is not None and type(value) is not wanted:  # pylint: disable=unidiomatic-typecheck
                        return 500, {'message': 'Internal Server Error',
                                     'detail': '{0}.{1} must be {2}'.format(section, key, wanted.__name__)}, None
            self.settings = staged
            return 204, '', None


# --------------------------------------------------------------------------------------- Sonarr / Radarr template
def sabnzbd_template(kind):
    """The Sabnzbd entry of GET /api/v3/downloadclient/schema (Sonarr's / Radarr's SabnzbdSettings fields)."""
    what = 'Tv' if kind == 'sonarr' else 'Movie'
    fields = _fields([('host', 'localhost'), ('port', 8080), ('useSsl', False), ('urlBase', None), ('apiKey', None),
                      ('username', None), ('password', None), (what.lower() + 'Category', 'tv' if kind == 'sonarr'
                                                               else 'movies'),
                      ('recent{0}Priority'.format(what), -100), ('older{0}Priority'.format(what), -100)],
                     secret=('password', 'apiKey'))
    for field in fields:
        if field['name'] == 'apiKey':
            field['privacy'] = 'apiKey'
    return {
        'id': 0, 'name': '', 'implementation': 'Sabnzbd', 'implementationName': 'SABnzbd',
        'configContract': 'SabnzbdSettings', 'infoLink': 'https://wiki.servarr.com/', 'tags': [], 'enable': True,
        'protocol': 'usenet', 'priority': 1, 'removeCompletedDownloads': True, 'removeFailedDownloads': True,
        'presets': [], 'fields': fields,
    }


def with_sabnzbd(app):
    """A FakeServarr (Sonarr or Radarr) that also offers the Sabnzbd download client, as the real ones do."""
    app.templates['downloadclient'].append(sabnzbd_template(app.kind))
    return app
