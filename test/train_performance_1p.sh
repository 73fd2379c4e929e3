#!/bin/bash
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
# Short performance run on one device (Ascend ModelZoo launcher convention): train for
# --train_steps steps (default 60), no test pass. Same arguments as train_full_1p.sh.
#   bash test/train_performance_1p.sh [--data_path=DIR] [--batch_size=N] [--image_size=N]
#        [--train_steps=N] [--precision_mode=MODE] ... (--help lists all)
# Step time is the mean time per step of the training sess.run calls after train.py's warm-up
# steps, read from the [done] line of the train log (models/logparse.py). Prints the Final
# Performance lines and writes test/output/${ASCEND_DEVICE_ID}/${CaseName}.log (key = value)
# and train_${CaseName}_loss.txt.
cur_path=$(cd "$(dirname "$0")/.." && pwd)
cd "${cur_path}" || exit 2
source "${cur_path}/test/common.sh"
parse_launcher_args perf "$@" || exit $?
prepare_output || exit $?
test_log=''  # no test pass in a performance run

run_train || exit $?
check_timed_steps || exit $?
report_results perf
