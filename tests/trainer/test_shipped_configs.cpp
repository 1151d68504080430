// The shipped configs parse and validate, and configs/bitnet-2b4t.yaml constructs the BitNet
// b1.58 2B4T model with the parameter count its shape implies.
#include <gtest/gtest.h>

#include "checkpoint/model_options.h"
#include "trainer/config.h"

namespace bitnet {
namespace {

TEST(ShippedConfigs, TinyFortunesIsValid) {
  const RunConfig c = load_config(std::string(BITNET_SOURCE_DIR) + "/configs/tiny-fortunes.yaml");
  EXPECT_EQ(c.name, "tiny-fortunes");
  EXPECT_EQ(c.model.hidden_size % 256, 0);  // exportable to TQ2_0/TQ1_0
  EXPECT_EQ(c.model.intermediate_size % 256, 0);
}

TEST(ShippedConfigs, MixtureFortunesIsAValidTwoSourceMixture) {
  const RunConfig c = load_config(std::string(BITNET_SOURCE_DIR) + "/configs/mixture-fortunes.yaml");
  ASSERT_EQ(c.data.sources.size(), 2u);
  EXPECT_TRUE(c.data.paths.empty());
  EXPECT_EQ(c.data.sources[0].weight + c.data.sources[1].weight, 1.0);
  EXPECT_EQ(c.data.sources[1].separator_line, "");
}

TEST(ShippedConfigs, Bitnet2b4tConstructsWithItsParameterCount) {
  const RunConfig c = load_config(std::string(BITNET_SOURCE_DIR) + "/configs/bitnet-2b4t.yaml");
  const int64_t C = 2560, F = 6912, KV = 640, V = 128256, L = 30;
  // Per layer: q, o (C×C), k, v (KV×C), gate, up, down (F×C), two pre-norms and the two sub-norms.
  const int64_t per_layer = 2 * C * C + 2 * KV * C + 3 * F * C + 3 * C + F;
  const int64_t expected = L * per_layer + V * C + C;    // + tied embedding + final norm
  BitNetLM model(model_options(c, c.model.vocab_size));  // latent weights untouched: no init needed
  EXPECT_EQ(model->num_parameters(), expected);
  EXPECT_EQ(expected, 2'412'820'480);
  EXPECT_EQ(model->options().num_kv_heads, 5);
  EXPECT_EQ(model->options().activation, formats::HiddenAct::relu2);
  EXPECT_FALSE(model->lm_head);  // tied
  EXPECT_EQ(model->bit_linears().size(), size_t(7 * L));
}

}  // namespace
}  // namespace bitnet
