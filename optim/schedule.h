// Learning-rate and weight-decay schedules, as pure functions of the step:
//   constant   warmup, then the peak LR; weight decay constant.
//   cosine     warmup, then cosine from the peak to min_lr_ratio·peak; weight decay constant.
//   two_stage  the BitNet b1.58 recipe. Stage 1 (steps before switch_fraction·N): warmup, then
//              the cosine planned for the whole run, cut short; weight decay follows a cosine
//              from its peak at step 0 to 0 at the switch. Stage 2: the LR drops abruptly to
//              stage2_lr_ratio·peak and decays by cosine to min_lr_ratio·peak; weight decay is 0.
// Torch-free: built as its own library, bitnet_schedule, which the config library links for
// schedule.type.
#pragma once

#include <cstdint>

#include "formats/enum_names.h"

namespace bitnet {

enum class ScheduleType { kConstant, kCosine, kTwoStage };

template <>
struct EnumNames<ScheduleType> {
  static constexpr EnumName<ScheduleType> table[] = {
      {ScheduleType::kConstant, "constant"}, {ScheduleType::kCosine, "cosine"}, {ScheduleType::kTwoStage, "two_stage"}};
};

struct ScheduleOptions {
  ScheduleType type = ScheduleType::kCosine;
  int64_t total_steps = 1;
  int64_t warmup_steps = 0;
  double peak_lr = 1e-3;
  double min_lr_ratio = 0.1;
  double switch_fraction = 0.5;
  double stage2_lr_ratio = 0.5;
  double weight_decay = 0.1;
};

struct ScheduleValues {
  double lr = 0;
  double weight_decay = 0;
  int stage = 1;  // 2 once a two_stage schedule has switched
};

// Values for the update at 0-based step `step` (0 .. total_steps-1).
ScheduleValues schedule_at(const ScheduleOptions& options, int64_t step);

// First step of stage 2 for two_stage (total_steps for the other types).
int64_t stage_switch_step(const ScheduleOptions& options);

}  // namespace bitnet
