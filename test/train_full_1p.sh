#!/bin/bash
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
