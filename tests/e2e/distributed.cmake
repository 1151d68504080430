# End-to-end tests of data-parallel training: the `bitnet` binary run as 1 and 2 ranks on
# loopback (via --nproc and via torchrun-style environment variables). Included from
# tests/CMakeLists.txt (LibTorch builds only).
find_package(nlohmann_json REQUIRED)
add_executable(e2e_distributed_test ${CMAKE_CURRENT_LIST_DIR}/distributed_train_test.cpp
                                    ${CMAKE_CURRENT_LIST_DIR}/distributed_failure_test.cpp
                                    ${PROJECT_SOURCE_DIR}/cli/launcher.cpp)
target_include_directories(e2e_distributed_test PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(e2e_distributed_test PRIVATE BITNET_EXE="$<TARGET_FILE:bitnet>")
target_link_libraries(e2e_distributed_test PRIVATE bitnet_trainer nlohmann_json::nlohmann_json GTest::gtest_main)
bitnet_use_torch(e2e_distributed_test)
add_dependencies(e2e_distributed_test bitnet)
gtest_discover_tests(e2e_distributed_test PROPERTIES TIMEOUT 120 DISCOVERY_TIMEOUT 60)
