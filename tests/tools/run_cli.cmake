# Runs the striate command once and checks how it ended (cmake -P):
#   -DCLI=<path to striate>  -DARGS=<arguments separated by '|'>
#   -DEXPECT_EXIT=<status>    -DEXPECT_STDERR=<regex>  -DEXPECT_STDOUT=<regex>
#   -DWORK_DIR=<folder to run in>
# A failure (EXPECT_EXIT != 0) must be exactly ONE line on stderr.
foreach(var CLI EXPECT_EXIT WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_cli.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" args "${ARGS}")
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${CLI} ${args} WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(shown "striate ${args}\n--- exit status: ${status}\n--- stdout:\n${out}\n--- stderr:\n${err}")
if(NOT "${status}" STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "expected exit status ${EXPECT_EXIT}\n${shown}")
endif()
if(DEFINED EXPECT_STDERR AND NOT err MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}'\n${shown}")
endif()
if(DEFINED EXPECT_STDOUT AND NOT out MATCHES "${EXPECT_STDOUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_STDOUT}'\n${shown}")
endif()
if(NOT EXPECT_EXIT EQUAL 0)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(NOT lines EQUAL 1 OR NOT err MATCHES "\n$")
    message(FATAL_ERROR "expected a one-line error, got ${lines} line(s)\n${shown}")
  endif()
endif()
message(STATUS "${shown}")
