// init_from reads what transformers itself writes: tiny BitNet and LLaMA models made by
// tests/clients/hf_tiny_models.py (BitNetConfig / LlamaConfig, from_config, save_pretrained,
// seeded), in fp32, bf16, f16, sharded, with BitNet's quantization_config online and offline
// (weights packed by transformers' pack_weights). Our forward logits must equal transformers'
// forward on the same ids within kTolerance (fp32 on both sides; the sums run in different
// orders, and a sum landing on an int8 rounding midpoint may round to the neighbouring code).
// LoRA adapters go both ways with PEFT on such a base (tests/clients/peft_check.py): PEFT's
// PeftModel.from_pretrained runs our adapter/ and we run what PEFT's save_pretrained writes, with
// equal logits (PEFT wraps transformers' AutoBitLinear, so its base is ternary like ours; in PEFT,
// peft_check.py allows one position in ten such a rounding-midpoint flip).
// Fails (never skips) when .venv is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "checkpoint/model_options.h"
#include "layers/lora.h"
#include "layers/tensor_io.h"
#include "tests/support/temp_dir.h"
#include "trainer/finetune_setup.h"
#include "trainer/pretrained.h"

namespace bitnet {
namespace {

using bitnet::testing::TempDir;

const std::string kSource = BITNET_SOURCE_DIR;
const std::string kPython = BITNET_PYTHON;
constexpr double kTolerance = 1e-4;  // max |Δlogit|; measured below 1e-5 (see the test's output)

// The directories the client writes, made once for all tests of this file.
class TransformersModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const std::string command = "'" + kPython + "' '" + kSource + "/tests/clients/hf_tiny_models.py' '" + dir_->path() +
                                "' > '" + dir_->path("client.log") + "' 2>&1";
    status_ = std::system(command.c_str());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kPython)) << kPython << " is missing: run scripts/setup (it makes .venv)";
    std::ifstream log(dir_->path("client.log"));
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ASSERT_EQ(status_, 0) << "tests/clients/hf_tiny_models.py failed:\n" << text;
  }
  static std::string model(const std::string& name) { return dir_->path(name); }
  static TempDir* dir_;
  static int status_;
};
TempDir* TransformersModels::dir_ = nullptr;
int TransformersModels::status_ = -1;

struct Reference {
  torch::Tensor ids, logits;
};

Reference read_reference(const std::string& file) {
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in);
  Reference r;
  const auto ids = j["ids"].get<std::vector<std::vector<int64_t>>>();
  const auto logits = j["logits"].get<std::vector<std::vector<std::vector<float>>>>();
  const int64_t B = static_cast<int64_t>(ids.size()), T = static_cast<int64_t>(ids[0].size());
  const int64_t V = static_cast<int64_t>(logits[0][0].size());
  r.ids = torch::empty({B, T}, torch::kLong);
  r.logits = torch::empty({B, T, V}, torch::kFloat);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      r.ids[b][t] = ids[b][t];
      for (int64_t v = 0; v < V; ++v) r.logits[b][t][v] = logits[b][t][v];
    }
  }
  return r;
}

// The model a run with `init_from: dir` builds and loads (quantized unless `quantize` is false).
BitNetLM load_via_init_from(const std::string& dir, bool quantize, PretrainedLoad* report = nullptr) {
  RunConfig c;
  c.init_from = dir;
  c.data.paths = {"unused.txt"};
  c.train.precision = Precision::kFp32;
  c.data.seq_len = 16;
  if (!quantize) c.quant.mode = QuantMode::kNone;
  const RunConfig resolved = resolve_init_from(c);
  BitNetLM m(model_options(resolved, resolved.model.vocab_size));
  m->reset_parameters(99);
  PretrainedLoad r = load_pretrained(m, inspect_pretrained(dir), {});
  if (report) *report = r;
  return m;
}

double max_abs_diff(BitNetLM& m, const Reference& ref) {
  torch::NoGradGuard no_grad;
  const torch::Tensor ours = m(ref.ids);
  EXPECT_EQ(ours.sizes(), ref.logits.sizes());
  return (ours - ref.logits).abs().max().item<double>();
}

void expect_logits_match(const std::string& name, BitNetLM& m, const std::string& reference_file) {
  const double d = max_abs_diff(m, read_reference(reference_file));
  std::cout << name << ": max |logit difference| vs transformers " << d << "\n";
  EXPECT_LE(d, kTolerance) << name;
}

TEST_F(TransformersModels, BitNetOnlineMasterWeights) {
  for (const char* name : {"bitnet-online-f32", "bitnet-online-bf16"}) {
    SCOPED_TRACE(name);
    const PretrainedSource s = inspect_pretrained(model(name));
    EXPECT_EQ(s.packing, PretrainedSource::Packing::none);
    EXPECT_FALSE(s.model.tie_embeddings);  // BitNetConfig's default, written out by transformers
    EXPECT_EQ(s.model.rope_theta, 500000.0);
    EXPECT_EQ(s.model.rms_norm_eps, 1e-5);
    BitNetLM m = load_via_init_from(model(name), true);
    expect_logits_match(name, m, model(name) + "/reference.json");
  }
}

TEST_F(TransformersModels, BitNetOfflinePackedWeightsUnpackToCodesTimesScale) {
  const std::string dir = model("bitnet-offline");
  EXPECT_EQ(inspect_pretrained(dir).packing, PretrainedSource::Packing::scale_multiplies);
  PretrainedLoad report;
  BitNetLM m = load_via_init_from(dir, true, &report);
  EXPECT_EQ(report.unpacked, 2 * 7);
  // The latent weights are exactly transformers' own unpacking times weight_scale.
  const auto dequantized = load_tensors(dir + "/dequantized.safetensors");
  ASSERT_EQ(dequantized.size(), 14u);
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : m->named_parameters()) params.emplace(item.key(), item.value());
  for (const auto& [name, w] : dequantized) {
    ASSERT_TRUE(params.count(name)) << name;
    EXPECT_TRUE(torch::equal(params.at(name), w)) << name;
  }
  // Training from these weights computes transformers' online (QAT) forward of the same weights.
  expect_logits_match("bitnet-offline (online forward of codes x scale)", m, dir + "/reference_online.json");
  // The packed model itself multiplies by the stored scale; the training quantizer re-derives it
  // as mean|W| = scale x (fraction of non-zero codes), so the two differ: shown, not required.
  std::cout << "bitnet-offline: max |logit difference| vs transformers' offline forward of the packed model "
            << max_abs_diff(m, read_reference(dir + "/reference.json"))
            << " (expected to differ: rescaled projections)\n";
}

// The older `bitlinear` class stores 1 / scale and divides: the same model, the other convention.
TEST_F(TransformersModels, BitLinearScalesDivide) {
  namespace fs = std::filesystem;
  const std::string dir = dir_->path("bitlinear");
  fs::create_directories(dir);
  auto tensors = load_tensors(model("bitnet-offline") + "/model.safetensors");
  NamedTensors inverted;
  for (auto& [name, t] : tensors) {
    const bool scale = name.size() > 13 && name.compare(name.size() - 13, 13, ".weight_scale") == 0;
    inverted.emplace_back(name, scale ? (1.0 / t).contiguous() : t);
  }
  save_tensors(dir + "/model.safetensors", inverted);
  nlohmann::json config;
  std::ifstream(model("bitnet-offline") + "/config.json") >> config;
  config["quantization_config"]["linear_class"] = "bitlinear";
  std::ofstream(dir + "/config.json") << config.dump();
  ASSERT_EQ(inspect_pretrained(dir).packing, PretrainedSource::Packing::scale_divides);
  BitNetLM m = load_via_init_from(dir, true);
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : m->named_parameters()) params.emplace(item.key(), item.value());
  for (const auto& [name, w] : load_tensors(model("bitnet-offline") + "/dequantized.safetensors")) {
    EXPECT_TRUE(torch::allclose(params.at(name), w, 1e-6, 0)) << name;  // 1/(1/s) is s within an ulp
  }
}

TEST_F(TransformersModels, LlamaInF32F16AndShardedBf16) {
  for (const char* name : {"llama-f32", "llama-f16", "llama-bf16-sharded"}) {
    SCOPED_TRACE(name);
    const PretrainedSource s = inspect_pretrained(model(name));
    EXPECT_EQ(s.kind, "llama");
    EXPECT_EQ(s.model.rms_norm_eps, 1e-6);
    EXPECT_EQ(s.model.rope_theta, 10000.0);  // from rope_parameters
    if (std::string(name) == "llama-bf16-sharded") {
      EXPECT_GT(s.weight_files.size(), 1u);
    }
    // Unquantized: the reference is LLaMA itself plus the sub-norms of ones init_from inserts.
    BitNetLM m = load_via_init_from(model(name), false);
    expect_logits_match(name, m, model(name) + "/reference.json");
  }
}

int run_client(const std::string& args) {
  return std::system(("'" + kPython + "' '" + kSource + "/tests/clients/peft_check.py' " + args).c_str());
}

void write_logits(const std::string& file, const torch::Tensor& ids, const torch::Tensor& logits) {
  nlohmann::json j;
  j["ids"] = nlohmann::json::array();
  for (int64_t b = 0; b < ids.size(0); ++b) {
    std::vector<int64_t> row(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + ids.size(1));
    j["ids"].push_back(row);
  }
  const torch::Tensor l = logits.contiguous();
  j["logits"] = nlohmann::json::array();
  for (int64_t b = 0; b < l.size(0); ++b) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t t = 0; t < l.size(1); ++t) {
      rows.push_back(std::vector<float>(l[b][t].data_ptr<float>(), l[b][t].data_ptr<float>() + l.size(2)));
    }
    j["logits"].push_back(rows);
  }
  std::ofstream(file) << j.dump();
}

TEST_F(TransformersModels, PeftAdapterRunsInOurModel) {
  const std::string base = model("bitnet-online-f32"), adapter = dir_->path("peft-adapter");
  ASSERT_EQ(run_client("make '" + base + "' '" + adapter + "' '" + base + "/reference.json'"), 0);
  // A run with lora.adapter_from: PEFT writes target_modules in set order, ours lists them as we like.
  RunConfig c;
  c.init_from = base;
  c.data.paths = {"unused.txt"};
  c.train.precision = Precision::kFp32;
  c.data.seq_len = 16;
  c.lora.rank = 4;
  c.lora.alpha = 8;
  c.lora.target_modules = {"q_proj", "v_proj", "down_proj"};
  c.lora.adapter_from = adapter;
  const RunConfig resolved = resolve_init_from(c);
  BitNetLM m(model_options(resolved, resolved.model.vocab_size));
  const std::vector<std::string> lines = prepare_finetune(m, resolved, false);
  EXPECT_NE(lines.back().find("adapters loaded from"), std::string::npos) << lines.back();
  expect_logits_match("PEFT adapter in our model", m, adapter + "/reference.json");
}

TEST_F(TransformersModels, OurAdapterRunsInPeft) {
  const std::string base = model("bitnet-online-f32"), adapter = dir_->path("our-adapter");
  BitNetLM m = load_via_init_from(base, true);
  LoraSpec spec;
  spec.rank = 4;
  spec.alpha = 16;
  spec.target_modules = {"all-linear"};
  apply_lora(m, spec, 5);
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(6);
    for (auto& [name, t] : lora_parameters(m)) t.copy_(torch::randn_like(t) * 0.05);  // B = 0 would test nothing
  }
  save_peft_adapter(adapter, m, spec, base);
  const Reference ref = read_reference(base + "/reference.json");
  torch::NoGradGuard no_grad;
  write_logits(dir_->path("ours.json"), ref.ids, m(ref.ids));
  EXPECT_EQ(run_client("load '" + base + "' '" + adapter + "' '" + dir_->path("ours.json") + "' " +
                       std::to_string(kTolerance)),
            0);
}

// PEFT options that change what an adapter computes are refused by name, not ignored.
TEST(PeftOptions, UnsupportedOnesAreRefusedByName) {
  TempDir tmp;
  BitNetLM m(BitNetOptions{
      .vocab_size = 16, .hidden_size = 8, .num_layers = 1, .num_heads = 2, .num_kv_heads = 2, .intermediate_size = 8});
  LoraSpec spec;
  spec.rank = 2;
  apply_lora(m, spec, 1);
  save_peft_adapter(tmp.path("a"), m, spec, "base");
  nlohmann::json good;
  std::ifstream(tmp.path("a/adapter_config.json")) >> good;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"use_dora", true},
                                                           {"lora_bias", true},
                                                           {"fan_in_fan_out", true},
                                                           {"layers_to_transform", {0}},
                                                           {"exclude_modules", {"o_proj"}},
                                                           {"target_modules", ".*proj"},
                                                           {"bias", "all"},
                                                           {"rank_pattern", {{"q_proj", 8}}},
                                                           {"modules_to_save", {"lm_head"}}}) {
    nlohmann::json j = good;
    j[key] = value;
    std::ofstream(tmp.path("a/adapter_config.json")) << j.dump();
    try {
      read_peft_adapter(tmp.path("a"));
      ADD_FAILURE() << key << " was accepted";
    } catch (const LoraError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace bitnet
