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
# Full training + test run on one device (Ascend ModelZoo launcher convention).
#   bash test/train_full_1p.sh [--data_path=DIR] [--output_path=DIR] [--train_epochs=N]
#        [--batch_size=N] [--precision_mode=MODE] [--image_size=N] [--ckpt_path=DIR]
#        [--over_dump=True] [--data_dump_flag=True --data_dump_step=0|5] [--profiling=True]
#        [--autotune=True] [--bind_core=True] [--iterations_per_loop=N] ... (--help lists all)
# DIR holds one *train*.hdf5 and one *test*.hdf5 (make_h5data.py). Without --data_path a
# synthetic dataset is built first in data/. Logs: test/output/${ASCEND_DEVICE_ID}/.
cur_path=$(cd "$(dirname "$0")/.." && pwd)
cd "${cur_path}" || exit 2
source "${cur_path}/test/common.sh"
parse_launcher_args full "$@" || exit $?
prepare_output || exit $?

run_train || exit $?
run_test || exit $?
report_results acc
