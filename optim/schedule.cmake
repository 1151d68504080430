# bitnet_schedule: the learning-rate and weight-decay schedules (pure functions of the step),
# torch-free so the config library can name schedule.type with ScheduleType. Included from the
# top level, before the config library.
add_library(bitnet_schedule STATIC ${CMAKE_CURRENT_LIST_DIR}/schedule.cpp)
target_include_directories(bitnet_schedule PUBLIC ${PROJECT_SOURCE_DIR})
