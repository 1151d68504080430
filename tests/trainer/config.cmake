# Tests of bitnet_config (torch-free), built in every configuration. Included from tests/.
add_executable(test_config
  ${CMAKE_CURRENT_LIST_DIR}/test_config_errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_config_override.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_config_parse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_config_print.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_config_sources.cpp)
target_include_directories(test_config PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(test_config PRIVATE BITNET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(test_config PRIVATE bitnet_config bitnet::xxhash GTest::gtest_main)
gtest_discover_tests(test_config DISCOVERY_TIMEOUT 60)
