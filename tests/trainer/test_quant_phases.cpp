// The quantization λ over a run: quant.start_fraction trains the first steps in full precision
// (λ = 0, BitLinear computes the plain matmul), then quant.lambda_warmup_steps ramps λ to 1.
#include <gtest/gtest.h>

#include "trainer/model_setup.h"

namespace bitnet {
namespace {

RunConfig run(int64_t steps, double start_fraction, int64_t lambda_warmup_steps) {
  RunConfig c;
  c.train.steps = steps;
  c.quant.start_fraction = start_fraction;
  c.quant.lambda_warmup_steps = lambda_warmup_steps;
  return c;
}

TEST(QuantPhases, TernaryFromTheStartByDefault) {
  const RunConfig c = run(10, 0, 0);
  EXPECT_EQ(quant_start_step(c), 0);
  for (int64_t s = 0; s < 10; ++s) EXPECT_EQ(quant_lambda_at(c, s), 1.0) << s;
}

TEST(QuantPhases, FullPrecisionThenTernary) {
  const RunConfig c = run(10, 0.5, 0);
  EXPECT_EQ(quant_start_step(c), 5);
  for (int64_t s = 0; s < 5; ++s) EXPECT_EQ(quant_lambda_at(c, s), 0.0) << s;
  for (int64_t s = 5; s < 10; ++s) EXPECT_EQ(quant_lambda_at(c, s), 1.0) << s;
  // Rounded down: 0.9 of 7 steps is 6.3, so 6 full-precision steps.
  EXPECT_EQ(quant_start_step(run(7, 0.9, 0)), 6);
}

TEST(QuantPhases, RampStartsWhereFullPrecisionEnds) {
  const RunConfig c = run(10, 0.5, 4);
  EXPECT_EQ(quant_lambda_at(c, 4), 0.0);
  EXPECT_EQ(quant_lambda_at(c, 5), 0.25);
  EXPECT_EQ(quant_lambda_at(c, 6), 0.5);
  EXPECT_EQ(quant_lambda_at(c, 8), 1.0);
  EXPECT_EQ(quant_lambda_at(c, 9), 1.0);
}

}  // namespace
}  // namespace bitnet
