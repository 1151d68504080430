# bitnet_config: the torch-free part of trainer/ (YAML run config -> validated structs), built in
# every configuration so config tools and tests need no LibTorch. Included from the top level.
find_package(yaml-cpp REQUIRED)

add_library(bitnet_config STATIC
  ${CMAKE_CURRENT_LIST_DIR}/config_fields.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_parse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_print.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_validate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/config_values.cpp)
target_include_directories(bitnet_config PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
if(TARGET yaml-cpp::yaml-cpp)
  target_link_libraries(bitnet_config PRIVATE yaml-cpp::yaml-cpp)
else()
  target_link_libraries(bitnet_config PRIVATE yaml-cpp)
endif()
# Public: config.h names its modes with the enums of data/ and optim/schedule.h.
target_link_libraries(bitnet_config PUBLIC bitnet_data bitnet_schedule bitnet_formats)
target_link_libraries(bitnet_config PRIVATE bitnet::xxhash)
