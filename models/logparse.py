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
"""Read the figures the launchers report from train.py / test.py logs.

  python -m models.logparse train.log [test.log]
  python -m models.logparse --losses train.log

The first prints `key = value` lines: StepTime (mean seconds per training step of the training
sess.run calls after warm-up), ActualFPS (images/sec), ActualLoss (the loss of the last logged
step: the ModelZoo's "last iteration's loss"), Steps and, from a test log, TrainAccuracy
(RE PSNR) and InputPSNR (IN PSNR). The second prints the loss of every logged step, one a line,
as the log wrote it (the launchers' train_${CaseName}_loss.txt). `history` reads the curves of
a run (loss per step, validation per epoch) for models.report.
"""
import re
import sys

_KV = re.compile(r'(\S+?)=(\S+)')
_PSNR = re.compile(r'^Avg PSNR: IN (\S+) RE (\S+)')


def fields(line):
    """'[tag] a=1 b=2' -> ('tag', {'a': '1', 'b': '2'}); other lines -> (None, {})."""
    m = re.match(r'^\[(\w+)\]\s', line)
    if not m:
        return None, {}
    return m.group(1), dict(_KV.findall(line[m.end():]))


def losses(text):
    """The loss of every [step] line, as written (strings), in order."""
    return [kv['loss'] for tag, kv in map(fields, text.splitlines()) if tag == 'step']


def parse_train(text):
    out = {}
    for line in text.splitlines():
        tag, kv = fields(line)
        if tag == 'step':
            out['ActualLoss'] = float(kv['loss'])
            out['Steps'] = int(kv['step'])
        elif tag == 'done':
            out['Steps'] = int(kv['steps'])
            if kv.get('step_time', '-') != '-':
                out['StepTime'] = float(kv['step_time'])
                out['ActualFPS'] = float(kv['images/sec'])
    return out


def _numbers(kv):
    """The numeric values of a line's key=value pairs as floats ('-' and words left out)."""
    out = {}
    for k, v in kv.items():
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def history(text):
    """The curves of a training log, possibly appended across resumes: {'step': [{'step',
    'loss', ...}], 'epoch': [{'epoch', 'step', 'loss', ...}], 'val': [{'epoch', 'psnr_in',
    'psnr_re', 'ssim_in', 'ssim_re', and any other key of the line, e.g. cpsnr_*}]}, each
    sorted by step / epoch. A `[run] start_step=S` line (train.py prints one as it starts)
    drops what an earlier run logged after step S, so a resumed run replaces the steps it
    repeats and a run started afresh (S=0) replaces everything; a later line for the same step
    or epoch replaces an earlier one. 'test_data': True if the last run's `model:` line names
    test images (train.py validates on them at each epoch's end)."""
    steps, epochs, val = {}, {}, {}
    test_data = False
    for line in text.splitlines():
        if line.startswith('model: '):
            test_data = ' test images' in line
        tag, kv = fields(line)
        if tag == 'run':
            s = int(kv['start_step'])
            steps = dict((k, v) for k, v in steps.items() if k <= s)
            epochs = dict((k, v) for k, v in epochs.items() if v['step'] <= s)
            val = dict((k, v) for k, v in val.items() if k in epochs)
        elif tag == 'step':
            d = _numbers(kv)
            d['step'] = int(kv['step'])
            d['epoch'] = int(kv['epoch'])
            steps[d['step']] = d
        elif tag == 'epoch':
            d = _numbers(kv)
            d['epoch'], d['step'] = int(kv['epoch']), int(kv['step'])
            epochs[d['epoch']] = d
        elif tag == 'val':
            d = _numbers(kv)
            d['epoch'] = int(kv['epoch'])
            val[d['epoch']] = d
    return {'step': [steps[k] for k in sorted(steps)],
            'epoch': [epochs[k] for k in sorted(epochs)],
            'val': [val[k] for k in sorted(val)], 'test_data': test_data}


def parse_test(text):
    out = {}
    for line in text.splitlines():
        m = _PSNR.match(line)
        if m:
            out['InputPSNR'], out['TrainAccuracy'] = float(m.group(1)), float(m.group(2))
    return out


def main(argv):
    if argv[:1] == ['--losses'] and len(argv) == 2:
        try:
            with open(argv[1]) as f:
                text = f.read()
        except (IOError, OSError) as e:
            sys.stderr.write('error: %s\n' % e)
            return 2
        for loss in losses(text):
            print(loss)
        return 0
    if not argv or len(argv) > 2 or argv[0].startswith('--'):
        sys.stderr.write('usage: python -m models.logparse train.log [test.log] | '
                         '--losses train.log\n')
        return 2
    res = {}
    try:
        with open(argv[0]) as f:
            res.update(parse_train(f.read()))
        if len(argv) == 2:
            with open(argv[1]) as f:
                res.update(parse_test(f.read()))
    except (IOError, OSError) as e:
        sys.stderr.write('error: %s\n' % e)
        return 2
    for k in sorted(res):
        print('%s = %s' % (k, res[k]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
