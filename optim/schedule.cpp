// Schedules (see schedule.h).
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace bitnet {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Cosine from 1 at progress 0 to min_ratio at progress 1.
double cosine_factor(double progress, double min_ratio) {
  progress = std::clamp(progress, 0.0, 1.0);
  return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(kPi * progress));
}

// Progress of `step` through [begin, end): 0 at begin, 1 at end-1.
double progress(int64_t step, int64_t begin, int64_t end) {
  const int64_t span = std::max<int64_t>(1, end - 1 - begin);
  return double(step - begin) / double(span);
}

}  // namespace

int64_t stage_switch_step(const ScheduleOptions& o) {
  if (o.type != ScheduleType::kTwoStage) return o.total_steps;
  const auto s = static_cast<int64_t>(std::llround(o.switch_fraction * double(o.total_steps)));
  return std::clamp<int64_t>(s, 1, o.total_steps);
}

ScheduleValues schedule_at(const ScheduleOptions& o, int64_t step) {
  ScheduleValues v;
  v.weight_decay = o.weight_decay;
  const int64_t n = o.total_steps, w = o.warmup_steps;
  const double warm = step < w ? double(step + 1) / double(w) : 1.0;
  switch (o.type) {
    case ScheduleType::kConstant:
      v.lr = o.peak_lr * warm;
      break;
    case ScheduleType::kCosine:
      v.lr = o.peak_lr * (step < w ? warm : cosine_factor(progress(step, w, n), o.min_lr_ratio));
      break;
    case ScheduleType::kTwoStage: {
      const int64_t s = stage_switch_step(o);
      if (step < s) {
        v.lr = o.peak_lr * (step < w ? warm : cosine_factor(progress(step, w, n), o.min_lr_ratio));
        v.weight_decay = o.weight_decay * 0.5 * (1.0 + std::cos(kPi * double(step) / double(s)));
      } else {
        const double stage2_peak = o.stage2_lr_ratio;
        v.lr = o.peak_lr * stage2_peak * cosine_factor(progress(step, s, n), o.min_lr_ratio / stage2_peak);
        v.weight_decay = 0.0;
        v.stage = 2;
      }
      break;
    }
  }
  return v;
}

}  // namespace bitnet
