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
"""User-facing errors: one clear line and exit code 2, never a traceback."""
import argparse
import functools
import sys


class InputError(Exception):
    """Something the user gave us is wrong (file, key, shape, value, flag). Exit code 2."""


class TrainingStopped(Exception):
    """Training cannot go on (e.g. a non-finite loss without loss scaling). Exit code 1."""


def first_line(e):
    """The first line of an exception's message, or its type's name when it has none: what a
    one-line `error:` shows of a library's (often multi-line) exception."""
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def exit_on_input_error(main):
    """Run `main`; an InputError prints `error: <message>` on stderr and exits with code 2,
    TrainingStopped does the same with exit code 1."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except (InputError, TrainingStopped) as e:
            sys.stdout.flush()
            sys.stderr.write('error: %s\n' % e)
            sys.stderr.flush()
            sys.exit(2 if isinstance(e, InputError) else 1)
    return wrapper


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump) and exit code 2."""

    def error(self, message):
        sys.stderr.write('error: %s: %s (see --help)\n' % (self.prog, message))
        sys.exit(2)


def str2bool(value):
    """Accept the absl-style booleans the Ascend launchers pass (True/False/1/0/yes/no)."""
    if isinstance(value, bool):
        return value
    v = value.strip().lower()
    if v in ('1', 'true', 't', 'yes', 'y'):
        return True
    if v in ('0', 'false', 'f', 'no', 'n'):
        return False
    raise argparse.ArgumentTypeError('expected a boolean (True/False), got %r' % value)


def bool_flag(parser, name, default, help_text):
    """`--name`, `--name=True/False` and `--noname`, as tf.app.flags booleans accept."""
    parser.add_argument('--' + name, type=str2bool, nargs='?', const=True, default=default,
                        help=help_text)
    parser.add_argument('--no' + name, dest=name, action='store_false', help=argparse.SUPPRESS)
