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
# Full training + test run with N TensorFlow workers on this machine (CPU/GPU), data-parallel
# with TensorFlow's collective all-reduce: each worker gets a TF_CONFIG naming all of them on
# 127.0.0.1 (free ports) and its own index (docs/distributed.md: the same over several machines).
#   bash test/train_full_dist.sh --workers N [--data_path=DIR] [--batch_size=N] ...
#        (the arguments of train_full_1p.sh; --help lists all)
# --batch_size is per worker: the global batch is batch_size x N. Logs:
# test/output/<rank>/train_<rank>.log; worker 0 writes the checkpoints and ${CaseName}.log,
# whose ActualFPS is the sum of the workers' images/sec.
cur_path=$(cd "$(dirname "$0")/.." && pwd)
cd "${cur_path}" || exit 2
multi=tf
args=()
while [ $# -gt 0 ]; do  # --workers N as well as --workers=N
    if [ "$1" = --workers ] && [ $# -gt 1 ]; then args+=("--workers=$2"); shift 2
    else args+=("$1"); shift; fi
done
source "${cur_path}/test/common.sh"
parse_launcher_args full "${args[@]}" || exit $?
prepare_output || exit $?

run_train || exit $?
run_test || exit $?
report_results acc
