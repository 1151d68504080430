// LR and weight-decay schedules at hand-computed points.
#include <gtest/gtest.h>

#include <cmath>

#include "optim/schedule.h"

namespace bitnet {
namespace {

ScheduleOptions options(const std::string& type) {
  ScheduleOptions o;
  o.type = parse_enum<ScheduleType>(type).value();
  o.total_steps = 101;
  o.warmup_steps = 10;
  o.peak_lr = 1.0;
  o.min_lr_ratio = 0.1;
  o.switch_fraction = 0.5;
  o.stage2_lr_ratio = 0.4;
  o.weight_decay = 0.1;
  return o;
}

TEST(Schedule, WarmupIsLinearToThePeak) {
  for (const char* type : {"constant", "cosine", "two_stage"}) {
    ScheduleOptions o = options(type);
    EXPECT_DOUBLE_EQ(schedule_at(o, 0).lr, 0.1) << type;
    EXPECT_DOUBLE_EQ(schedule_at(o, 4).lr, 0.5) << type;
    EXPECT_DOUBLE_EQ(schedule_at(o, 9).lr, 1.0) << type;
  }
}

TEST(Schedule, CosineEndsAtMinAndIsHalfwayInTheMiddle) {
  ScheduleOptions o = options("cosine");
  EXPECT_DOUBLE_EQ(schedule_at(o, 10).lr, 1.0);
  EXPECT_NEAR(schedule_at(o, 100).lr, 0.1, 1e-12);
  // Progress (55 - 10) / 90 = 0.5: 0.1 + 0.9 * 0.5 = 0.55.
  EXPECT_NEAR(schedule_at(o, 55).lr, 0.55, 1e-12);
  EXPECT_DOUBLE_EQ(schedule_at(o, 55).weight_decay, 0.1);
}

TEST(Schedule, TwoStageDropsAtTheSwitchAndTurnsWeightDecayOff) {
  ScheduleOptions o = options("two_stage");
  EXPECT_EQ(stage_switch_step(o), 51);  // round(0.5 * 101) = 51 (llround of 50.5)
  // Stage 1 follows the whole-run cosine: step 50 has progress 40 / 90.
  const double p = 40.0 / 90.0;
  EXPECT_NEAR(schedule_at(o, 50).lr, 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * p)), 1e-12);
  EXPECT_EQ(schedule_at(o, 50).stage, 1);
  // Weight decay: cosine from 0.1 at step 0 towards 0 at the switch.
  EXPECT_NEAR(schedule_at(o, 0).weight_decay, 0.1, 1e-12);
  EXPECT_NEAR(schedule_at(o, 25).weight_decay, 0.1 * 0.5 * (1 + std::cos(M_PI * 25 / 51)), 1e-12);
  // Stage 2 starts at 0.4 and ends at the overall minimum 0.1, with no weight decay.
  EXPECT_NEAR(schedule_at(o, 51).lr, 0.4, 1e-12);
  EXPECT_EQ(schedule_at(o, 51).stage, 2);
  EXPECT_DOUBLE_EQ(schedule_at(o, 51).weight_decay, 0.0);
  EXPECT_NEAR(schedule_at(o, 100).lr, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(schedule_at(o, 100).weight_decay, 0.0);
}

TEST(Schedule, TypesAreNamedOnce) {
  EXPECT_EQ(enum_name_list<ScheduleType>(), "constant, cosine, two_stage");
  EXPECT_EQ(parse_enum<ScheduleType>("two_stage"), ScheduleType::kTwoStage);
  EXPECT_FALSE(parse_enum<ScheduleType>("linear").has_value());
}

}  // namespace
}  // namespace bitnet
