# Tests of data-parallel training pieces that run in one process: environment parsing, bucket
# planning, and the c10d communicator with two threads as ranks over loopback. Included from
# tests/CMakeLists.txt (LibTorch builds only).
add_executable(trainer_distributed_test
  ${CMAKE_CURRENT_LIST_DIR}/distributed_env_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/distributed_buckets_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/distributed_group_test.cpp
  ${PROJECT_SOURCE_DIR}/cli/launcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/distributed_launcher_test.cpp
)
target_include_directories(trainer_distributed_test PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(trainer_distributed_test PRIVATE bitnet_trainer GTest::gtest_main)
bitnet_use_torch(trainer_distributed_test)
gtest_discover_tests(trainer_distributed_test PROPERTIES TIMEOUT 60)
