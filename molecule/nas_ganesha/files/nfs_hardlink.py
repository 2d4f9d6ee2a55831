#!/usr/bin/python3
"""Hardlink a file through NFSv4 with libnfs (the library behind nfs-cp/nfs-ls), then stat both names through NFS.

libnfs-utils 4.0 ships nfs-cat, nfs-cp and nfs-ls but no link tool, and the PyPI binding (libnfs 1.0, 2016) predates
libnfs 4's NFSv4 support, so this calls libnfs.so.13's nfs_link()/nfs_stat64() directly with ctypes: a LINK
operation on the wire, exactly what Radarr's link() becomes on an NFS mount.

usage: nfs_hardlink.py SERVER EXPORT SOURCE TARGET UID GID   (paths relative to EXPORT) -> JSON on stdout
"""

import ctypes
import json
import os
import sys

FIELDS = ('dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atime', 'mtime',
          'ctime', 'atime_nsec', 'mtime_nsec', 'ctime_nsec', 'used')


class Stat64(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in FIELDS]  # struct nfs_stat_64 in libnfs.h


def main(argv):
    server, export, source, target, uid, gid = argv
    lib = ctypes.CDLL('libnfs.so.13')
    lib.nfs_init_context.restype = ctypes.c_void_p
    lib.nfs_get_error.restype = ctypes.c_char_p
    for name in ('nfs_set_version', 'nfs_mount', 'nfs_link', 'nfs_stat64', 'nfs_set_uid', 'nfs_set_gid',
                 'nfs_get_error', 'nfs_umount', 'nfs_destroy_context'):
        getattr(lib, name).argtypes = [ctypes.c_void_p] + {
            'nfs_set_version': [ctypes.c_int], 'nfs_mount': [ctypes.c_char_p, ctypes.c_char_p],
            'nfs_link': [ctypes.c_char_p, ctypes.c_char_p], 'nfs_stat64': [ctypes.c_char_p, ctypes.c_void_p],
            'nfs_set_uid': [ctypes.c_int], 'nfs_set_gid': [ctypes.c_int]}.get(name, [])
    nfs = lib.nfs_init_context()
    if not nfs:
        raise SystemExit('libnfs: cannot create a context')

    def check(rc, what):
        if rc != 0:
            raise SystemExit('libnfs {0} failed ({1}): {2}'.format(what, rc, lib.nfs_get_error(nfs).decode()))

    try:
        check(lib.nfs_set_version(nfs, 4), 'set_version 4')
        lib.nfs_set_uid(nfs, int(uid))
        lib.nfs_set_gid(nfs, int(gid))
        check(lib.nfs_mount(nfs, server.encode(), export.encode()), 'mount {0}:{1}'.format(server, export))
        check(lib.nfs_link(nfs, source.encode(), target.encode()), 'link {0} -> {1}'.format(source, target))
        result = {}
        for path in (source, target):
            st = Stat64()
            check(lib.nfs_stat64(nfs, path.encode(), ctypes.byref(st)), 'stat {0}'.format(path))
            result[path] = {name: getattr(st, name) for name in ('ino', 'nlink', 'uid', 'gid', 'size')}
        lib.nfs_umount(nfs)
    finally:
        lib.nfs_destroy_context(nfs)
    json.dump(result, sys.stdout)
    sys.stdout.write(os.linesep)


if __name__ == '__main__':
    if len(sys.argv) != 7:
        raise SystemExit(__doc__)
    main(sys.argv[1:7])
