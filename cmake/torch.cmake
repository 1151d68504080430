# How a target uses LibTorch. Including <torch/torch.h> costs ~25 s per translation unit, so
# every LibTorch target reuses one precompiled header built once in `bitnet_torch_pch`.
add_library(bitnet_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(bitnet_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_precompile_headers(bitnet_torch_pch PRIVATE ${CMAKE_CURRENT_LIST_DIR}/torch_pch.h)

function(bitnet_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM bitnet_torch_pch)
endfunction()
