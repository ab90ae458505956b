# Resuming is exact (cmake -P): a run of 2 epochs straight and a run of
# 1 epoch, then --resume to 2 epochs, must end with bit-identical weights.
# The two runs also use different numbers of data-loading threads, which
# must not matter either.
#   -DCLI=<path to striate> -DWORK_DIR=<scratch folder> -DTRAIN_ARGS=<'|'-separated>
foreach(var CLI WORK_DIR TRAIN_ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_resume.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" train_args "${TRAIN_ARGS}")
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_striate)
  execute_process(COMMAND ${CLI} ${ARGN} WORKING_DIRECTORY ${WORK_DIR}
    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "striate ${ARGN}\n${out}${err}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "striate ${ARGN} failed (${status})")
  endif()
endfunction()

run_striate(train ${train_args} --epochs 2 --workers 0 --out straight)
run_striate(train ${train_args} --epochs 1 --workers 2 --out split)
run_striate(train --resume --epochs 2 --out split)

execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
  ${WORK_DIR}/straight/model.safetensors ${WORK_DIR}/split/model.safetensors RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "the resumed run's weights differ from the uninterrupted run's")
endif()
file(READ ${WORK_DIR}/straight/metrics.csv straight_metrics)
file(READ ${WORK_DIR}/split/metrics.csv split_metrics)
# Losses and accuracies agree; timings (columns 7-9) naturally do not.
string(REGEX REPLACE ",[0-9.]+,[0-9.]+,[0-9.]+\n" "\n" straight_metrics "${straight_metrics}")
string(REGEX REPLACE ",[0-9.]+,[0-9.]+,[0-9.]+\n" "\n" split_metrics "${split_metrics}")
if(NOT straight_metrics STREQUAL split_metrics)
  message(FATAL_ERROR "metrics differ:\n${straight_metrics}\nvs\n${split_metrics}")
endif()
message(STATUS "resume is exact: identical weights and metrics")
