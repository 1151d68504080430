// init_from: small BitNet and LLaMA-style models written by the test in Hugging Face layout
// (F32, BF16, F16, sharded) load into the model the config resolves to, and compute the very
// logits of the model that wrote them; mismatches are errors that list every problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/model_options.h"
#include "hf_dir_writer.h"
#include "tests/support/temp_dir.h"
#include "trainer/pretrained.h"

namespace bitnet {
namespace {

using bitnet::testing::HfWriteOptions;
using bitnet::testing::TempDir;
using bitnet::testing::write_hf_dir;

BitNetOptions tiny(bool llama) {
  BitNetOptions o;
  o.vocab_size = 37;
  o.hidden_size = 32;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.intermediate_size = 48;
  o.max_seq_len = 64;
  o.rope_theta = 5000.0;
  o.rms_norm_eps = 1e-6;
  o.tie_embeddings = !llama;
  o.activation = llama ? formats::HiddenAct::silu : formats::HiddenAct::relu2;
  o.init_std = 0.1;
  return o;
}

// A model with every tensor random (norms near 1, LLaMA sub-norms exactly 1), rounded to `dtype`
// so that the written file holds its exact values.
BitNetLM writer_model(bool llama, torch::Dtype dtype, uint64_t seed) {
  BitNetLM m(tiny(llama));
  m->reset_parameters(seed);
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& item : m->named_parameters()) {
    torch::Tensor& p = item.value();
    if (p.dim() == 1 && !(llama && item.key().find("sub_norm") != std::string::npos))
      p.add_(torch::randn_like(p) * 0.1);
    p.copy_(p.to(dtype).to(torch::kFloat));
  }
  return m;
}

RunConfig config_for(const std::string& dir) {
  RunConfig c;
  c.init_from = dir;
  c.data.paths = {"unused.txt"};
  c.train.precision = Precision::kFp32;
  c.data.seq_len = 16;
  return c;
}

// Builds the model the run config resolves to and loads init_from into it.
BitNetLM load_via_config(const RunConfig& c, PretrainedLoad* report = nullptr) {
  const RunConfig resolved = resolve_init_from(c);
  BitNetLM m(model_options(resolved, resolved.model.vocab_size));
  m->reset_parameters(99);
  PretrainedLoad r = load_pretrained(m, inspect_pretrained(c.init_from), c.init_from_ignore);
  if (report) *report = r;
  return m;
}

void expect_same_logits(BitNetLM& a, BitNetLM& b) {
  torch::manual_seed(5);
  const torch::Tensor tokens = torch::randint(0, 37, {2, 12}, torch::kLong);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a(tokens), b(tokens)));
}

struct Case {
  const char* name;
  bool llama;
  torch::Dtype dtype;
  int shards;
};

TEST(InitFrom, LoadedModelComputesTheWritersLogits) {
  for (const Case& k : {Case{"bitnet f32", false, torch::kFloat, 1}, Case{"bitnet bf16", false, torch::kBFloat16, 1},
                        Case{"bitnet bf16 sharded", false, torch::kBFloat16, 3},
                        Case{"llama f32", true, torch::kFloat, 1}, Case{"llama f16 sharded", true, torch::kHalf, 2}}) {
    SCOPED_TRACE(k.name);
    TempDir tmp;
    const std::string dir = tmp.path() + "/model";
    BitNetLM writer = writer_model(k.llama, k.dtype, 17);
    write_hf_dir(writer, dir, HfWriteOptions{.llama = k.llama, .dtype = k.dtype, .shards = k.shards});
    PretrainedLoad report;
    BitNetLM loaded = load_via_config(config_for(dir), &report);
    EXPECT_EQ(loaded->options().hidden_size, 32);
    EXPECT_EQ(loaded->options().num_kv_heads, 2);
    EXPECT_EQ(loaded->options().rope_theta, 5000.0);
    EXPECT_EQ(loaded->options().tie_embeddings, !k.llama);
    EXPECT_EQ(loaded->options().activation, k.llama ? formats::HiddenAct::silu : formats::HiddenAct::relu2);
    EXPECT_EQ(report.initialised.size(), k.llama ? 4u : 0u);  // 2 layers x (attn, ffn) sub-norms
    expect_same_logits(writer, loaded);
  }
}

TEST(InitFrom, OwnCheckpointDirectoryViaRunDirectory) {
  // Our checkpoints are covered in the LoRA run test; here: a directory that is neither kind.
  TempDir tmp;
  EXPECT_THROW(inspect_pretrained(tmp.path()), PretrainedError);
  EXPECT_THROW(inspect_pretrained(tmp.path() + "/nope"), PretrainedError);
}

TEST(InitFrom, DeeplyNestedOrDuplicateKeyConfigIsAnErrorNotACrash) {
  TempDir tmp;
  // 100,000 levels used to overflow the stack (parsing and dump() in messages recurse per level).
  {
    std::ofstream f(tmp.path() + "/config.json");
    f << "{\"architectures\": " << std::string(100000, '[') << std::string(100000, ']') << "}";
  }
  try {
    inspect_pretrained(tmp.path());
    ADD_FAILURE() << "a 100,000-deep config.json was accepted";
  } catch (const PretrainedError& e) {
    EXPECT_NE(std::string(e.what()).find("nest too deeply"), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), 400u);  // the message quotes nothing whole
  }
  std::ofstream(tmp.path() + "/config.json") << R"({"hidden_size": 64, "hidden_size": 128})";
  try {
    inspect_pretrained(tmp.path());
    ADD_FAILURE() << "a config.json with a duplicate key was accepted";
  } catch (const PretrainedError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate key \"hidden_size\""), std::string::npos) << e.what();
  }
}

TEST(InitFrom, EveryMismatchIsListedInOneError) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/model";
  BitNetLM writer = writer_model(false, torch::kFloat, 3);
  write_hf_dir(writer, dir, HfWriteOptions{});
  auto tensors = load_tensors(dir + "/model.safetensors");
  tensors.erase("model.layers.1.mlp.up_proj.weight");                    // missing
  tensors["model.layers.0.self_attn.q_proj.bias"] = torch::zeros({32});  // unexpected
  tensors["model.norm.weight"] = torch::ones({31});                      // wrong shape
  NamedTensors list(tensors.begin(), tensors.end());
  save_tensors(dir + "/model.safetensors", list);
  try {
    load_via_config(config_for(dir));
    FAIL() << "expected an error";
  } catch (const PretrainedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing (1)"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.0.self_attn.q_proj.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("model.norm.weight (file [31], model [32])"), std::string::npos) << m;
  }
  RunConfig c = config_for(dir);
  c.init_from_ignore = {"*.up_proj.weight", "*.bias", "model.norm.weight"};
  PretrainedLoad report;
  EXPECT_NO_THROW(load_via_config(c, &report));
  // file side: layer 0 up_proj, the bias, the norm; model side: both up_proj and the norm
  EXPECT_EQ(report.ignored.size(), 6u);
}

TEST(InitFrom, ArchitectureComesFromConfigJsonAndConflictsNameBothValues) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/model";
  BitNetLM writer = writer_model(true, torch::kFloat, 3);
  write_hf_dir(writer, dir, HfWriteOptions{.llama = true});
  RunConfig c = config_for(dir);
  c.model.intermediate_size = 48;  // equal: fine
  EXPECT_EQ(resolve_init_from(c).model.intermediate_size, 48);
  c.model.hidden_size = 64;                        // differs from config.json's 32
  c.model.hidden_act = formats::HiddenAct::relu2;  // the default: taken from config.json (silu)
  try {
    resolve_init_from(c);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.hidden_size is 64 in the run config but 32 in"), std::string::npos) << m;
    EXPECT_EQ(m.find("hidden_act"), std::string::npos) << m;
  }
}

TEST(InitFrom, BadShardNamesAndUnsupportedConfigsAreRefusedByName) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/model";
  BitNetLM writer = writer_model(false, torch::kFloat, 3);
  write_hf_dir(writer, dir, HfWriteOptions{.llama = false, .shards = 2});
  nlohmann::json good;
  std::ifstream(dir + "/config.json") >> good;
  const std::string index = dir + "/model.safetensors.index.json";
  std::string good_index;
  std::getline(std::ifstream(index), good_index, '\0');
  std::ofstream(index) << R"({"weight_map": {"model.norm.weight": "../escape.safetensors"}})";
  EXPECT_THROW(inspect_pretrained(dir), PretrainedError);
  std::ofstream(index) << good_index;
  struct Bad {
    nlohmann::json patch;
    const char* message;
  };
  for (const Bad& b :
       {Bad{{{"quantization_config", {{"quant_method", "gptq"}}}}, "quant_method \"bitnet\""},
        Bad{{{"quantization_config", {{"quant_method", "bitnet"}, {"use_rms_norm", true}}}}, "use_rms_norm"},
        Bad{{{"quantization_config",
              {{"quant_method", "bitnet"}, {"linear_class", "autobitlinear"}, {"quantization_mode", "later"}}}},
            "quantization_mode \"later\""},
        Bad{{{"rope_parameters", {{"rope_type", "llama3"}, {"rope_theta", 5e5}}}}, "rope_type \"llama3\""},
        Bad{{{"rope_scaling", {{"type", "linear"}}}}, "rope_scaling"},
        Bad{{{"tie_word_embeddings", "yes"}}, "'tie_word_embeddings' must be true or false"}}) {
    nlohmann::json cfg = good;
    cfg.update(b.patch);
    std::ofstream(dir + "/config.json") << cfg.dump();
    try {
      inspect_pretrained(dir);
      ADD_FAILURE() << "accepted " << b.patch.dump();
    } catch (const PretrainedError& e) {
      EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
    }
  }
}

// Keys config.json leaves out take the defaults of the model type's transformers config class.
TEST(InitFrom, MissingKeysTakeTheTransformersDefaultsOfTheModelType) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/model";
  for (const bool llama : {false, true}) {
    BitNetLM writer = writer_model(llama, torch::kFloat, 3);
    write_hf_dir(writer, dir, HfWriteOptions{.llama = llama});
    nlohmann::json cfg;
    std::ifstream(dir + "/config.json") >> cfg;
    for (const char* key :
         {"rope_theta", "rms_norm_eps", "tie_word_embeddings", "hidden_act", "max_position_embeddings"}) {
      cfg.erase(key);
    }
    std::ofstream(dir + "/config.json") << cfg.dump();
    const ModelConfig m = inspect_pretrained(dir).model;
    EXPECT_EQ(m.rope_theta, llama ? 10000.0 : 500000.0);
    EXPECT_EQ(m.rms_norm_eps, llama ? 1e-6 : 1e-5);
    EXPECT_FALSE(m.tie_embeddings);
    EXPECT_STREQ(enum_name(m.hidden_act), llama ? "silu" : "relu2");
    EXPECT_EQ(m.max_seq_len, 2048);
    cfg["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1234.0}};  // transformers 5's spelling
    std::ofstream(dir + "/config.json") << cfg.dump();
    EXPECT_EQ(inspect_pretrained(dir).model.rope_theta, 1234.0);
  }
}

TEST(InitFrom, GlobPatterns) {
  EXPECT_TRUE(name_matches("*", "a.b"));
  EXPECT_TRUE(name_matches("model.layers.*.q_proj.weight", "model.layers.10.q_proj.weight"));
  EXPECT_FALSE(name_matches("model.layers.*.q_proj.weight", "model.layers.1.k_proj.weight"));
  EXPECT_TRUE(name_matches("lm_head.weight", "lm_head.weight"));
  EXPECT_FALSE(name_matches("lm_head", "lm_head.weight"));
}

}  // namespace
}  // namespace bitnet
