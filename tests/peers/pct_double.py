#!/usr/bin/python3
"""TEST DOUBLE for Proxmox VE's `pct` -- NOT the real tool, and it manages no container.

Installed as /usr/sbin/pct on a throwaway test node that stands in for a PVE host. It implements only
`pct config <vmid> [--current]` and `pct set <vmid> [--<key> <value>]... [--delete <keys>]`, for the keys the
collection sets this way, on the config file /etc/pve/lxc/<vmid>.conf (the container is treated as stopped, so a
set goes straight into the main section). Every call is appended as one JSON line to CALLS, so a test can count
them. Arguments are checked against pct's documented syntax and pve-container's schema (src/PVE/LXC/Config.pm):

  devN   [[path=]<Path>][,deny-write=<1|0>][,gid=<integer>][,mode=<Octal access mode>][,uid=<integer>]
         (path under /dev/ without /./ or /../, mode 0[0-7]{3}, ids >= 0, keys once; stat of the path must show a
         character or block device on the host, as pct checks it)
  mpN    [volume=]<volume>,mp=<Path>[,...]
  features  keyctl/nesting/fuse/mknod/force_rw_sys=<1|0>, mount=<fstype;fstype;...>
  hookscript  <storage>:snippets/<file>

Anything else is refused with exit code 255, like pct's own "unknown option" / "invalid format" errors.
"""

import json
import os
import re
import stat
import sys
import time

ROOT = os.environ.get('PCT_DOUBLE_ROOT', '')  # a prefix for the double's own unit test; empty on a test node
CONF_DIR = ROOT + '/etc/pve/lxc'
CALLS = ROOT + '/var/log/pct-double/calls.jsonl'
MAX_DEVICES = 256
MAX_MOUNT_POINTS = 256
BOOL = ('0', '1', 'on', 'off', 'yes', 'no', 'true', 'false')


def die(msg, code=255):
    sys.stderr.write(msg.rstrip('\n') + '\n')
    sys.exit(code)


def record(argv):
    os.makedirs(os.path.dirname(CALLS), exist_ok=True)
    with open(CALLS, 'a') as handle:
        handle.write(json.dumps({'argv': argv, 'time': time.time()}) + '\n')


def property_string(value, keys, default_key=None):
    """pve's parse_property_string: key=value items, each key once, a bare first item for default_key."""
    out = {}
    for index, part in enumerate(value.split(',')):
        if not part:
            continue
        key, eq, val = part.partition('=')
        if not eq:
            if index != 0 or default_key is None:
                die("400 Parameter verification failed.\nvalue: invalid format - missing key in '{0}'".format(part))
            key, val = default_key, part
        if key not in keys:
            die("400 Parameter verification failed.\nvalue: invalid format - unknown parameter '{0}'".format(key))
        if key in out:
            die("400 Parameter verification failed.\nvalue: invalid format - duplicate key '{0}'".format(key))
        out[key] = val
    return out


def check_dev(key, value):
    props = property_string(value, ('path', 'mode', 'uid', 'gid', 'deny-write'), default_key='path')
    path = props.get('path')
    if path is None:
        die('Path is not defined for passthrough device {0}'.format(key))
    if re.search(r'/\.\.?(?:/|$)', path) or not path.startswith('/dev/'):
        die('{0}: {1} is not a valid device path'.format(key, path))
    if 'mode' in props and not re.fullmatch(r'0[0-7]{3}', props['mode']):
        die("{0}: invalid format - value does not match the regex pattern (mode '{1}')".format(key, props['mode']))
    for id_key in ('uid', 'gid'):
        if id_key in props and not re.fullmatch(r'\d+', props[id_key]):
            die("{0}: invalid format - type check ('integer') failed - got '{1}'".format(key, props[id_key]))
    if 'deny-write' in props and props['deny-write'].lower() not in BOOL:
        die("{0}: invalid format - type check ('boolean') failed".format(key))
    try:
        mode = os.stat(path).st_mode
    except OSError:
        die('stat {0}: No such file or directory'.format(path))
    if not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)):
        die('{0}: {1} is not a device'.format(key, path))


def check_value(key, value):
    if re.fullmatch(r'dev(\d+)', key) and int(key[3:]) < MAX_DEVICES:
        check_dev(key, value)
    elif re.fullmatch(r'mp(\d+)', key) and int(key[2:]) < MAX_MOUNT_POINTS:
        props = property_string(value, ('volume', 'mp', 'acl', 'backup', 'mountoptions', 'quota', 'replicate',
                                        'ro', 'shared', 'size'), default_key='volume')
        if 'mp' not in props:
            die("{0}: invalid format - missing property 'mp'".format(key))
    elif key == 'features':
        props = property_string(value, ('fuse', 'keyctl', 'mknod', 'mount', 'nesting', 'force_rw_sys'))
        for name, val in props.items():
            if name != 'mount' and val.lower() not in BOOL:
                die("features: invalid format - type check ('boolean') failed - got '{0}'".format(val))
    elif key == 'hookscript':
        if not re.fullmatch(r'[^:\s]+:snippets/\S+', value):
            die('hookscript: invalid format - {0}'.format(value))
    else:
        die("Unknown option: {0} (this test double only knows devN, mpN, features and hookscript)".format(key))


def read(vmid):
    path = os.path.join(CONF_DIR, '{0}.conf'.format(vmid))
    if not os.path.exists(path):
        die("Configuration file 'nodes/pve/lxc/{0}.conf' does not exist".format(vmid), 2)
    with open(path) as handle:
        return path, handle.read().splitlines()


def sections(lines):
    """(main lines, pending lines, rest lines)."""
    main, pending, rest, where = [], [], [], 'main'
    for line in lines:
        if re.match(r'^\[pve:pending\]\s*$', line, re.I):
            where = 'pending'
            continue
        if re.match(r'^\[[A-Za-z][A-Za-z0-9_\-]+\]\s*$', line):
            where = 'rest'
        {'main': main, 'pending': pending, 'rest': rest}[where].append(line)
    return main, pending, rest


def keyvals(lines):
    out = {}
    for line in lines:
        match = re.match(r'^([a-z][a-z_]*\d*):\s*(.*?)\s*$', line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def cmd_config(args):
    if not args or not re.fullmatch(r'[1-9]\d{2,8}', args[0]) or any(a not in ('--current', '-current')
                                                                     for a in args[1:]):
        die('400 unable to parse option\npct config <vmid> [OPTIONS]')
    _unused, lines = read(args[0])
    main, pending, _unused = sections(lines)
    conf = keyvals(main)
    if '--current' not in args[1:] and '-current' not in args[1:]:
        pend = keyvals(pending)
        for key in (pend.pop('delete', '') or '').split(','):
            conf.pop(key.strip(), None)
        conf.update(pend)
    for key in sorted(conf):
        sys.stdout.write('{0}: {1}\n'.format(key, conf[key]))
    for line in main:
        if line.startswith('lxc.'):
            sys.stdout.write(line + '\n')


def cmd_set(args):
    if not args or not re.fullmatch(r'[1-9]\d{2,8}', args[0]):
        die('400 not enough arguments\npct set <vmid> [OPTIONS]')
    vmid, rest = args[0], args[1:]
    if len(rest) % 2:
        die('400 unable to parse option: {0} needs a value'.format(rest[-1]))
    updates, deletes = {}, []
    for flag, value in zip(rest[::2], rest[1::2], strict=True):
        match = re.fullmatch(r'--?([a-z][a-z_\-]*\d*)', flag)
        if not match:
            die('400 unable to parse option {0}'.format(flag))
        key = match.group(1)
        if key == 'delete':
            deletes += [k for k in value.split(',') if k]
            continue
        if key in updates:
            die('400 duplicate option {0}'.format(key))
        check_value(key, value)
        updates[key] = value
    if not updates and not deletes:
        die('400 no options specified')
    for key in deletes:
        if key in updates:
            die("400 Parameter verification failed.\ndelete: cannot set and delete '{0}' at the same time".format(key))
    path, lines = read(vmid)
    main, pending, rest = sections(lines)
    kept = [line for line in main
            if not (re.match(r'^([a-z][a-z_]*\d*):', line) and line.split(':', 1)[0] in set(updates) | set(deletes))]
    body = [line for line in kept if line.strip()]
    body += ['{0}: {1}'.format(k, v) for k, v in sorted(updates.items())]
    text = '\n'.join(body) + '\n'
    if pending:
        text += '\n[pve:pending]\n' + '\n'.join(line for line in pending if line.strip()) + '\n'
    if rest:
        text += '\n' + '\n'.join(rest) + '\n'
    with open(path + '.tmp', 'w') as handle:
        handle.write(text)
    os.rename(path + '.tmp', path)


def main(argv):
    record(argv)
    if not argv:
        die('ERROR: no command specified')
    command, args = argv[0], argv[1:]
    if command == 'config':
        cmd_config(args)
    elif command == 'set':
        cmd_set(args)
    else:
        die("TEST DOUBLE: 'pct {0}' is not implemented by this stand-in".format(command))


if __name__ == '__main__':
    main(sys.argv[1:])
