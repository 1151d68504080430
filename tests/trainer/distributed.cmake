# Tests of data-parallel training pieces that run in one process: environment parsing, bucket
# planning, and the c10d communicator with two threads as ranks over loopback. Included from
# tests/CMakeLists.txt (LibTorch builds only).
add_executable(test_distributed_pieces
  ${CMAKE_CURRENT_LIST_DIR}/test_distributed_env.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_distributed_buckets.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_distributed_group.cpp
  ${PROJECT_SOURCE_DIR}/cli/launcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_distributed_launcher.cpp
)
target_include_directories(test_distributed_pieces PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(test_distributed_pieces PRIVATE bitnet_trainer GTest::gtest_main)
bitnet_use_torch(test_distributed_pieces)
gtest_discover_tests(test_distributed_pieces DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 60)
