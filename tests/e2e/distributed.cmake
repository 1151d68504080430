# End-to-end tests of data-parallel training: the `bitnet` binary run as 1 and 2 ranks on
# loopback (via --nproc and via torchrun-style environment variables). Included from
# tests/CMakeLists.txt (LibTorch builds only).
find_package(nlohmann_json REQUIRED)
add_executable(test_e2e_distributed ${CMAKE_CURRENT_LIST_DIR}/test_distributed_train.cpp
                                    ${CMAKE_CURRENT_LIST_DIR}/test_distributed_failure.cpp
                                    ${PROJECT_SOURCE_DIR}/cli/launcher.cpp)
target_include_directories(test_e2e_distributed PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(test_e2e_distributed PRIVATE BITNET_EXE="$<TARGET_FILE:bitnet>")
target_link_libraries(test_e2e_distributed PRIVATE bitnet_trainer nlohmann_json::nlohmann_json GTest::gtest_main)
bitnet_use_torch(test_e2e_distributed)
add_dependencies(test_e2e_distributed bitnet)
gtest_discover_tests(test_e2e_distributed PROPERTIES TIMEOUT 120 DISCOVERY_TIMEOUT 60)
