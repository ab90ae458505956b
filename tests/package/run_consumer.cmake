# Run by ctest (see CMakeLists.txt here) with cmake -P:
#   install STRIATE_BINARY_DIR into WORK_DIR/prefix, then configure, build and
#   run each project of CONSUMER_SOURCE_DIRS ("|"-separated) against that
#   prefix only. A project builds one executable named after its folder.
foreach(var STRIATE_BINARY_DIR WORK_DIR CONSUMER_SOURCE_DIRS GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(step name)
  message(STATUS "[package test] ${name}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[package test] ${name} failed (${rc})")
  endif()
endfunction()

set(config_args "")
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
step(install ${CMAKE_COMMAND} --install ${STRIATE_BINARY_DIR} --prefix ${prefix} ${config_args})

# Nothing but the fresh prefix may satisfy find_package(Striate): the build
# tree and the user package registry are switched off.
string(REPLACE "|" ";" consumer_dirs "${CONSUMER_SOURCE_DIRS}")
foreach(source_dir IN LISTS consumer_dirs)
  get_filename_component(name ${source_dir} NAME)
  set(consumer_build ${WORK_DIR}/${name})
  set(configure_args
    -S ${source_dir} -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
    -DStriate_ROOT=${prefix})
  if(CONFIG)
    list(APPEND configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
  endif()
  if(CXX_LAUNCHER)
    list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
  endif()
  step("configure ${name}" ${CMAKE_COMMAND} ${configure_args})
  step("build ${name}" ${CMAKE_COMMAND} --build ${consumer_build} ${config_args})

  find_program(consumer_exe NAMES ${name}
    PATHS ${consumer_build} ${consumer_build}/${CONFIG} NO_DEFAULT_PATH NO_CACHE)
  if(NOT consumer_exe)
    message(FATAL_ERROR "[package test] ${name}: the executable was not built")
  endif()
  step("run ${name}" ${consumer_exe} ${prefix})
  unset(consumer_exe)
endforeach()
message(STATUS "[package test] passed")
