# How a target uses LibTorch. Including <torch/torch.h> costs ~25 s per translation unit, so
# every LibTorch target reuses one precompiled header built once in `bitnet_torch_pch`.
#
# at::parallel_for is an inline template: in a LibTorch built on OpenMP (AT_PARALLEL_OPENMP, as
# the PyPI wheels are) it is a `#pragma omp parallel` compiled into the caller's object. Compiled
# without -fopenmp the pragma is dropped and every parallel_for of ours (the fused layers, the
# quantizers, the CPU flash attention) runs on the calling thread alone. So our LibTorch targets
# compile and link with OpenMP too. The wheel's bundled runtime and the compiler's are both GNU
# libgomp.so.1: one soname, so the process loads one of them and has one thread pool.
# NO_CACHE: a build tree reconfigured against another LibTorch reads that LibTorch's Config.h.
find_file(BITNET_ATEN_CONFIG_H ATen/Config.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH NO_CACHE)
set(BITNET_TORCH_OPENMP OFF)
if(BITNET_ATEN_CONFIG_H)
  file(STRINGS "${BITNET_ATEN_CONFIG_H}" BITNET_ATEN_OPENMP REGEX "^#define AT_PARALLEL_OPENMP 1")
  if(BITNET_ATEN_OPENMP)
    find_package(OpenMP REQUIRED COMPONENTS CXX)
    set(BITNET_TORCH_OPENMP ON)
  endif()
endif()
message(STATUS "LibTorch parallel_for on OpenMP: ${BITNET_TORCH_OPENMP}")

add_library(bitnet_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(bitnet_torch_pch PUBLIC ${TORCH_LIBRARIES})
if(BITNET_TORCH_OPENMP)
  target_link_libraries(bitnet_torch_pch PUBLIC OpenMP::OpenMP_CXX)
endif()
target_precompile_headers(bitnet_torch_pch PRIVATE ${CMAKE_CURRENT_LIST_DIR}/torch_pch.h)

function(bitnet_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  if(BITNET_TORCH_OPENMP)
    target_link_libraries(${target} PUBLIC OpenMP::OpenMP_CXX)  # the same flags as the header
  endif()
  target_precompile_headers(${target} REUSE_FROM bitnet_torch_pch)
endfunction()
