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
python3 "${cur_path}/test.py" --data_url "${data_path}" --batch_size "${batch_size}" \
    --save_ckpt_Dir "${ckpt_dir}" --plot --report > "${test_log}" 2>&1
test_rc=$?
if [ ${test_rc} -ne 0 ]; then
    tail -n 3 "${test_log}"; echo "[Error] test.py failed (exit ${test_rc}), log: ${test_log}"
    exit ${test_rc}
fi
echo "test report: ${ckpt_dir}/test_results/report.html"
report_results acc
