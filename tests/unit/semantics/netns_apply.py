"""Run a playbook in apply mode against the kmock emulator, both inside the caller's network namespace (the tests
start this under `unshare --net` with only loopback up, so an inventory naming LAN addresses reaches nothing).

    python -m tests.unit.semantics.netns_apply <kubeconfig> <calls.json> -- ansible-playbook ...

Writes the emulator's requests (action, resource, namespace, name, dry run) to calls.json and exits with the
playbook's return code."""

import json
import pathlib
import subprocess
import sys

from tests.delivery.conftest import RunningEmulator


def main(argv):
    kubeconfig, calls_path = pathlib.Path(argv[0]), pathlib.Path(argv[1])
    command = argv[argv.index('--') + 1:]
    emulator = RunningEmulator(kubeconfig).start()
    try:
        code = subprocess.call(command)
    finally:
        calls_path.write_text(json.dumps(emulator.calls))
        emulator.stop()
    return code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
