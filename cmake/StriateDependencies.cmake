# Finds what the library links. Only the C++ compiler is required: every other
# dependency is detected, and the configure summary says what was found.

# ---- CUDA (compiles on machines without a GPU; the GPU is found at run time) --
set(STRIATE_WITH_CUDA OFF)
if(NOT STRIATE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # sm_80 and sm_90 machine code, plus compute_90 PTX for newer GPUs.
      set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(STRIATE_WITH_CUDA ON)
  elseif(STRIATE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STRIATE_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  endif()
endif()

# ---- BLAS for CPU GEMM (OpenBLAS preferred; a blocked C++ GEMM otherwise) ----
set(STRIATE_WITH_BLAS OFF)
set(BLA_VENDOR OpenBLAS)
find_package(BLAS QUIET)
unset(BLA_VENDOR)
if(NOT BLAS_FOUND)
  find_package(BLAS QUIET)
endif()
find_path(STRIATE_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu)
if(BLAS_FOUND AND STRIATE_CBLAS_INCLUDE_DIR)
  set(STRIATE_WITH_BLAS ON)
endif()

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
endfunction()
