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
"""train.py's own log: what it prints also goes to <save_ckpt_Dir>/train_log.txt, appended
across resumes, so the checkpoint folder holds the history its training curves are drawn from
(models.report), wherever stdout went."""
import sys

FILE = 'train_log.txt'


class Tee(object):
    """While entered, sys.stdout is this object: every write goes to the stream it replaced
    and, once `open(path)` has been called, to the file `path` (appended to). What was printed
    before `open` is kept in memory and written first, so a run's opening lines are in the file
    too, and a run refused before it has a folder leaves no file behind."""

    def __init__(self):
        self.stream = None
        self.file = None
        self.pending = []

    def __enter__(self):
        self.stream = sys.stdout
        sys.stdout = self
        return self

    def __exit__(self, *exc):
        sys.stdout = self.stream
        if self.file is not None:
            self.file.close()
            self.file = None
        return False

    def open(self, path):
        self.file = open(path, 'a')
        self.file.write(''.join(self.pending))
        self.file.flush()
        self.pending = []

    def write(self, text):
        self.stream.write(text)
        if self.file is None:
            self.pending.append(text)
        else:
            self.file.write(text)

    def flush(self):
        self.stream.flush()
        if self.file is not None:
            self.file.flush()

    def __getattr__(self, name):
        # isatty, fileno, encoding...: those of the stream replaced
        return getattr(self.stream, name)
