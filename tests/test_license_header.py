"""Every source file carries the Apache-2.0 header (ModelZoo's rule for contributed models)."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ('.ci/run', '.ci/find-python37')


def source_files():
    """The repository's tracked Python and shell files and CI scripts."""
    out = subprocess.run(['git', 'ls-files', '*.py', '*.sh'] + list(SCRIPTS), cwd=ROOT,
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return out.split()


def test_every_source_file_has_the_apache_header():
    files = source_files()
    assert len(files) > 50 and 'train.py' in files and '.ci/run' in files
    missing = []
    for name in files:
        with open(os.path.join(ROOT, name)) as f:
            head = f.read(1200)
        if ('Licensed under the Apache License, Version 2.0' not in head
                or 'http://www.apache.org/licenses/LICENSE-2.0' not in head):
            missing.append(name)
    assert missing == []
