# FindCUDNN
# ---------
# Finds NVIDIA cuDNN. Looks, in order, in CUDNN_ROOT (variable or environment),
# the CUDA toolkit (CUDAToolkit_ROOT, /usr/local/cuda), the nvidia/cudnn folder
# of Python's site-packages (pip's nvidia-cudnn-cu* wheels, which ship only
# versioned libcudnn.so.N), then the system paths.
#
# Header and library are taken from the same place, so that a toolkit's
# headers never pair with a wheel's library.
#
# Result: CUDNN_FOUND, CUDNN_VERSION, CUDNN_INCLUDE_DIR, CUDNN_LIBRARY,
# CUDNN_ORIGIN (a word for the configure summary) and the imported target
# Striate::cudnn.
include(FindPackageHandleStandardArgs)
include(${CMAKE_CURRENT_LIST_DIR}/StriatePythonSitePackages.cmake)

set(_cudnn_lib_names cudnn libcudnn.so.9)
set(_cudnn_lib_suffixes lib64 lib lib/x64 lib/x86_64-linux-gnu targets/x86_64-linux/lib targets/sbsa-linux/lib)

if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
  set(_cudnn_toolkit_roots ${CUDNN_ROOT} $ENV{CUDNN_ROOT} $ENV{CUDNN_HOME} ${CUDAToolkit_LIBRARY_ROOT}
    ${CUDAToolkit_ROOT} $ENV{CUDA_HOME} $ENV{CUDA_PATH} /usr/local/cuda)
  if(CUDAToolkit_BIN_DIR)
    get_filename_component(_cudnn_bin_parent "${CUDAToolkit_BIN_DIR}" DIRECTORY)
    list(APPEND _cudnn_toolkit_roots "${_cudnn_bin_parent}")
  endif()
  striate_nvidia_wheel_roots(_cudnn_wheel_roots cudnn)

  foreach(_cudnn_root IN LISTS _cudnn_toolkit_roots _cudnn_wheel_roots)
    if(NOT IS_DIRECTORY "${_cudnn_root}")
      continue()
    endif()
    find_path(_cudnn_inc NAMES cudnn_version.h cudnn.h PATHS "${_cudnn_root}"
      PATH_SUFFIXES include NO_DEFAULT_PATH NO_CACHE)
    find_library(_cudnn_lib NAMES ${_cudnn_lib_names} PATHS "${_cudnn_root}"
      PATH_SUFFIXES ${_cudnn_lib_suffixes} NO_DEFAULT_PATH NO_CACHE)
    if(_cudnn_inc AND _cudnn_lib)
      set(CUDNN_INCLUDE_DIR "${_cudnn_inc}" CACHE PATH "cuDNN headers")
      set(CUDNN_LIBRARY "${_cudnn_lib}" CACHE FILEPATH "cuDNN library")
      break()
    endif()
    unset(_cudnn_inc)
    unset(_cudnn_lib)
  endforeach()
  unset(_cudnn_inc)
  unset(_cudnn_lib)
endif()

# Distribution packages (Debian's nvidia-cudnn, NVIDIA's repository) put it in
# the usual system folders.
find_path(CUDNN_INCLUDE_DIR NAMES cudnn_version.h cudnn.h PATH_SUFFIXES cudnn)
find_library(CUDNN_LIBRARY NAMES ${_cudnn_lib_names})
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)

set(CUDNN_VERSION "")
foreach(_cudnn_header cudnn_version.h cudnn.h)
  if(CUDNN_INCLUDE_DIR AND EXISTS "${CUDNN_INCLUDE_DIR}/${_cudnn_header}")
    file(STRINGS "${CUDNN_INCLUDE_DIR}/${_cudnn_header}" _cudnn_defines
      REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
    if(_cudnn_defines)
      foreach(_part MAJOR MINOR PATCHLEVEL)
        string(REGEX MATCH "CUDNN_${_part} +([0-9]+)" _m "${_cudnn_defines}")
        set(_cudnn_${_part} "${CMAKE_MATCH_1}")
      endforeach()
      set(CUDNN_VERSION "${_cudnn_MAJOR}.${_cudnn_MINOR}.${_cudnn_PATCHLEVEL}")
      break()
    endif()
  endif()
endforeach()

find_package_handle_standard_args(CUDNN
  REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
  VERSION_VAR CUDNN_VERSION)

if(CUDNN_FOUND)
  get_filename_component(_cudnn_real "${CUDNN_LIBRARY}" REALPATH)
  set(_cudnn_toolkit_real "")
  foreach(_root ${CUDAToolkit_LIBRARY_ROOT} /usr/local/cuda)
    get_filename_component(_root_real "${_root}" REALPATH)
    list(APPEND _cudnn_toolkit_real "${_root_real}/")
  endforeach()
  set(CUDNN_ORIGIN "system")
  if(CUDNN_LIBRARY MATCHES "/nvidia/cudnn/")
    set(CUDNN_ORIGIN "Python wheel")
  else()
    foreach(_root IN LISTS _cudnn_toolkit_real)
      string(FIND "${_cudnn_real}" "${_root}" _at)
      if(_at EQUAL 0)
        set(CUDNN_ORIGIN "CUDA toolkit folder")
      endif()
    endforeach()
  endif()
  if(NOT TARGET Striate::cudnn)
    add_library(Striate::cudnn UNKNOWN IMPORTED)
    set_target_properties(Striate::cudnn PROPERTIES
      IMPORTED_LOCATION "${CUDNN_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
  endif()
endif()
