# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared Proxmox VE code: the auth options, a proxmoxer client that waits for tasks, and config-string parsing.

Every Proxmox module of the collection raises ProxmoxError for anything that should fail the task, which fails it
with that message (it names the object, the cause and the fix): run_module() for a module that runs on the Proxmox
host, guest_module() for the API modules, which run in the controller's process over the local connection
(plugins/plugin_utils/in_process.py) and as ordinary modules elsewhere.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure

try:
    import proxmoxer
    from proxmoxer.core import AuthenticationError, ResourceException
    HAS_PROXMOXER = True
    PROXMOXER_ERROR = None
except ImportError:  # pragma: no cover - exercised only without the library
    HAS_PROXMOXER = False
    PROXMOXER_ERROR = traceback.format_exc()

    class ResourceException(Exception):  # stand-ins, raised by nothing: main() reports the missing library first
        pass

    class AuthenticationError(Exception):
        pass

ROOT_USER = 'root@pam'
SIZE_UNITS = {'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3, 'T': 1024 ** 4}
TRUE_WORDS = ('1', 'true', 'yes', 'on')
FALSE_WORDS = ('0', 'false', 'no', 'off')


class ProxmoxError(Exception):
    """The one error the Proxmox modules raise; extra keyword arguments are returned with fail_json."""

    def __init__(self, msg, **details):
        super(ProxmoxError, self).__init__(msg)
        self.msg = msg
        self.details = details


def proxmox_argument_spec():
    """The connection options every Proxmox API module takes, with PROXMOX_* environment fallbacks."""
    return dict(
        api_host=dict(type='str', required=True, fallback=(env_fallback, ['PROXMOX_HOST'])),
        api_port=dict(type='int', default=8006, fallback=(env_fallback, ['PROXMOX_PORT'])),
        api_user=dict(type='str', default=ROOT_USER, fallback=(env_fallback, ['PROXMOX_USER'])),
        api_password=dict(type='str', no_log=True, fallback=(env_fallback, ['PROXMOX_PASSWORD'])),
        api_token_id=dict(type='str', no_log=False, fallback=(env_fallback, ['PROXMOX_TOKEN_ID'])),
        api_token_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['PROXMOX_TOKEN_SECRET'])),
        validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['PROXMOX_VALIDATE_CERTS'])),
        ca_path=dict(type='path', fallback=(env_fallback, ['PROXMOX_CA_PATH'])),
        task_timeout=dict(type='int', default=300),
    )


def guest_argument_spec():
    """The connection plus the options a container and a VM share (cores, memory, tags and description are
    documented in the proxmox.guest fragment; each module describes the others, whose meaning differs a little)."""
    spec = proxmox_argument_spec()
    spec.update(
        vmid=dict(type='int'),
        node=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'started', 'stopped', 'restarted', 'absent']),
        cores=dict(type='int'),
        memory=dict(type='int'),
        disk_size=dict(type='int'),
        nameserver=dict(type='str'),
        searchdomain=dict(type='str'),
        onboot=dict(type='bool'),
        tags=dict(type='list', elements='str'),
        description=dict(type='str'),
        restart_on_change=dict(type='bool', default=False),
    )
    return spec


# --------------------------------------------------------------------------------------------- parsing helpers

def parse_bool(value):
    """True/False for PVE's boolean spellings, None when value is None."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError('not a boolean: {0!r}'.format(value))


def split_props(text, default_key=None):
    """{key: value} of a PVE property string such as 'name=eth0,bridge=vmbr0'; a bare first item goes to
    default_key."""
    props = {}
    if text is None:
        return props
    for index, part in enumerate(str(text).split(',')):
        if not part:
            continue
        key, eq, value = part.partition('=')
        if eq:
            props[key.strip()] = value.strip()
        elif index == 0 and default_key:
            props[default_key] = part.strip()
        else:
            props[part.strip()] = '1'
    return props


def join_props(props, first_key=None, order=None):
    """The PVE property string of props; first_key's value goes first, bare."""
    parts = []
    if first_key and props.get(first_key) is not None:
        parts.append(str(props[first_key]))
    keys = [k for k in (order or []) if k in props] + sorted(k for k in props if k not in (order or []))
    for key in keys:
        if key == first_key or props[key] is None:
            continue
        parts.append('{0}={1}'.format(key, props[key]))
    return ','.join(parts)


def parse_size(text):
    """Bytes in a PVE size such as 8G, 512M or 4096 (bytes); None if it is not a size."""
    if text is None:
        return None
    match = re.fullmatch(r'(\d+(?:\.\d+)?)\s*([KMGT])?B?', str(text).strip(), re.I)
    if not match:
        return None
    return int(float(match.group(1)) * SIZE_UNITS.get((match.group(2) or '').upper(), 1))


def normalise_value(value):
    """A config value as a comparable string: booleans as 1/0, numbers without quotes."""
    if isinstance(value, bool):
        return '1' if value else '0'
    return str(value)


def normalise_props(props, bool_keys=()):
    out = {}
    for key, value in props.items():
        if key in bool_keys:
            parsed = parse_bool(value)
            out[key] = '1' if parsed else '0'
        else:
            out[key] = str(value)
    return out


def normalise_tags(tags):
    """PVE's canonical tag string: lower-case, unique, sorted, ';'-separated."""
    if tags is None:
        return None
    if isinstance(tags, str):
        tags = re.split(r'[;, ]+', tags)
    return ';'.join(sorted(set(str(t).strip().lower() for t in tags if str(t).strip())))


# ------------------------------------------------------------------------------------------------ the client

class ProxmoxClient(object):
    """A proxmoxer connection plus the calls the modules need. Every API failure becomes a ProxmoxError."""

    def __init__(self, params):
        if not HAS_PROXMOXER:
            raise ProxmoxError(missing_required_lib('proxmoxer'), exception=PROXMOXER_ERROR)
        self.user = params['api_user']
        self.token_id = params.get('api_token_id')
        self.task_timeout = params.get('task_timeout') or 300
        host = params['api_host']
        verify = params.get('ca_path') or params['validate_certs']
        kwargs = dict(port=params['api_port'], verify_ssl=verify, timeout=30)
        if self.token_id:
            if not params.get('api_token_secret'):
                raise ProxmoxError('api_token_id={0} is set but api_token_secret is not; give the token secret '
                                   '(option or PROXMOX_TOKEN_SECRET) or drop the token id to use '
                                   'api_password.'.format(self.token_id))
            user, bang, name = self.token_id.partition('!')
            if bang:
                self.user = user
            else:
                name = self.token_id
            self.token_name = name
            kwargs.update(user=self.user, token_name=name, token_value=params['api_token_secret'])
        elif params.get('api_password'):
            self.token_name = None
            kwargs.update(user=self.user, password=params['api_password'])
        else:
            raise ProxmoxError('no Proxmox credentials: set api_password (PROXMOX_PASSWORD) or api_token_id and '
                               'api_token_secret (PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET).')
        try:
            self.api = proxmoxer.ProxmoxAPI(host, **kwargs)
        except (ResourceException, AuthenticationError) as exc:
            raise ProxmoxError('cannot log in to Proxmox VE at {0}:{1} as {2}: {3}; check api_user and the '
                               'password or token.'.format(host, params['api_port'], self.auth_id,
                                                           describe(exc))) from None
        except Exception as exc:  # noqa: BLE001 - requests/ssl errors of every kind
            raise ProxmoxError('cannot reach Proxmox VE at https://{0}:{1}: {2}; check api_host, api_port and '
                               'validate_certs/ca_path.'.format(host, params['api_port'], exc)) from None

    # ------------------------------------------------------------------- identity

    @property
    def auth_id(self):
        """Who the API sees: user@realm, or user@realm!token for token auth."""
        return '{0}!{1}'.format(self.user, self.token_name) if self.token_name else self.user

    @property
    def is_root_password(self):
        """True for root@pam with a password ticket: the only login PVE lets do root-only operations."""
        return self.user == ROOT_USER and not self.token_name

    def require_root(self, what, obj):
        """Fail before any write when obj needs root@pam password login for what."""
        if not self.is_root_password:
            raise ProxmoxError(
                '{0}: {1}: reserved by Proxmox VE for root@pam logged in with a password, and this task '
                'authenticates as {2}. API tokens are refused even for root@pam!<token>. Run this task with '
                'api_user=root@pam and api_password (or PROXMOX_USER/PROXMOX_PASSWORD) and no api_token_id. '
                'Nothing was changed.'.format(obj, what, self.auth_id))

    # ------------------------------------------------------------------------ calls

    def call(self, method, path, **params):
        """GET/POST/PUT/DELETE path with params; the data, or a ProxmoxError naming the call."""
        resource = self.api(path.lstrip('/'))
        try:
            return getattr(resource, method.lower())(**params)
        except ResourceException as exc:
            raise ProxmoxError('{0} {1} failed: {2}'.format(method.upper(), path, describe(exc)),
                               status=getattr(exc, 'status_code', None)) from None
        except Exception as exc:  # noqa: BLE001 - connection errors
            raise ProxmoxError('{0} {1} failed: {2}'.format(method.upper(), path, exc)) from None

    def get(self, path, **params):
        return self.call('GET', path, **params)

    def post(self, path, **params):
        return self.call('POST', path, **params)

    def put(self, path, **params):
        return self.call('PUT', path, **params)

    def delete(self, path, **params):
        return self.call('DELETE', path, **params)

    # ------------------------------------------------------------------------ tasks

    def wait_task(self, node, upid, what, timeout=None):
        """Poll the task until it stops. A task that ends in error raises with its TASK ERROR lines;
        a task still running after timeout seconds raises naming the UPID."""
        if not upid or not str(upid).startswith('UPID:'):
            return None
        timeout = self.task_timeout if timeout is None else timeout
        deadline = time.time() + timeout
        delay = 0.1
        while True:
            status = self.get('/nodes/{0}/tasks/{1}/status'.format(node, upid))
            if status.get('status') == 'stopped':
                break
            if time.time() >= deadline:
                raise ProxmoxError('{0}: Proxmox task {1} is still running after {2}s; it was not cancelled. Check '
                                   'it in the task log on node {3}, then rerun (or raise task_timeout).'.format(
                                       what, upid, timeout, node), upid=upid)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        exitstatus = status.get('exitstatus', '')
        if exitstatus == 'OK' or str(exitstatus).startswith('WARNINGS'):
            return status
        lines = self.task_log(node, upid)
        errors = [line for line in lines if line.startswith('TASK ERROR')] or ['TASK ERROR: {0}'.format(exitstatus)]
        raise ProxmoxError('{0} failed on node {1}: {2}'.format(what, node, '; '.join(errors)),
                           upid=upid, task_log=lines[-20:])

    def task_log(self, node, upid):
        try:
            entries = self.get('/nodes/{0}/tasks/{1}/log'.format(node, upid), limit=500)
        except ProxmoxError:
            return []
        return [entry.get('t', '') for entry in entries or []]

    # ---------------------------------------------------------------------- lookups

    def nodes(self):
        return sorted(n['node'] for n in self.get('/nodes'))

    def check_node(self, node, obj):
        names = self.nodes()
        if node not in names:
            raise ProxmoxError('{0}: node {1!r} is not in this Proxmox VE cluster (nodes: {2}); fix the node '
                               'option (proxmox_node / proxmox_guest.node in inventory). Nothing was changed.'
                               .format(obj, node, ', '.join(names) or 'none'))

    def guests(self):
        """Every VM and container: [{vmid, type (qemu|lxc), node, name, status, template}]."""
        return self.get('/cluster/resources', type='vm') or []

    def guest(self, vmid):
        for item in self.guests():
            if int(item.get('vmid', -1)) == int(vmid):
                return item
        return None


GUEST_KINDS = {'lxc': ('container', 60), 'qemu': ('VM', 120)}


def converge_power(guest, kind, node, vmid, *, status, pending, result):
    """Bring a guest to the power state its module was asked for; return the status it ends in.

    guest: the module's guest object (task = its GuestRun, p = params with state/restart_on_change, check, client,
    name);
    kind: 'lxc' or 'qemu'; pending: config keys that wait for the next start. A running guest with pending changes
    is rebooted only with restart_on_change, otherwise it is reported (restart_required) and left running.
    """
    noun, shutdown_timeout = GUEST_KINDS[kind]
    p = guest.p
    running = status == 'running'
    action = None
    if p['state'] == 'started' and not running:
        action = 'start'
    elif p['state'] == 'stopped' and running:
        action = 'shutdown'
    elif p['state'] == 'restarted':
        action = 'reboot' if running else 'start'
    elif running and pending:
        if p['restart_on_change']:
            action = 'reboot'
        else:
            result['restart_required'] = True
            guest.task.warn('{0}: {1} change(s) wait for the next start of {2} {3}: {4}. Set restart_on_change=true '
                            'to reboot it.'.format(guest.name, len(pending), noun, vmid, ', '.join(pending)))
    if action is None:
        return status
    result['changed'] = True
    result['power_action'] = action
    if not guest.check:
        params = {'forceStop': 1, 'timeout': shutdown_timeout} if action == 'shutdown' else {}
        upid = guest.client.post('/nodes/{0}/{1}/{2}/status/{3}'.format(node, kind, vmid, action), **params)
        guest.client.wait_task(node, upid, '{0}: {1} of {2} {3}'.format(guest.name, action, noun, vmid))
        if action in ('start', 'reboot'):
            result['pending_keys'] = []
    return 'stopped' if action == 'shutdown' else 'running'


def common_settings(params, int_keys, str_keys):
    """{key: value string} of the settings a container and a VM share: the sizes in int_keys, the strings in
    str_keys (given as they are), onboot as 1/0 and tags normalised; options left unset are not managed."""
    out = {}
    for key in int_keys:
        if params.get(key) is not None:
            out[key] = str(params[key])
    for key in str_keys:
        if params.get(key) is not None:
            out[key] = params[key]
    if params.get('onboot') is not None:
        out['onboot'] = '1' if params['onboot'] else '0'
    if params.get('tags') is not None:
        out['tags'] = normalise_tags(params['tags'])
    return out


def same_common(key, want, have, int_keys):
    """Whether have already satisfies want for a key both guest kinds share (sizes, onboot, tags, description);
    None for any other key (the module compares it). have is not None."""
    if key in int_keys:
        return str(want) == str(have)
    if key == 'onboot':
        return bool(parse_bool(want)) == bool(parse_bool(have))
    if key == 'tags':
        return normalise_tags(want) == normalise_tags(have)
    if key == 'description':
        return str(want).rstrip('\n') == str(have).rstrip('\n')
    return None


def destroy_guest(guest, kind, node, vmid, **params):
    """Stop the guest if it runs, then destroy it (each Proxmox task waited for). params: of the DELETE call."""
    noun = GUEST_KINDS[kind][0]
    base = '/nodes/{0}/{1}/{2}'.format(node, kind, vmid)
    if guest.client.get(base + '/status/current').get('status') == 'running':
        upid = guest.client.post(base + '/status/stop')
        guest.client.wait_task(node, upid, '{0}: stopping {1} {2}'.format(guest.name, noun, vmid))
    upid = guest.client.delete(base, **params)
    guest.client.wait_task(node, upid, '{0}: destroying {1} {2}'.format(guest.name, noun, vmid))


def describe(exc):
    """PVE's message in a proxmoxer ResourceException, with the per-field errors."""
    parts = [str(getattr(exc, 'status_message', '') or '').strip() or str(exc)]
    content = getattr(exc, 'content', None)
    if content and str(content) not in parts[0]:
        parts.append(str(content).strip())
    errors = getattr(exc, 'errors', None)
    if errors:
        if isinstance(errors, dict):
            parts.append('; '.join('{0}: {1}'.format(k, str(v).strip()) for k, v in sorted(errors.items())))
        else:
            parts.append(str(errors))
    return ' - '.join(p for p in parts if p)


class GuestRun(object):
    """What a guest module's body takes from its run: the options, check mode, and the warnings it returns."""

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)


def guest_module(argument_spec, guest):
    """The BODY of an API module (module_utils/module_body.py): guest(GuestRun) builds the guest object whose run()
    returns the result; a ProxmoxError fails the task with its message, and the warnings given so far go with the
    result either way."""

    def run(params, check_mode, diff):
        task = GuestRun(params, check_mode)
        try:
            result = guest(task).run()
        except ProxmoxError as exc:
            details = dict(exc.details, warnings=task.warnings) if task.warnings else exc.details
            raise ModuleFailure(exc.msg, **details) from exc
        if task.warnings:
            result['warnings'] = task.warnings
        return result

    return ModuleBody(argument_spec, run)


def run_module(module, body):
    """Run body(module) -> result dict; the one place a ProxmoxError becomes fail_json."""
    try:
        result = body(module)
    except ProxmoxError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)
