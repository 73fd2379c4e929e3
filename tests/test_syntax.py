# Copyright 2026 The CascadeNet Authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Every Python file must parse as Python 3.7 (the Ascend image runs TF 1.15 on Python 3.7)
and use no Keras / tf.layers / tf.contrib."""
import ast
import os
import re
import sys

import pytest

from conftest import ROOT


def py_files():
    """Every .py file of the repository, leaving out hidden folders and the top-level data/
    and test/output/ folders (datasets and launcher outputs, not source)."""
    skip = set(os.path.join(ROOT, d) for d in ('data', os.path.join('test', 'output')))
    out = []
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if not x.startswith('.') and x != '__pycache__'
                   and os.path.join(d, x) not in skip]
        out += [os.path.join(d, f) for f in files if f.endswith('.py')]
    return sorted(out)


@pytest.mark.parametrize('path', py_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_python37_syntax_and_no_keras(path):
    src = open(path, encoding='utf-8').read()
    if sys.version_info[:2] == (3, 7):
        ast.parse(src, path)  # the running parser is Python 3.7's own
    else:
        ast.parse(src, path, feature_version=(3, 7))  # Python >= 3.8 only
    if os.sep + 'tests' + os.sep not in path:
        assert not re.search(r'tf\.keras|tf\.layers\.|tf\.contrib|import keras', src), path
