# ctest cases for the striate command (included from tools/CMakeLists.txt):
# bad requests end in one line on stderr and a non-zero status, the
# subcommands work end to end on the synthetic `fake` dataset, and a resumed
# run is bit-identical to an uninterrupted one.
set(_cli_work ${CMAKE_CURRENT_BINARY_DIR}/cli_test_runs)

# striate_cli_test(<name> <exit status> <stderr regex> <args...>)
function(striate_cli_test name status stderr_regex)
  list(JOIN ARGN "|" joined)
  add_test(NAME tools.cli.${name}
    COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli> "-DARGS=${joined}" -DEXPECT_EXIT=${status}
      "-DEXPECT_STDERR=${stderr_regex}" -DWORK_DIR=${_cli_work}/${name}
      -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
  set_tests_properties(tools.cli.${name} PROPERTIES LABELS "tools" TIMEOUT 300)
  if(STRIATE_TEST_ENVIRONMENT)
    set_tests_properties(tools.cli.${name} PROPERTIES ENVIRONMENT "${STRIATE_TEST_ENVIRONMENT}")
  endif()
endfunction()

# Usage errors: status 2.
striate_cli_test(no_command 2 "subcommand is required")
striate_cli_test(unknown_command 2 "unknown command 'fly'" fly)
striate_cli_test(unknown_option 2 "not expected: --bogus" train --bogus)
striate_cli_test(negative_lr 2 "--lr: must be a positive number, got -1" train --lr -1)
striate_cli_test(zero_lr 2 "--lr: must be a positive number" train --lr 0)
striate_cli_test(not_a_number 2 "Could not convert: --lr = fast" train --lr fast)
striate_cli_test(batch_size_zero 2 "--batch-size: must be at least 1, got 0" train --batch-size 0)
striate_cli_test(epochs_zero 2 "--epochs: must be at least 1" train --epochs 0)
striate_cli_test(bad_momentum 2 "--momentum: must be in" train --optimizer sgd --momentum 1.5)
striate_cli_test(unknown_model 2 "--model: unknown model 'lenet7'" train --model lenet7)
striate_cli_test(unknown_dataset 2 "--dataset: unknown dataset 'imagenet22k'" train --dataset imagenet22k)
striate_cli_test(unknown_optimizer 2 "--optimizer: expected sgd, adam or adamw" train --optimizer rmsprop)
striate_cli_test(unknown_scheduler 2 "--scheduler: expected none, step, cosine or onecycle" train --scheduler warm)
striate_cli_test(unknown_device 2 "--device: expected cpu or cuda, got 'tpu'" train --device tpu)
striate_cli_test(eval_needs_checkpoint 2 "--checkpoint is required" eval)
striate_cli_test(summary_bad_input 2 "--input: expected positive sizes" summary --model resnet50 --input 3x0x224)
striate_cli_test(summary_unknown_model 2 "unknown model 'resnet51'" summary --model resnet51)
# Requests that cannot be carried out: status 1.
# No machine has 999 GPUs: refused here for want of a GPU (or of a CUDA build), there for the index.
striate_cli_test(cuda_device_missing 1 "--device cuda:999: (this build|no CUDA GPU|this machine has)" train --device cuda:999 --dataset fake)
striate_cli_test(cuda_bad_index 2 "--device: expected cuda:<index>, got 'cuda:x'" train --device cuda:x --dataset fake)
striate_cli_test(missing_data 1 "train-images-idx3-ubyte" train --dataset mnist --data-root does/not/exist)
striate_cli_test(missing_checkpoint 1 "no such file: nothing.safetensors" eval --checkpoint nothing.safetensors --dataset fake)
striate_cli_test(resume_without_checkpoint 1 "no checkpoint to resume" train --resume --out runs/none)

# Working commands.
striate_cli_test(help 0 "" --help)
striate_cli_test(summary_resnet50 0 "" summary --model resnet50 --input 3x224x224)
striate_cli_test(summary_lenet5 0 "" summary --model lenet5)
striate_cli_test(train_deterministic 0 "" train --dataset fake --limit 64 --epochs 1 --deterministic --out run --force)
set_tests_properties(tools.cli.summary_resnet50 PROPERTIES PASS_REGULAR_EXPRESSION "25,557,032")
set_tests_properties(tools.cli.summary_lenet5 PROPERTIES PASS_REGULAR_EXPRESSION "61,706")

# Train on the synthetic dataset, then evaluate its checkpoint and its weights.
set(_fake_run ${_cli_work}/fake_run)
add_test(NAME tools.cli.train_fake
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli>
    "-DARGS=train|--dataset|fake|--epochs|2|--batch-size|32|--seed|1|--out|run|--force"
    -DEXPECT_EXIT=0 "-DEXPECT_STDOUT=done: lenet5 on fake, 2 epochs" -DWORK_DIR=${_fake_run}
    -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
add_test(NAME tools.cli.eval_fake_checkpoint
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli>
    "-DARGS=eval|--dataset|fake|--checkpoint|run/checkpoint.safetensors"
    -DEXPECT_EXIT=0 "-DEXPECT_STDOUT=lenet5 on fake test \\(256 images\\)" -DWORK_DIR=${_fake_run}
    -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
add_test(NAME tools.cli.eval_fake_weights
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli>
    "-DARGS=eval|--dataset|fake|--checkpoint|run/model.safetensors"
    -DEXPECT_EXIT=0 "-DEXPECT_STDOUT=accuracy" -DWORK_DIR=${_fake_run}
    -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
add_test(NAME tools.cli.train_refuses_to_overwrite
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli> "-DARGS=train|--dataset|fake|--out|run"
    -DEXPECT_EXIT=2 "-DEXPECT_STDERR=already holds a run" -DWORK_DIR=${_fake_run}
    -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
add_test(NAME tools.cli.resume_must_keep_settings
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli> "-DARGS=train|--resume|--out|run|--lr|0.5"
    -DEXPECT_EXIT=2 "-DEXPECT_STDERR=--lr 0.5 differs from the run being resumed \\(0.001\\)" -DWORK_DIR=${_fake_run}
    -P ${PROJECT_SOURCE_DIR}/tests/tools/run_cli.cmake)
set_tests_properties(tools.cli.train_fake PROPERTIES FIXTURES_SETUP striate_fake_run)
set_tests_properties(tools.cli.eval_fake_checkpoint tools.cli.eval_fake_weights tools.cli.train_refuses_to_overwrite
  tools.cli.resume_must_keep_settings PROPERTIES FIXTURES_REQUIRED striate_fake_run)

# Exact resumption, with a plain model and with dropout, batch norm,
# augmentation, momentum and a step schedule.
add_test(NAME tools.cli.resume_is_exact_lenet5
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli> -DWORK_DIR=${_cli_work}/resume_lenet5
    "-DTRAIN_ARGS=--dataset|fake|--limit|256|--batch-size|32|--seed|7"
    -P ${PROJECT_SOURCE_DIR}/tests/tools/check_resume.cmake)
add_test(NAME tools.cli.resume_is_exact_small_vgg
  COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:striate_cli> -DWORK_DIR=${_cli_work}/resume_small_vgg
    "-DTRAIN_ARGS=--model|small-vgg|--dataset|fake|--limit|96|--batch-size|16|--augment|--optimizer|sgd|--lr|0.05|--scheduler|step|--lr-step|1|--seed|3"
    -P ${PROJECT_SOURCE_DIR}/tests/tools/check_resume.cmake)

set(_all_cli_tests tools.cli.train_fake tools.cli.eval_fake_checkpoint tools.cli.eval_fake_weights
  tools.cli.train_refuses_to_overwrite tools.cli.resume_must_keep_settings tools.cli.resume_is_exact_lenet5
  tools.cli.resume_is_exact_small_vgg)
set_tests_properties(${_all_cli_tests} PROPERTIES LABELS "tools" TIMEOUT 600)
if(STRIATE_TEST_ENVIRONMENT)
  set_tests_properties(${_all_cli_tests} PROPERTIES ENVIRONMENT "${STRIATE_TEST_ENVIRONMENT}")
endif()
