// Helpers shared by the config tests: a minimal valid config, an "expect this ConfigError"
// helper, and a field-by-field comparison of two RunConfigs written out by hand (so it does not
// lean on the key table under test).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trainer/config.h"

namespace bitnet::testing {

// The smallest valid config: everything but data.paths is optional.
inline const char* kMinimal = "data:\n  paths: [corpus.txt]\n";

// Parses and returns the ConfigError message; fails the test when parsing succeeds.
inline std::string config_error(const std::string& yaml, const std::vector<std::string>& overrides = {},
                                const std::string& source = "x.yaml") {
  try {
    parse_config(yaml, source, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
  return "";
}

inline void expect_same(const RunConfig& a, const RunConfig& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.resume, b.resume);
  EXPECT_EQ(a.init_from, b.init_from);
  EXPECT_EQ(a.model.vocab_size, b.model.vocab_size);
  EXPECT_EQ(a.model.hidden_size, b.model.hidden_size);
  EXPECT_EQ(a.model.num_layers, b.model.num_layers);
  EXPECT_EQ(a.model.num_heads, b.model.num_heads);
  EXPECT_EQ(a.model.num_kv_heads, b.model.num_kv_heads);
  EXPECT_EQ(a.model.intermediate_size, b.model.intermediate_size);
  EXPECT_EQ(a.model.max_seq_len, b.model.max_seq_len);
  EXPECT_EQ(a.model.rope_theta, b.model.rope_theta);
  EXPECT_EQ(a.model.rms_norm_eps, b.model.rms_norm_eps);
  EXPECT_EQ(a.model.tie_embeddings, b.model.tie_embeddings);
  EXPECT_EQ(a.model.hidden_act, b.model.hidden_act);
  EXPECT_EQ(a.model.init_std, b.model.init_std);
  EXPECT_EQ(a.quant.mode, b.quant.mode);
  EXPECT_EQ(a.quant.lambda_warmup_steps, b.quant.lambda_warmup_steps);
  EXPECT_EQ(a.quant.start_fraction, b.quant.start_fraction);
  EXPECT_EQ(a.tokenizer.type, b.tokenizer.type);
  EXPECT_EQ(a.tokenizer.path, b.tokenizer.path);
  EXPECT_EQ(a.data.format, b.data.format);
  EXPECT_EQ(a.data.paths, b.data.paths);
  EXPECT_TRUE(a.data.sources == b.data.sources);
  EXPECT_EQ(a.data.separator_line, b.data.separator_line);
  EXPECT_EQ(a.data.seq_len, b.data.seq_len);
  EXPECT_EQ(a.data.val_fraction, b.data.val_fraction);
  EXPECT_EQ(a.train.steps, b.train.steps);
  EXPECT_EQ(a.train.stop_after, b.train.stop_after);
  EXPECT_EQ(a.train.micro_batch, b.train.micro_batch);
  EXPECT_EQ(a.train.grad_accum, b.train.grad_accum);
  EXPECT_EQ(a.train.precision, b.train.precision);
  EXPECT_EQ(a.train.threads, b.train.threads);
  EXPECT_EQ(a.train.seed, b.train.seed);
  EXPECT_EQ(a.train.deterministic, b.train.deterministic);
  EXPECT_EQ(a.train.device, b.train.device);
  EXPECT_EQ(a.train.nan_policy, b.train.nan_policy);
  EXPECT_EQ(a.train.max_nan_skips, b.train.max_nan_skips);
  EXPECT_EQ(a.optim.lr, b.optim.lr);
  EXPECT_EQ(a.optim.betas, b.optim.betas);
  EXPECT_EQ(a.optim.eps, b.optim.eps);
  EXPECT_EQ(a.optim.weight_decay, b.optim.weight_decay);
  EXPECT_EQ(a.optim.grad_clip, b.optim.grad_clip);
  EXPECT_EQ(a.schedule.type, b.schedule.type);
  EXPECT_EQ(a.schedule.warmup_steps, b.schedule.warmup_steps);
  EXPECT_EQ(a.schedule.min_lr_ratio, b.schedule.min_lr_ratio);
  EXPECT_EQ(a.schedule.switch_fraction, b.schedule.switch_fraction);
  EXPECT_EQ(a.schedule.stage2_lr_ratio, b.schedule.stage2_lr_ratio);
  EXPECT_EQ(a.checkpoint.every, b.checkpoint.every);
  EXPECT_EQ(a.checkpoint.keep_last, b.checkpoint.keep_last);
  EXPECT_EQ(a.eval.every, b.eval.every);
  EXPECT_EQ(a.eval.batches, b.eval.batches);
  EXPECT_EQ(a.sample.every, b.sample.every);
  EXPECT_EQ(a.sample.prompts, b.sample.prompts);
  EXPECT_EQ(a.sample.tokens, b.sample.tokens);
  EXPECT_EQ(a.sample.temperature, b.sample.temperature);
  EXPECT_EQ(a.sample.top_k, b.sample.top_k);
  EXPECT_EQ(a.log.dir, b.log.dir);
  EXPECT_EQ(a.log.every, b.log.every);
  EXPECT_EQ(a.distributed.backend, b.distributed.backend);
  EXPECT_EQ(a.distributed.timeout_s, b.distributed.timeout_s);
}

}  // namespace bitnet::testing
