"""Stand-in for the get-pip script ansible-test downloads from ci-files.testing.ansible.com (not reachable from the
development/CI machines) to bootstrap pip into each sanity virtual environment. tests/test_galaxy.py copies it to
$HOME/.ansible/test/cache/get_pip_24_2.py, where ansible-test looks before downloading.

ansible-test runs it as `python get_pip.py [pip options] pip==24.2 --no-setuptools --no-wheel` in a venv created
without pip: this installs Python's bundled pip (ensurepip, offline) and then the requested pip from PyPI, the same
index the project's own ./.venv is installed from."""

import subprocess
import sys

SKIPPED = ('--no-setuptools', '--no-wheel')  # get-pip.py options that pip install does not know

subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True)
subprocess.run([sys.executable, '-m', 'pip', 'install'] + [a for a in sys.argv[1:] if a not in SKIPPED], check=True)
