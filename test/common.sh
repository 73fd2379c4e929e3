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
# Shared by the launchers (train_{full,performance}_{1p,8p}.sh, train_full_dist.sh): the ModelZoo
# common arguments, output folders, the synthetic dataset when no data is given, one train.py
# per rank, and the ${CaseName}.log key = value report.
# A multi-rank launcher sets `multi` (npu: HCCL ranks; tf: TensorFlow workers) and RANK_SIZE
# before calling parse_launcher_args; the 1p launchers run one rank.
Network="CascadeNet_ID2121_for_TensorFlow"
multi=${multi:-}
[ -z "${multi}" ] && export RANK_SIZE=1
export RANK_ID=0
export ASCEND_DEVICE_ID=${ASCEND_DEVICE_ID:-0}

usage() {
    local extra=''
    [ "${multi}" = npu ] && extra=' [--rank_table_file=FILE]'
    [ "${multi}" = tf ] && extra=' [--workers=N]'
    echo "usage: bash test/$1${extra} [--data_path=DIR] [--output_path=DIR] [--train_epochs=N]"
    echo "       [--train_steps=N] [--batch_size=N] [--image_size=N] [--ckpt_path=DIR]"
    echo "       [--precision_mode=allow_fp32_to_fp16|force_fp16|must_keep_origin_dtype|allow_mix_precision]"
    echo "       [--over_dump=True|False] [--over_dump_path=DIR]"
    echo "       [--data_dump_flag=True|False] [--data_dump_step=0|5|10] [--data_dump_path=DIR]"
    echo "       [--profiling=True|False] [--profiling_dump_path=DIR] [--autotune=True|False]"
    echo "       [--bind_core=True|False] [--iterations_per_loop=N]"
    echo "env CASCADENET_TRAIN_ARGS: extra train.py flags, e.g. \"--model crnn --nf 16\""
    echo "dump, profiling, autotune and iterations_per_loop act on an Ascend NPU only."
    [ "${multi}" = npu ] && echo "RANK_SIZE (default 8) ranks, one per device from ASCEND_DEVICE_ID" \
        "(default 0); the HCCL rank table from --rank_table_file or RANK_TABLE_FILE."
    [ "${multi}" = tf ] && echo "--workers=N (default 2) local TensorFlow workers on 127.0.0.1" \
        "(docs/distributed.md: several machines)."
    return 0
}

# to_bool NAME VALUE: set NAME to True or False, or print one error line and return 2.
to_bool() {
    case $(printf '%s' "$2" | tr '[:upper:]' '[:lower:]') in
        true|1) printf -v "$1" True ;;
        false|0) printf -v "$1" False ;;
        *) echo "[Error] --$1 takes True or False, got '$2'"; return 2 ;;
    esac
}

parse_launcher_args() {
    kind=$1; shift
    data_path=''
    output_path=''
    batch_size=4
    precision_mode='allow_mix_precision'
    image_size=64
    image_size_given=''
    train_steps=''
    ckpt_path=''
    over_dump=False
    over_dump_path=''
    data_dump_flag=False
    data_dump_step=10
    data_dump_path=''
    profiling=False
    profiling_dump_path=''
    autotune=False
    bind_core=False
    iterations_per_loop=1
    rank_table_file=${RANK_TABLE_FILE:-}
    workers=2
    if [ "${kind}" = perf ]; then train_epochs=1000; train_steps=60; else train_epochs=25; fi
    for para in "$@"; do
        case ${para} in
            --help|-h) usage "$(basename "$0")"; return 3 ;;
            --rank_table_file=*) [ "${multi}" = npu ] || { echo "[Error] unknown argument ${para} (see --help)"; return 2; }
                rank_table_file=${para#*=} ;;
            --workers=*) [ "${multi}" = tf ] || { echo "[Error] unknown argument ${para} (see --help)"; return 2; }
                workers=${para#*=} ;;
            --data_path=*) data_path=${para#*=} ;;
            --output_path=*) output_path=${para#*=} ;;
            --train_epochs=*) train_epochs=${para#*=} ;;
            --train_steps=*) train_steps=${para#*=} ;;
            --batch_size=*) batch_size=${para#*=} ;;
            --precision_mode=*) precision_mode=${para#*=} ;;
            --image_size=*) image_size=${para#*=}; image_size_given=1 ;;
            --ckpt_path=*) ckpt_path=${para#*=} ;;
            --over_dump) over_dump=True ;;
            --over_dump=*) over_dump=${para#*=} ;;
            --over_dump_path=*) over_dump_path=${para#*=} ;;
            --data_dump_flag) data_dump_flag=True ;;
            --data_dump_flag=*) data_dump_flag=${para#*=} ;;
            --data_dump_step=*) data_dump_step=${para#*=} ;;
            --data_dump_path=*) data_dump_path=${para#*=} ;;
            --profiling) profiling=True ;;
            --profiling=*) profiling=${para#*=} ;;
            --profiling_dump_path=*) profiling_dump_path=${para#*=} ;;
            --autotune) autotune=True ;;
            --autotune=*) autotune=${para#*=} ;;
            --bind_core) bind_core=True ;;
            --bind_core=*) bind_core=${para#*=} ;;
            --iterations_per_loop=*) iterations_per_loop=${para#*=} ;;
            *) echo "[Error] unknown argument ${para} (see --help)"; return 2 ;;
        esac
    done
    case ${precision_mode} in
        allow_fp32_to_fp16|force_fp16|must_keep_origin_dtype|allow_mix_precision) ;;
        *) echo "[Error] unknown --precision_mode=${precision_mode}"; return 2 ;;
    esac
    local counts=("${train_epochs}" "${batch_size}" "${image_size}" "${iterations_per_loop}"
                  "${workers}" ${train_steps})
    [ "${multi}" = npu ] && counts+=("${RANK_SIZE}")
    for v in "${counts[@]}"; do
        case ${v} in ''|*[!0-9]*|0) echo "[Error] expected a positive integer, got '${v}'"; return 2 ;; esac
    done
    for b in over_dump data_dump_flag profiling autotune bind_core; do
        to_bool "${b}" "${!b}" || return 2
    done
    if [ "${over_dump}" = True ] && [ "${data_dump_flag}" = True ]; then
        echo "[Error] --over_dump and --data_dump_flag exclude each other"; return 2
    fi
    if ! [[ ${data_dump_step} =~ ^[0-9]+(-[0-9]+)?(\|[0-9]+(-[0-9]+)?)*$ ]]; then
        echo "[Error] --data_dump_step takes iterations as 0|5|10 or 0|3-5, got '${data_dump_step}'"
        return 2
    fi
    if [ -n "${ckpt_path}" ] && [ ! -e "${ckpt_path}" ] && [ ! -e "${ckpt_path}.index" ]; then
        echo "[Error] --ckpt_path=${ckpt_path}: no such folder or checkpoint"; return 2
    fi
    if [ "${multi}" = npu ]; then
        if [ -z "${rank_table_file}" ]; then
            echo "[Error] no HCCL rank table: give --rank_table_file=FILE or RANK_TABLE_FILE"; return 2
        elif [ ! -f "${rank_table_file}" ]; then
            echo "[Error] rank table ${rank_table_file}: no such file"; return 2
        fi
        RANK_TABLE_FILE=$(cd "$(dirname "${rank_table_file}")" && pwd)/$(basename "${rank_table_file}")
        export RANK_TABLE_FILE
        # without the TF Adapter each rank would train alone on its own copy of the data
        if ! python3 -c "import npu_bridge" >/dev/null 2>&1; then
            echo "[Error] no npu_bridge (Ascend TF Adapter) here: the ${RANK_SIZE} HCCL ranks of" \
                "$(basename "$0") need Ascend; on CPU/GPU use test/train_full_dist.sh"
            return 2
        fi
    fi
    [ "${multi}" = tf ] && export RANK_SIZE=${workers}
    export RANK_SIZE
    if [ "${bind_core}" = True ] && ! command -v taskset >/dev/null 2>&1; then
        echo "[Error] --bind_core needs taskset (util-linux)"; return 2
    fi
    # train.py arguments beyond the basic ones, as an array (paths may hold spaces)
    extra_train_args=(--iterations_per_loop "${iterations_per_loop}")
    [ -n "${train_steps}" ] && extra_train_args+=(--train_steps "${train_steps}")
    [ -n "${ckpt_path}" ] && extra_train_args+=(--init_checkpoint "${ckpt_path}")
    # a given size is checked against the data by train.py (the default only sizes the
    # synthetic set)
    [ -n "${image_size_given}" ] && extra_train_args+=(--image_size "${image_size}")
    if [ -n "${data_path}" ] && [ ! -d "${data_path}" ]; then
        echo "[Error] --data_path=${data_path}: no such folder"; return 2
    fi
    return 0
}

# dump_args: the train.py arguments of the dump, profiling and autotune options, once
# prepare_output has chosen the folders (created here: the TF Adapter wants them to exist).
dump_args() {
    if [ "${over_dump}" = True ]; then
        over_dump_path=${over_dump_path:-${out_dir}/overflow_dump}
        mkdir -p "${over_dump_path}" || return 2
        extra_train_args+=(--over_dump True --over_dump_path "${over_dump_path}")
    fi
    if [ "${data_dump_flag}" = True ]; then
        data_dump_path=${data_dump_path:-${out_dir}/data_dump}
        mkdir -p "${data_dump_path}" || return 2
        extra_train_args+=(--data_dump_flag True --data_dump_step "${data_dump_step}"
                           --data_dump_path "${data_dump_path}")
    fi
    if [ "${profiling}" = True ]; then
        profiling_dump_path=${profiling_dump_path:-${out_dir}/profiling}
        mkdir -p "${profiling_dump_path}" || return 2
        extra_train_args+=(--profiling True --profiling_dump_path "${profiling_dump_path}")
    fi
    if [ "${autotune}" = True ]; then
        # the Auto Tune knowledge bank: kept beside the per-device folders, so a later run
        # (whose folder moves this one aside) still finds it
        export TUNE_BANK_PATH=${TUNE_BANK_PATH:-${output_root}/autotune_bank}
        mkdir -p "${TUNE_BANK_PATH}" || return 2
        extra_train_args+=(--autotune True)
    fi
    return 0
}

# rank_output: this device's folder test/output/${ASCEND_DEVICE_ID} (a previous one moved
# aside) and train log.
rank_output() {
    out_dir=${output_root}/${ASCEND_DEVICE_ID}
    if [ -e "${out_dir}" ]; then
        backup=${out_dir}.$(date +%Y%m%d-%H%M%S)
        mv "${out_dir}" "${backup}" && echo "previous output moved to ${backup}"
    fi
    mkdir -p "${out_dir}"
    train_log=${out_dir}/train_${ASCEND_DEVICE_ID}.log
}

prepare_output() {
    start_time=$(date +%s)
    # CASCADENET_OUTPUT_ROOT / CASCADENET_DATA_ROOT move outputs and the synthetic data
    # elsewhere (the test suite uses them to keep the checkout clean).
    output_root=${CASCADENET_OUTPUT_ROOT:-${cur_path}/test/output}
    if [ -n "${output_path}" ] && [ -e "${output_path}" ] && [ -n "$(ls -A "${output_path}")" ]; then
        echo "[Error] --output_path=${output_path} is not empty; choose a new folder"; return 2
    fi
    rank_output
    # rank 0's checkpoint folder is the run's (several ranks: rank 0 alone writes it)
    ckpt_dir=${output_path:-${out_dir}/ckpt}
    test_log=${out_dir}/test_${ASCEND_DEVICE_ID}.log
    if [ -z "${data_path}" ]; then
        data_path=${CASCADENET_DATA_ROOT:-${cur_path}/data}/synthetic${image_size}
        if ! ls "${data_path}"/*train*.hdf5 >/dev/null 2>&1; then
            echo "no --data_path: building the synthetic dataset in ${data_path}"
            python3 "${cur_path}/make_h5data.py" --synthetic 200 --image_size "${image_size}" \
                --output_dir "${data_path}" || return 2
        fi
    fi
    dump_args || return 2
    echo "Device ID: ${ASCEND_DEVICE_ID}, data: ${data_path}, checkpoints: ${ckpt_dir}"
    echo "train log: ${train_log}"
    return 0
}

# bind_prefix: with --bind_core, taskset to this rank's share of the cores the launcher may
# use (ModelZoo: cores RANK_ID*n/RANK_SIZE .. (RANK_ID+1)*n/RANK_SIZE-1 of n; here of the n
# cores in this process's affinity, which a container may restrict).
bind_prefix=()
set_bind_prefix() {
    bind_prefix=()
    name_bind=''
    if [ "${bind_core}" = True ]; then
        local cores
        cores=$(python3 -c "import os; c = sorted(os.sched_getaffinity(0)); n = len(c); \
print(','.join(str(x) for x in c[${RANK_ID} * n // ${RANK_SIZE}:(${RANK_ID} + 1) * n // ${RANK_SIZE}]))")
        bind_prefix=(taskset -c "${cores}")
        name_bind=_bindcore
        echo "bind_core: ${bind_prefix[*]}"
    fi
}

# train_rank: run train.py for this rank (RANK_ID), output in ${train_log}.
train_rank() {
    set_bind_prefix
    # CASCADENET_TRAIN_ARGS: further train.py flags (split on spaces), e.g. the model
    # (--model crnn) on a dynamic --data_path; the ModelZoo flags above stay as they are.
    # shellcheck disable=SC2086
    "${bind_prefix[@]}" python3 "${cur_path}/train.py" --data_url "${data_path}" \
        --batch_size "${batch_size}" --num_epoch "${train_epochs}" \
        --precision_mode "${precision_mode}" --save_ckpt_Dir "${ckpt_dir}" \
        "${extra_train_args[@]}" ${CASCADENET_TRAIN_ARGS} > "${train_log}" 2>&1
}

# local_workers N: N "127.0.0.1:port" addresses, comma-separated, each port free now (chosen by
# the system; a TF server binds it a few seconds later).
local_workers() {
    python3 -c "import socket; s = [socket.socket() for _ in range($1)]; \
[x.bind(('127.0.0.1', 0)) for x in s]; \
print(', '.join('\"127.0.0.1:%d\"' % x.getsockname()[1] for x in s))"
}

# run_ranks: one train.py per rank, in the background, then wait for all. Rank r runs with
# RANK_ID=r and ASCEND_DEVICE_ID = the first device + r, in test/output/${ASCEND_DEVICE_ID};
# multi=tf gives each its TF_CONFIG (workers on 127.0.0.1, free ports). Rank 0's folder and
# log stay current afterwards.
run_ranks() {
    local first=${ASCEND_DEVICE_ID} rank_dir0=${out_dir} log0=${train_log} r pids=() logs=()
    local workers_json=''
    if [ "${multi}" = tf ]; then
        workers_json=$(local_workers "${RANK_SIZE}")
        echo "workers: ${workers_json}"
    fi
    for ((r = 0; r < RANK_SIZE; r++)); do
        export RANK_ID=${r} ASCEND_DEVICE_ID=$((first + r))
        [ "${r}" -gt 0 ] && rank_output
        [ "${multi}" = tf ] && export TF_CONFIG="{\"cluster\": {\"worker\": [${workers_json}]}, \"task\": {\"type\": \"worker\", \"index\": ${r}}}"
        train_rank &
        pids+=($!)
        logs+=("${train_log}")
        echo "rank ${r}: device ${ASCEND_DEVICE_ID}, pid $!, log ${train_log}"
    done
    unset TF_CONFIG
    rank_logs=("${logs[@]}")
    local rc=0 this
    for ((r = 0; r < RANK_SIZE; r++)); do
        wait "${pids[r]}"; this=$?
        if [ ${this} -ne 0 ]; then
            tail -n 3 "${logs[r]}"
            echo "[Error] train.py rank ${r} failed (exit ${this}), log: ${logs[r]}"
            rc=${this}
        fi
    done
    export RANK_ID=0 ASCEND_DEVICE_ID=${first}
    out_dir=${rank_dir0}
    train_log=${log0}
    return ${rc}
}

# run_test: test.py on the test set with the checkpoint of this run (panels and report.html);
# its log is ${test_log}. Returns test.py's exit code after one [Error] line on failure.
run_test() {
    python3 "${cur_path}/test.py" --data_url "${data_path}" --batch_size "${batch_size}" \
        --save_ckpt_Dir "${ckpt_dir}" --plot --report > "${test_log}" 2>&1
    local rc=$?
    if [ ${rc} -ne 0 ]; then
        tail -n 3 "${test_log}"; echo "[Error] test.py failed (exit ${rc}), log: ${test_log}"
        return ${rc}
    fi
    echo "test report: ${ckpt_dir}/test_results/report.html"
}

# check_timed_steps: a performance run must have timed steps past train.py's warm-up.
check_timed_steps() {
    if ! grep -q '^\[done\] .*images/sec=[0-9]' "${train_log}"; then
        echo "[Error] no timed steps in ${train_log}: raise --train_steps above the warm-up steps"
        return 2
    fi
}

run_train() {
    local rc
    if [ -n "${multi}" ]; then
        run_ranks; rc=$?
    else
        rank_logs=("${train_log}")
        train_rank; rc=$?
        if [ ${rc} -ne 0 ]; then
            tail -n 3 "${train_log}"; echo "[Error] train.py failed (exit ${rc}), log: ${train_log}"
        fi
    fi
    [ -f "${ckpt_dir}/training_curves.png" ] && echo "training curves: ${ckpt_dir}/training_curves.png"
    return ${rc}
}

report_results() {
    suffix=$1
    end_time=$(date +%s)
    e2e_time=$((end_time - start_time))
    figures=$(python3 -m models.logparse "${train_log}" ${test_log:+$( [ -f "${test_log}" ] && echo "${test_log}")})
    get() { echo "${figures}" | awk -F' = ' -v k="$1" '$1 == k {print $2}'; }
    BatchSize=${batch_size}
    DeviceType=$(uname -m)
    CaseName=${Network}${name_bind}_bs${BatchSize}_${RANK_SIZE}p_${suffix}
    ActualFPS=$(get ActualFPS)
    if [ "${RANK_SIZE}" -gt 1 ]; then
        # the total: the sum over ranks of each rank's images/sec (per-rank batch / its step
        # time); ms/step stays rank 0's
        local fps_each=() l
        for l in "${rank_logs[@]}"; do
            fps_each+=("$(python3 -m models.logparse "${l}" | awk -F' = ' '$1 == "ActualFPS" {print $2}')")
        done
        ActualFPS=$(printf '%s\n' "${fps_each[@]}" | awk '{s += $1} END {printf "%.2f", s}')
        echo "images/sec per rank: ${fps_each[*]} (ActualFPS: their sum)"
    fi
    # ms per step, the unit the other ModelZoo models report (BatchSize*1000/FPS there)
    TrainingTime=$(get StepTime)
    [ -n "${TrainingTime}" ] && TrainingTime=$(awk -v t="${TrainingTime}" 'BEGIN {printf "%.2f", t * 1000}')
    TrainAccuracy=$(get TrainAccuracy)
    loss_file=${out_dir}/train_${CaseName}_loss.txt
    python3 -m models.logparse --losses "${train_log}" > "${loss_file}"
    ActualLoss=$(awk 'END {print}' "${loss_file}")
    echo "------------------ Final result ------------------"
    echo "Final Performance images/sec : ${ActualFPS}"
    echo "Final Performance ms/step : ${TrainingTime}"
    [ -n "${TrainAccuracy}" ] && echo "Final Train Accuracy (RE PSNR) : ${TrainAccuracy}" \
        && grep -E "^Avg (PSNR|SSIM)" "${test_log}"
    echo "E2E Training Duration sec : ${e2e_time}"
    log=${out_dir}/${CaseName}.log
    {
        echo "Network = ${Network}"
        echo "RankSize = ${RANK_SIZE}"
        echo "BatchSize = ${BatchSize}"
        echo "DeviceType = ${DeviceType}"
        echo "CaseName = ${CaseName}"
        echo "ActualFPS = ${ActualFPS}"
        echo "TrainingTime = ${TrainingTime}"
        [ -n "${TrainAccuracy}" ] && echo "TrainAccuracy = ${TrainAccuracy}"
        echo "ActualLoss = ${ActualLoss}"
        echo "E2ETrainingTime = ${e2e_time}"
    } > "${log}"
    echo "key = value report: ${log}, losses: ${loss_file}"
}
