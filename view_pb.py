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
"""Show a frozen .pb: inputs, outputs, node and op counts, and ops to check before ATC.

  python view_pb.py cascade.pb

The ATC check uses our own lists in models/export.py (ATC_BLOCKING: ops an offline model cannot
hold, e.g. PyFunc or unfrozen variables; ATC_CHECK: complex64/FFT ops whose support depends on
the CANN version). It is not Huawei's operator list and does not replace running ATC.
Exit code 1 when a blocking op is found.
"""
import os
import sys

from models.errors import ArgumentParser, InputError, exit_on_input_error
from models.tfv1 import tf_v1


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('pb', help='frozen GraphDef (.pb)')
    return p.parse_args(argv)


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isfile(a.pb):
        raise InputError('%s: no such file' % a.pb)
    tf_v1()
    from models import export
    graph_def = export.load_pb(a.pb)
    graph = export.import_graph(graph_def, a.pb)
    print('%s: %d nodes' % (a.pb, len(graph_def.node)))
    for tag, ts in (('inputs', export.inputs(graph)), ('outputs', export.outputs(graph))):
        print('%s:' % tag)
        for t in ts:
            print('  %s %s %s' % (t.name, t.dtype, 'unknown rank' if t.shape is None
                                  else '(%s)' % ', '.join(str(d) for d in t.shape)))
    print('ops by type:')
    for op, n in export.op_counts(graph_def):
        print('  %-24s %d' % (op, n))
    blocking, check = export.atc_flags(graph_def)
    if not blocking and not check:
        print('ATC check: no listed op found (lists in models/export.py)')
    for tag, items in (('ATC blocking', blocking), ('ATC check', check)):
        for op, n, why in items:
            print('%s: %s x%d: %s' % (tag, op, n, why))
    return 1 if blocking else 0


if __name__ == '__main__':
    sys.exit(main())
