"""Static YAML files the tests read again and again (CRD bundles of hundreds of KB), parsed once per process and file
version with libyaml's parser. PyYAML's pure-Python parser took about 1 s per read of the CRD bundles, and the
emulator and the manifest tests read them for every test."""

import pathlib

import yaml

_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)  # libyaml's parser where PyYAML has it
_PARSED = {}


def documents(path):
    """The non-empty documents of the YAML file at path, as a tuple shared by every caller in this process: read
    them, copy what you change. Parsed again when the file changes (path, mtime, size)."""
    path = pathlib.Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        with path.open() as handle:
            _PARSED[key] = tuple(doc for doc in yaml.load_all(handle, Loader=_LOADER) if doc)
    return _PARSED[key]
