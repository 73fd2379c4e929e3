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
"""What the stand-in npu_bridge was given: RECORDS in this process, and one JSON line per
event appended to the file named by $NPU_STUB_LOG (for runs in a subprocess)."""
import json
import os

RECORDS = []


def record(event, **info):
    info['event'] = event
    RECORDS.append(info)
    path = os.environ.get('NPU_STUB_LOG')
    if path:
        with open(path, 'a') as f:
            f.write(json.dumps(info, sort_keys=True) + '\n')
