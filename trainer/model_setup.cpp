// Config -> schedule, quantization phases and resume identity (see model_setup.h).
#include "trainer/model_setup.h"

#include <algorithm>

namespace bitnet {

ScheduleOptions schedule_options(const RunConfig& c) {
  ScheduleOptions s;
  s.type = c.schedule.type;
  s.total_steps = c.train.steps;
  s.warmup_steps = c.schedule.warmup_steps;
  s.peak_lr = c.optim.lr;
  s.min_lr_ratio = c.schedule.min_lr_ratio;
  s.switch_fraction = c.schedule.switch_fraction;
  s.stage2_lr_ratio = c.schedule.stage2_lr_ratio;
  s.weight_decay = c.optim.weight_decay;
  return s;
}

int64_t quant_start_step(const RunConfig& c) {
  return static_cast<int64_t>(c.quant.start_fraction * double(c.train.steps));
}

double quant_lambda_at(const RunConfig& c, int64_t step) {
  const int64_t start = quant_start_step(c);
  if (step < start) return 0.0;
  if (c.quant.lambda_warmup_steps <= 0) return 1.0;
  return std::min(1.0, double(step - start + 1) / double(c.quant.lambda_warmup_steps));
}

std::string trajectory_yaml(const RunConfig& config) {
  RunConfig c = config;
  const RunConfig defaults;
  c.resume = "";
  c.train.stop_after = 0;
  c.train.steps = defaults.train.steps;  // may grow on resume: the schedule is recomputed (with a warning)
  c.train.threads = 0;
  c.checkpoint = defaults.checkpoint;
  c.eval = defaults.eval;
  c.sample = defaults.sample;
  c.log = defaults.log;
  c.distributed.timeout_s = defaults.distributed.timeout_s;
  return config_to_yaml(c);
}

}  // namespace bitnet
