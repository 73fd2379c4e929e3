# Shared by train_full_1p.sh and train_performance_1p.sh: argument parsing, output folders,
# the synthetic dataset when no data is given, and the ${CaseName}.log key = value report.
Network="CascadeNet_ID2121_for_TensorFlow"
export RANK_SIZE=1
export ASCEND_DEVICE_ID=${ASCEND_DEVICE_ID:-0}

usage() {
    echo "usage: bash test/$1 [--data_path=DIR] [--output_path=DIR] [--train_epochs=N]"
    echo "       [--batch_size=N] [--precision_mode=allow_fp32_to_fp16|force_fp16|must_keep_origin_dtype|allow_mix_precision]"
    echo "       [--image_size=N] [--train_steps=N]"
    echo "env CASCADENET_TRAIN_ARGS: extra train.py flags, e.g. \"--model crnn --nf 16\""
}

parse_launcher_args() {
    kind=$1; shift
    data_path=''
    output_path=''
    batch_size=4
    precision_mode='allow_mix_precision'
    image_size=64
    train_steps=''
    if [ "${kind}" = perf ]; then train_epochs=1000; train_steps=60; else train_epochs=25; fi
    for para in "$@"; do
        case ${para} in
            --help|-h) usage "train_${kind}_1p.sh"; return 3 ;;
            --data_path=*) data_path=${para#*=} ;;
            --output_path=*) output_path=${para#*=} ;;
            --train_epochs=*) train_epochs=${para#*=} ;;
            --batch_size=*) batch_size=${para#*=} ;;
            --precision_mode=*) precision_mode=${para#*=} ;;
            --image_size=*) image_size=${para#*=} ;;
            --train_steps=*) train_steps=${para#*=} ;;
            *) echo "[Error] unknown argument ${para}"; usage "train_${kind}_1p.sh"; return 2 ;;
        esac
    done
    case ${precision_mode} in
        allow_fp32_to_fp16|force_fp16|must_keep_origin_dtype|allow_mix_precision) ;;
        *) echo "[Error] unknown --precision_mode=${precision_mode}"; return 2 ;;
    esac
    for v in "${train_epochs}" "${batch_size}" "${image_size}" ${train_steps}; do
        case ${v} in ''|*[!0-9]*|0) echo "[Error] expected a positive integer, got '${v}'"; return 2 ;; esac
    done
    extra_train_args=''
    [ -n "${train_steps}" ] && extra_train_args="--train_steps ${train_steps}"
    return 0
}

prepare_output() {
    start_time=$(date +%s)
    # CASCADENET_OUTPUT_ROOT / CASCADENET_DATA_ROOT move outputs and the synthetic data
    # elsewhere (the test suite uses them to keep the checkout clean).
    out_dir=${CASCADENET_OUTPUT_ROOT:-${cur_path}/test/output}/${ASCEND_DEVICE_ID}
    if [ -e "${out_dir}" ]; then
        backup=${out_dir}.$(date +%Y%m%d-%H%M%S)
        mv "${out_dir}" "${backup}" && echo "previous output moved to ${backup}"
    fi
    mkdir -p "${out_dir}"
    ckpt_path=${output_path:-${out_dir}/ckpt}
    if [ -n "${output_path}" ] && [ -e "${output_path}" ] && [ -n "$(ls -A "${output_path}")" ]; then
        echo "[Error] --output_path=${output_path} is not empty; choose a new folder"; return 2
    fi
    train_log=${out_dir}/train_${ASCEND_DEVICE_ID}.log
    test_log=${out_dir}/test_${ASCEND_DEVICE_ID}.log
    if [ -z "${data_path}" ]; then
        data_path=${CASCADENET_DATA_ROOT:-${cur_path}/data}/synthetic${image_size}
        if ! ls "${data_path}"/*train*.hdf5 >/dev/null 2>&1; then
            echo "no --data_path: building the synthetic dataset in ${data_path}"
            python3 "${cur_path}/make_h5data.py" --synthetic 200 --image_size "${image_size}" \
                --output_dir "${data_path}" || return 2
        fi
    elif [ ! -d "${data_path}" ]; then
        echo "[Error] --data_path=${data_path}: no such folder"; return 2
    fi
    echo "Device ID: ${ASCEND_DEVICE_ID}, data: ${data_path}, checkpoints: ${ckpt_path}"
    echo "train log: ${train_log}"
    return 0
}

run_train() {
    # CASCADENET_TRAIN_ARGS: further train.py flags (split on spaces), e.g. the model
    # (--model crnn) on a dynamic --data_path; the ModelZoo flags above stay as they are.
    python3 "${cur_path}/train.py" --data_url "${data_path}" --batch_size "${batch_size}" \
        --num_epoch "${train_epochs}" --precision_mode "${precision_mode}" \
        --save_ckpt_Dir "${ckpt_path}" ${extra_train_args} ${CASCADENET_TRAIN_ARGS} \
        > "${train_log}" 2>&1
    local rc=$?
    if [ ${rc} -ne 0 ]; then
        tail -n 3 "${train_log}"; echo "[Error] train.py failed (exit ${rc}), log: ${train_log}"
    fi
    return ${rc}
}

report_results() {
    suffix=$1
    end_time=$(date +%s)
    e2e_time=$((end_time - start_time))
    figures=$(python3 -m models.logparse "${train_log}" ${test_log:+$( [ -f "${test_log}" ] && echo "${test_log}")})
    get() { echo "${figures}" | awk -F' = ' -v k="$1" '$1 == k {print $2}'; }
    ActualFPS=$(get ActualFPS)
    TrainingTime=$(get StepTime)
    ActualLoss=$(get ActualLoss)
    TrainAccuracy=$(get TrainAccuracy)
    BatchSize=${batch_size}
    DeviceType=$(uname -m)
    CaseName=${Network}_bs${BatchSize}_${RANK_SIZE}p_${suffix}
    echo "------------------ Final result ------------------"
    echo "Final Performance images/sec : ${ActualFPS}"
    echo "Final Performance sec/step : ${TrainingTime}"
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
    echo "key = value report: ${log}"
}
