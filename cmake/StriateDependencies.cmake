# Finds what the library links. Only the C++ compiler is required: every other
# dependency is detected, and the configure summary (StriateSummary.cmake) says
# what was found and where.

# ---- ccache: rebuilds after a reconfigure or a branch switch are cheap -------
set(STRIATE_CCACHE_PROGRAM "")
if(STRIATE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(STRIATE_CCACHE_EXECUTABLE ccache)
  mark_as_advanced(STRIATE_CCACHE_EXECUTABLE)
  if(STRIATE_CCACHE_EXECUTABLE)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${STRIATE_CCACHE_EXECUTABLE}")
    set(CMAKE_CUDA_COMPILER_LAUNCHER "${STRIATE_CCACHE_EXECUTABLE}")
    set(STRIATE_CCACHE_PROGRAM "${STRIATE_CCACHE_EXECUTABLE}")
  endif()
elseif(CMAKE_CXX_COMPILER_LAUNCHER)
  set(STRIATE_CCACHE_PROGRAM "${CMAKE_CXX_COMPILER_LAUNCHER} (given)")
endif()

# ---- CUDA (compiles on machines without a GPU; the GPU is found at run time) --
set(STRIATE_WITH_CUDA OFF)
set(STRIATE_WITH_CUDNN OFF)
set(STRIATE_WITH_CUBLAS OFF)
if(NOT STRIATE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # sm_80 and sm_90 machine code, plus compute_90 PTX for newer GPUs.
      set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
    endif()
    # One CUDA runtime per process: the shared one, which CUDA::cudart links,
    # rather than CMake's default of a static copy per CUDA target.
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
    enable_language(CUDA)
    # CMake 3.25 (Debian 12's) does not know that nvcc >= 12 takes -std=c++20.
    if(CMAKE_CUDA_COMPILER_ID STREQUAL "NVIDIA" AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0
       AND NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(STRIATE_WITH_CUDA ON)
  elseif(STRIATE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STRIATE_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER "
                        "or put nvcc on PATH)")
  endif()
endif()

# cuDNN and cuBLAS: used when found, in the toolkit or in pip's NVIDIA wheels.
if(STRIATE_WITH_CUDA)
  if(STRIATE_CUBLAS)
    find_package(CUBLAS QUIET)
    set(STRIATE_WITH_CUBLAS ${CUBLAS_FOUND})
  endif()
  if(STRIATE_CUDNN)
    find_package(CUDNN 9 QUIET)  # the convolution code uses cuDNN 9's status codes
    set(STRIATE_WITH_CUDNN ${CUDNN_FOUND})
  endif()
endif()

# ---- CLI11: the `striate` command (tools/) and its tests (tests/tools/) -----
# Found once here, since tests/ is added before tools/; without it (a GPU
# machine with no -dev packages) both are left out, not failed.
set(STRIATE_WITH_CLI11 OFF)
if(STRIATE_BUILD_TOOLS)
  find_package(CLI11 CONFIG QUIET)
  set(STRIATE_WITH_CLI11 ${CLI11_FOUND})
endif()

# ---- BLAS for CPU GEMM (OpenBLAS preferred; a blocked C++ GEMM otherwise) ----
set(STRIATE_WITH_BLAS OFF)
set(BLA_VENDOR OpenBLAS)
find_package(BLAS QUIET)
unset(BLA_VENDOR)
if(NOT BLAS_FOUND)
  find_package(BLAS QUIET)
endif()
find_path(STRIATE_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
if(BLAS_FOUND AND STRIATE_CBLAS_INCLUDE_DIR)
  set(STRIATE_WITH_BLAS ON)
endif()

# ---- zlib: for the data and checkpoint readers (detected now, linked by them) --
find_package(ZLIB QUIET)

# ---- threads ---------------------------------------------------------------
find_package(Threads REQUIRED)

function(striate_link_dependencies target)
  target_link_libraries(${target} PUBLIC Threads::Threads)
  if(STRIATE_WITH_BLAS)
    target_compile_definitions(${target} PRIVATE STRIATE_WITH_BLAS=1)
    target_include_directories(${target} PRIVATE ${STRIATE_CBLAS_INCLUDE_DIR})
    target_link_libraries(${target} PRIVATE ${BLAS_LIBRARIES})
  endif()
  if(STRIATE_WITH_CUDA)
    target_link_libraries(${target} PRIVATE CUDA::cudart)
  endif()
  if(STRIATE_WITH_CUBLAS)
    target_compile_definitions(${target} PRIVATE STRIATE_WITH_CUBLAS=1)
    target_link_libraries(${target} PRIVATE Striate::cublas)
  endif()
  if(STRIATE_WITH_CUDNN)
    target_compile_definitions(${target} PRIVATE STRIATE_WITH_CUDNN=1)
    target_link_libraries(${target} PRIVATE Striate::cudnn)
  endif()
endfunction()
