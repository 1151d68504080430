# Tests of bitnet_config (torch-free), built in every configuration. Included from tests/.
add_executable(bitnet_config_tests
  ${CMAKE_CURRENT_LIST_DIR}/config_errors_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_override_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_parse_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_print_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_sources_test.cpp)
target_include_directories(bitnet_config_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(bitnet_config_tests PRIVATE BITNET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(bitnet_config_tests PRIVATE bitnet_config bitnet::xxhash GTest::gtest_main)
gtest_discover_tests(bitnet_config_tests)
