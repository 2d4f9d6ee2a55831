"""A real qBittorrent as a test peer: Debian's qbittorrent-nox (installed by scripts/host-setup.sh), started in a
private network namespace that has only loopback up, with DHT, PeX, LSD and UPnP/NAT-PMP switched off in its
configuration before it starts, and its whole profile in a temporary directory.

The namespace is entered by the calling thread itself (unshare(CLONE_NEWNET) on that thread), so the test's own
HTTP calls, the modules it runs in-process, the fake apps and ansible-playbook runs it starts all live in the same
namespace as qBittorrent; on exit the thread goes back to the namespace it came from.

The profile directory is laid out like the LinuxServer image's /config (HOME, XDG_CONFIG_HOME and XDG_DATA_HOME all
point at it), so the configuration file is <config_dir>/qBittorrent/qBittorrent.conf, as in the image."""

import contextlib
import ctypes
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

CLONE_NEWNET = 0x40000000
BINARY = 'qbittorrent-nox'
# Written into the configuration before every start: no peer discovery, no port mapping, so nothing would try to
# reach outside even if the namespace had a route (it has none). The [Network] key is the one 4.4 and later read;
# Connection\UPnP the one older versions (and the LinuxServer defaults) use.
LOCKDOWN = {
    'BitTorrent': {'Session\\DHTEnabled': 'false', 'Session\\PeXEnabled': 'false',
                   'Session\\LSDEnabled': 'false'},
    'Network': {'PortForwardingEnabled': 'false'},
    'Preferences': {'Connection\\UPnP': 'false'},
}


# The BitTorrent listen port of a profile that names none (RealQbittorrent.start); the LinuxServer image's default.
TORRENT_PORT = 6881


def missing_reason():
    """Why the real qBittorrent cannot run here, or None."""
    if not shutil.which(BINARY):
        return '{0} is not installed (scripts/host-setup.sh installs it from Debian)'.format(BINARY)
    if os.geteuid() != 0:
        return 'a private network namespace for qbittorrent-nox needs root (CAP_SYS_ADMIN); CI runs as root'
    if not shutil.which('ip'):
        return 'ip (iproute2) is not installed, so loopback cannot be brought up in the private namespace'
    return None


_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, '{0}: {1}'.format(what, os.strerror(err)))


@contextlib.contextmanager
def private_network():
    """Run the body with this thread in a new network namespace that has only `lo`, up."""
    original = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
    try:
        _check(_libc.unshare(CLONE_NEWNET), 'unshare(CLONE_NEWNET) (needs root or CAP_SYS_ADMIN)')
        try:
            subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
            links = subprocess.run(['ip', '-o', 'link', 'show'], check=True, capture_output=True,
                                   text=True).stdout
            names = [line.split(':')[1].strip() for line in links.splitlines()]
            if names != ['lo']:
                raise RuntimeError('the private network namespace has more than loopback: {0}'.format(names))
            yield
        finally:
            _check(_libc.setns(original, CLONE_NEWNET), 'setns back to the original network namespace')
    finally:
        os.close(original)


def set_ini_keys(path, sections):
    """Set key=value lines in sections of a QSettings INI file, keeping every other line as it is."""
    text = path.read_text(encoding='utf-8') if path.exists() else ''
    lines = text.splitlines()
    for section, keys in sections.items():
        header = '[{0}]'.format(section)
        if header not in lines:
            lines += ['', header] if lines else [header]
        start = lines.index(header) + 1
        end = start
        while end < len(lines) and not lines[end].startswith('['):
            end += 1
        body = [line for line in lines[start:end] if line.split('=', 1)[0] not in keys]
        while body and not body[-1].strip():
            body.pop()
        body += ['{0}={1}'.format(k, v) for k, v in keys.items()]
        if end < len(lines):
            body.append('')
        lines[start:end] = body
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')


class RealQbittorrent:
    """qbittorrent-nox with its profile in `root`; call start() inside private_network()."""

    def __init__(self, root, port=8080):
        self.root = root
        self.config_dir = root / 'config'
        self.conf = self.config_dir / 'qBittorrent' / 'qBittorrent.conf'
        self.port = port
        self.url = 'http://127.0.0.1:{0}'.format(port)
        self.log = root / 'qbittorrent-nox.log'
        self.proc = None
        # its own opener: no cookie jar another library may have installed globally
        self.opener = urllib.request.build_opener()

    def start(self, timeout=60, lockdown=True):
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        if lockdown:
            set_ini_keys(self.conf, LOCKDOWN)
            self._fix_the_torrent_port()
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(self.config_dir),
               'XDG_CONFIG_HOME': str(self.config_dir), 'XDG_DATA_HOME': str(self.config_dir),
               'XDG_CACHE_HOME': str(self.root / 'cache'), 'LANG': 'C.UTF-8'}
        with open(str(self.log), 'ab') as log:
            self.proc = subprocess.Popen([BINARY, '--webui-port={0}'.format(self.port)], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError('qbittorrent-nox exited with {0} before listening: {1}'.format(
                    self.proc.returncode, self.log.read_text(errors='replace')[-2000:]))
            with contextlib.suppress(OSError), socket.create_connection(('127.0.0.1', self.port), timeout=1):
                return self
            if time.monotonic() > deadline:
                raise RuntimeError('qbittorrent-nox did not listen on {0} within {1} s'.format(self.url, timeout))
            time.sleep(0.2)

    def _fix_the_torrent_port(self):
        """A profile that names no BitTorrent listen port gets TORRENT_PORT. qBittorrent would pick one at random, and
        once in 64 000 starts that was the Web UI's own port: the Web UI then failed to bind and qbittorrent-nox
        exited (seen in a CI run). A port the profile names, in either key, is left as it is."""
        text = self.conf.read_text(encoding='utf-8') if self.conf.exists() else ''
        if 'Session\\Port=' not in text and 'Connection\\PortRangeMin=' not in text:
            set_ini_keys(self.conf, {'BitTorrent': {'Session\\Port': str(TORRENT_PORT)}})

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def login(self, username, password):
        """(HTTP status, body, SID cookie or None) of a WebUI login."""
        data = urllib.parse.urlencode({'username': username, 'password': password}).encode()
        request = urllib.request.Request(self.url + '/api/v2/auth/login', data=data, method='POST',
                                         headers={'Referer': self.url})
        try:
            with self.opener.open(request, timeout=10) as response:
                cookie = response.headers.get('Set-Cookie') or ''
                match = re.match(r'(SID|QBT_SID_\d+)=([^;]+)', cookie)
                return response.status, response.read().decode(), match.group(0) if match else None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors='replace'), None

    def session(self, username, password):
        status, body, cookie = self.login(username, password)
        if not cookie:
            raise AssertionError('login as {0!r} refused: HTTP {1} {2!r}'.format(username, status, body))
        return cookie

    def call(self, method, path, cookie=None, form=None):
        """(status, body) of an API v2 call with the session cookie."""
        headers = {'Referer': self.url}
        if cookie:
            headers['Cookie'] = cookie
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.url + '/api/v2/' + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors='replace')
