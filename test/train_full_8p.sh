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
# Full training + test run on 8 Ascend devices, data-parallel with HCCL (ModelZoo 8p launcher
# convention): one train.py per device, RANK_ID 0..RANK_SIZE-1 on ASCEND_DEVICE_ID first..first+7.
#   bash test/train_full_8p.sh --rank_table_file=FILE [--data_path=DIR] [--batch_size=N] ...
#        (the arguments of train_full_1p.sh; --help lists all)
# RANK_SIZE (default 8) ranks; the HCCL rank table from --rank_table_file or RANK_TABLE_FILE.
# --batch_size is per device: the global batch is batch_size x RANK_SIZE (docs/distributed.md).
# Logs: test/output/${ASCEND_DEVICE_ID}/train_${ASCEND_DEVICE_ID}.log per rank; rank 0 writes
# the checkpoints and ${CaseName}.log, whose ActualFPS is the sum of the ranks' images/sec.
cur_path=$(cd "$(dirname "$0")/.." && pwd)
cd "${cur_path}" || exit 2
export RANK_SIZE=${RANK_SIZE:-8}
export JOB_ID=${JOB_ID:-10087}  # the HCCL job id the TF Adapter reads (ModelZoo default)
multi=npu
source "${cur_path}/test/common.sh"
parse_launcher_args full "$@" || exit $?
prepare_output || exit $?

run_train || exit $?
run_test || exit $?
report_results acc
