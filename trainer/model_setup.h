// From a run config to what the training loop needs beside the model (whose options are
// checkpoint/model_options.h): the LR schedule, the quantization phases and the resume identity.
#pragma once

#include <cstdint>
#include <string>

#include "optim/schedule.h"
#include "trainer/config.h"

namespace bitnet {

ScheduleOptions schedule_options(const RunConfig& config);
// The first 0-based step that quantizes: quant.start_fraction of train.steps (rounded down) train
// in full precision before it.
int64_t quant_start_step(const RunConfig& config);
// λ of the quantization for the update at 0-based `step`: 0 before quant_start_step, then rising
// over quant.lambda_warmup_steps to 1 (at once when there is no ramp).
double quant_lambda_at(const RunConfig& config, int64_t step);
// The config with the keys that do not change the training trajectory normalised (resume,
// stop_after, train.steps, threads, logging/eval/sample/checkpoint cadence), as YAML: two runs may share
// checkpoints exactly when these texts are equal.
std::string trajectory_yaml(const RunConfig& config);

}  // namespace bitnet
