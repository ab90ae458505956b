# FindCUBLAS
# ----------
# Finds NVIDIA cuBLAS (and cuBLASLt). Prefers the CUDA toolkit's copy (found by
# find_package(CUDAToolkit) as CUDA::cublas), else CUBLAS_ROOT, else the
# nvidia/cublas folder of Python's site-packages (pip's nvidia-cublas-cu*
# wheels, as PyTorch installs them), else the system paths.
#
# cuBLAS's major version follows the CUDA major version; a copy made for
# another CUDA major is rejected, since it would pair with the wrong runtime.
#
# Result: CUBLAS_FOUND, CUBLAS_VERSION, CUBLAS_INCLUDE_DIR, CUBLAS_LIBRARY,
# CUBLASLT_LIBRARY, CUBLAS_ORIGIN and the imported target Striate::cublas.
include(FindPackageHandleStandardArgs)
include(${CMAKE_CURRENT_LIST_DIR}/StriatePythonSitePackages.cmake)

set(_cublas_suffixes lib64 lib lib/x64 lib/x86_64-linux-gnu targets/x86_64-linux/lib targets/sbsa-linux/lib)
# Wheels ship only versioned sonames (libcublas.so.12); try the toolkit's major first.
set(_cublas_majors 13 12 11)
if(CUDAToolkit_VERSION_MAJOR)
  list(PREPEND _cublas_majors ${CUDAToolkit_VERSION_MAJOR})
  list(REMOVE_DUPLICATES _cublas_majors)
endif()
set(_cublas_names cublas)
set(_cublaslt_names cublasLt)
foreach(_major IN LISTS _cublas_majors)
  list(APPEND _cublas_names libcublas.so.${_major})
  list(APPEND _cublaslt_names libcublasLt.so.${_major})
endforeach()

if(NOT CUBLAS_INCLUDE_DIR OR NOT CUBLAS_LIBRARY)
  set(_cublas_roots ${CUBLAS_ROOT} $ENV{CUBLAS_ROOT})
  if(TARGET CUDA::cublas AND CUDA_cublas_LIBRARY AND CUDAToolkit_INCLUDE_DIRS)
    find_path(_cublas_inc NAMES cublas_v2.h PATHS ${CUDAToolkit_INCLUDE_DIRS} NO_DEFAULT_PATH NO_CACHE)
    if(_cublas_inc)
      set(CUBLAS_INCLUDE_DIR "${_cublas_inc}" CACHE PATH "cuBLAS headers")
      set(CUBLAS_LIBRARY "${CUDA_cublas_LIBRARY}" CACHE FILEPATH "cuBLAS library")
      if(CUDA_cublasLt_LIBRARY)
        set(CUBLASLT_LIBRARY "${CUDA_cublasLt_LIBRARY}" CACHE FILEPATH "cuBLASLt library")
      endif()
    endif()
    unset(_cublas_inc)
  endif()
  if(NOT CUBLAS_LIBRARY)
    list(APPEND _cublas_roots ${CUDAToolkit_LIBRARY_ROOT} $ENV{CUDA_HOME} /usr/local/cuda)
    striate_nvidia_wheel_roots(_cublas_wheel_roots cublas)
    foreach(_cublas_root IN LISTS _cublas_roots _cublas_wheel_roots)
      if(NOT IS_DIRECTORY "${_cublas_root}")
        continue()
      endif()
      find_path(_cublas_inc NAMES cublas_v2.h PATHS "${_cublas_root}" PATH_SUFFIXES include
        NO_DEFAULT_PATH NO_CACHE)
      find_library(_cublas_lib NAMES ${_cublas_names} PATHS "${_cublas_root}"
        PATH_SUFFIXES ${_cublas_suffixes} NO_DEFAULT_PATH NO_CACHE)
      find_library(_cublaslt_lib NAMES ${_cublaslt_names} PATHS "${_cublas_root}"
        PATH_SUFFIXES ${_cublas_suffixes} NO_DEFAULT_PATH NO_CACHE)
      if(_cublas_inc AND _cublas_lib)
        set(CUBLAS_INCLUDE_DIR "${_cublas_inc}" CACHE PATH "cuBLAS headers")
        set(CUBLAS_LIBRARY "${_cublas_lib}" CACHE FILEPATH "cuBLAS library")
        if(_cublaslt_lib)
          set(CUBLASLT_LIBRARY "${_cublaslt_lib}" CACHE FILEPATH "cuBLASLt library")
        endif()
        break()
      endif()
      unset(_cublas_inc)
      unset(_cublas_lib)
      unset(_cublaslt_lib)
    endforeach()
    unset(_cublas_inc)
    unset(_cublas_lib)
    unset(_cublaslt_lib)
  endif()
endif()

find_path(CUBLAS_INCLUDE_DIR NAMES cublas_v2.h)
find_library(CUBLAS_LIBRARY NAMES ${_cublas_names})
find_library(CUBLASLT_LIBRARY NAMES ${_cublaslt_names})
mark_as_advanced(CUBLAS_INCLUDE_DIR CUBLAS_LIBRARY CUBLASLT_LIBRARY)

set(CUBLAS_VERSION "")
if(CUBLAS_INCLUDE_DIR AND EXISTS "${CUBLAS_INCLUDE_DIR}/cublas_api.h")
  file(STRINGS "${CUBLAS_INCLUDE_DIR}/cublas_api.h" _cublas_defines
    REGEX "^#define CUBLAS_VER_(MAJOR|MINOR|PATCH) +[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    string(REGEX MATCH "CUBLAS_VER_${_part} +([0-9]+)" _m "${_cublas_defines}")
    set(_cublas_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT _cublas_MAJOR STREQUAL "")
    set(CUBLAS_VERSION "${_cublas_MAJOR}.${_cublas_MINOR}.${_cublas_PATCH}")
  endif()
endif()

set(_cublas_reason "")
if(CUBLAS_VERSION AND CUDAToolkit_VERSION_MAJOR AND NOT _cublas_MAJOR STREQUAL CUDAToolkit_VERSION_MAJOR)
  set(_cublas_reason "cuBLAS ${CUBLAS_VERSION} at ${CUBLAS_LIBRARY} is for CUDA ${_cublas_MAJOR}, the toolkit is ${CUDAToolkit_VERSION}")
  set(_cublas_mismatch TRUE)
else()
  set(_cublas_mismatch FALSE)
endif()

if(_cublas_mismatch)
  set(CUBLAS_FOUND FALSE)
  if(CUBLAS_FIND_REQUIRED)
    message(FATAL_ERROR "${_cublas_reason}")
  elseif(NOT CUBLAS_FIND_QUIETLY)
    message(STATUS "cuBLAS not used: ${_cublas_reason}")
  endif()
  set(CUBLAS_NOT_FOUND_REASON "${_cublas_reason}")
else()
  find_package_handle_standard_args(CUBLAS
    REQUIRED_VARS CUBLAS_LIBRARY CUBLAS_INCLUDE_DIR
    VERSION_VAR CUBLAS_VERSION)
endif()

if(CUBLAS_FOUND)
  if(CUBLAS_LIBRARY MATCHES "/nvidia/cublas/")
    set(CUBLAS_ORIGIN "Python wheel")
  elseif(CUDA_cublas_LIBRARY AND CUBLAS_LIBRARY STREQUAL CUDA_cublas_LIBRARY)
    set(CUBLAS_ORIGIN "CUDA toolkit")
  else()
    set(CUBLAS_ORIGIN "system")
  endif()
  if(NOT TARGET Striate::cublas)
    add_library(Striate::cublas UNKNOWN IMPORTED)
    set_target_properties(Striate::cublas PROPERTIES
      IMPORTED_LOCATION "${CUBLAS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CUBLAS_INCLUDE_DIR}")
    if(CUBLASLT_LIBRARY)
      add_library(Striate::cublasLt UNKNOWN IMPORTED)
      set_target_properties(Striate::cublasLt PROPERTIES IMPORTED_LOCATION "${CUBLASLT_LIBRARY}")
      set_property(TARGET Striate::cublas APPEND PROPERTY INTERFACE_LINK_LIBRARIES Striate::cublasLt)
    endif()
  endif()
endif()
