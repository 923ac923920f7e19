# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for pip's get-pip.py, for ansible-test's sanity venvs.

ansible-test bootstraps pip in each sanity virtualenv with a get-pip.py that
it downloads from a host this machine cannot reach. This script does the same
job with the pip wheel Python itself ships for ensurepip (CPython's bundled
wheel, or Debian's /usr/share/python-wheels), then lets that pip install what
ansible-test asks for from the package index.
"""
from __future__ import annotations

import glob
import os
import sys


def _bundled_pip_wheel() -> str:
    places = []
    try:
        import ensurepip
        places.append(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled'))
    except ImportError:
        pass
    places.append('/usr/share/python-wheels')
    for place in places:
        wheels = sorted(glob.glob(os.path.join(place, 'pip-*.whl')))
        if wheels:
            return wheels[-1]
    sys.exit('no pip wheel found for bootstrapping (install python3-venv)')


def main() -> None:
    sys.path.insert(0, _bundled_pip_wheel())
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    # Like get-pip.py: the arguments are packages and pip options for an
    # install, plus get-pip's own --no-setuptools/--no-wheel switches, which
    # only mean "do not add them" and so are dropped here.
    args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
    sys.exit(pip_main(['install', '--upgrade', '--force-reinstall'] + args))


if __name__ == '__main__':
    main()
