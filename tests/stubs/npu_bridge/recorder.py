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
