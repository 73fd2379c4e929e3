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
# Short performance run on 8 Ascend devices, data-parallel with HCCL (ModelZoo 8p launcher
# convention): train for --train_steps global steps (default 60), no test pass. Same
# arguments as train_full_8p.sh (--rank_table_file=FILE or RANK_TABLE_FILE; RANK_SIZE,
# default 8). ActualFPS in ${CaseName}.log is the sum over ranks of each rank's images/sec
# (per-device batch / its mean step time after warm-up); TrainingTime is rank 0's ms/step.
cur_path=$(cd "$(dirname "$0")/.." && pwd)
cd "${cur_path}" || exit 2
export RANK_SIZE=${RANK_SIZE:-8}
export JOB_ID=${JOB_ID:-10087}  # the HCCL job id the TF Adapter reads (ModelZoo default)
multi=npu
source "${cur_path}/test/common.sh"
parse_launcher_args perf "$@" || exit $?
prepare_output || exit $?
test_log=''  # no test pass in a performance run

run_train || exit $?
check_timed_steps || exit $?
report_results perf
