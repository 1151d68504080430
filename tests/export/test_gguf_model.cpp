// The torch-free GGUF model loader (kernels/gguf_model.h) on handcrafted files: a valid tiny
// model loads with the codes and scales we wrote; every kind of bad file is a clean KernelError
// naming the problem (never a crash); and the F16/Q8_0 token table's AVX2 GEMV equals the scalar
// reference bit for bit and the plain dot product of the dequantized rows closely.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <random>

#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/q8_0.h"
#include "formats/ternary_pack.h"
#include "kernels/errors.h"
#include "kernels/gguf_model.h"

namespace {

using namespace bitnet;
using formats::GgmlType;

constexpr int64_t H = 256, I = 512, V = 40, L = 1, HEADS = 4, KVH = 2;

// Builds a valid tiny GGUF in memory; `mutate` may change the writer before it is written.
struct TinyFile {
  std::deque<std::vector<uint8_t>> blobs;
  std::deque<std::vector<float>> floats;
  std::vector<std::vector<int8_t>> codes;  // per projection
  formats::GgufWriter w;

  void build(const std::string& arch = "bitnet", GgmlType ternary = GgmlType::TQ2_0, bool scales = true) {
    w.set("general.architecture", arch);
    const std::string p = arch + ".";
    w.set(p + "context_length", uint32_t{64});
    w.set(p + "embedding_length", uint32_t(H));
    w.set(p + "block_count", uint32_t(L));
    w.set(p + "feed_forward_length", uint32_t(I));
    w.set(p + "attention.head_count", uint32_t(HEADS));
    w.set(p + "attention.head_count_kv", uint32_t(KVH));
    w.set(p + "attention.layer_norm_rms_epsilon", 1e-5f);
    std::vector<std::string> toks;
    for (int i = 0; i < V; ++i) toks.push_back("t" + std::to_string(i));
    w.set("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.tokens", toks);
    std::mt19937 rng(5);
    auto f32 = [&](const std::string& name, int64_t n, float v) {
      floats.emplace_back(size_t(n), v);
      w.add_tensor({name, GgmlType::F32, {n}, floats.back().data(), size_t(n) * 4});
    };
    std::vector<float> emb(size_t(V * H));
    for (auto& x : emb) x = std::uniform_real_distribution<float>(-1, 1)(rng);
    blobs.push_back(formats::quantize_q8_0(emb.data(), V * H));
    w.add_tensor({"token_embd.weight", GgmlType::Q8_0, {H, V}, blobs.back().data(), blobs.back().size()});
    f32("output_norm.weight", H, 1.0f);
    f32("blk.0.attn_norm.weight", H, 1.0f);
    f32("blk.0.attn_sub_norm.weight", H, 1.0f);
    f32("blk.0.ffn_norm.weight", H, 1.0f);
    f32("blk.0.ffn_sub_norm.weight", I, 1.0f);
    const int64_t kv = KVH * (H / HEADS);
    const int64_t rows[] = {H, kv, kv, H, I, I, H}, cols[] = {H, H, H, H, H, H, I};
    for (size_t k = 0; k < 7; ++k) {
      std::vector<int8_t> c(size_t(rows[k] * cols[k]));
      for (auto& t : c) t = int8_t(int(rng() % 3) - 1);
      codes.push_back(c);
      blobs.push_back(ternary == GgmlType::TQ2_0 ? formats::pack_tq2_0(c.data(), rows[k], cols[k])
                                                 : formats::pack_tq1_0(c.data(), rows[k], cols[k]));
      const std::string stem = formats::projection_names()[k].gguf;
      w.add_tensor(
          {"blk.0." + stem + ".weight", ternary, {cols[k], rows[k]}, blobs.back().data(), blobs.back().size()});
      if (scales) f32("blk.0." + stem + ".scale", 1, 0.25f + 0.125f * float(k));
    }
  }
  std::vector<uint8_t> bytes(const std::string& dir) {
    const std::string path = dir + "/m.gguf";
    w.write(path);
    FILE* f = std::fopen(path.c_str(), "rb");
    std::vector<uint8_t> out;
    int c;
    while ((c = std::fgetc(f)) != EOF) out.push_back(uint8_t(c));
    std::fclose(f);
    return out;
  }
};

std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string d = ::testing::TempDir() + "/gguf_model_" + info->name();
  std::string cmd = "mkdir -p '" + d + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return d;
}

kernels::LoadedModel load(std::vector<uint8_t> bytes) {
  return kernels::load_gguf_model(formats::GgufReader::from_bytes(std::move(bytes), "m.gguf"),
                                  kernels::KernelPath::scalar);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kernels::KernelError& e) {
    return e.what();
  } catch (const formats::FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(GgufModel, ValidFileLoadsCodesAndScales) {
  for (GgmlType ty : {GgmlType::TQ2_0, GgmlType::TQ1_0}) {
    TinyFile f;
    f.build("bitnet", ty);
    kernels::LoadedModel m = load(f.bytes(temp_dir()));
    EXPECT_EQ(m.weights.spec.act, formats::HiddenAct::silu);
    EXPECT_TRUE(m.weights.spec.tie_embeddings);
    EXPECT_EQ(m.weights.spec.vocab_size, V);
    EXPECT_EQ(m.weight_type, ty);
    const auto& Lw = m.weights.layers[0];
    const kernels::TernaryMatrix* mats[] = {&Lw.q, &Lw.k, &Lw.v, &Lw.o, &Lw.gate, &Lw.up, &Lw.down};
    for (size_t k = 0; k < 7; ++k) {
      EXPECT_EQ(mats[k]->unpack(), f.codes[k]) << k;
      EXPECT_EQ(mats[k]->w_scale(), 0.25f + 0.125f * float(k));  // d = 1 times the .scale value
    }
    kernels::Session s(m.weights);
    EXPECT_EQ(s.prefill({1, 2, 3}).size(), size_t(V));
  }
}

TEST(GgufModel, Relu2ArchitectureAndMissingScalesDefaultToOne) {
  TinyFile f;
  f.build("bitnet-b1.58", GgmlType::TQ2_0, false);
  kernels::LoadedModel m = load(f.bytes(temp_dir()));
  EXPECT_EQ(m.weights.spec.act, formats::HiddenAct::relu2);
  EXPECT_EQ(m.weights.layers[0].q.w_scale(), 1.0f);
}

TEST(GgufModel, BadFilesGiveCleanErrors) {
  const std::string dir = temp_dir();
  auto expect_error = [&](const std::function<void(TinyFile&)>& mutate, const std::string& needle) {
    TinyFile f;
    f.build();
    mutate(f);
    std::vector<uint8_t> b = f.bytes(dir);
    const std::string e = error_of([&] { load(b); });
    EXPECT_NE(e.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << e;
  };
  expect_error([](TinyFile& f) { f.w.set("general.architecture", "llama"); }, "not a BitNet model");
  expect_error([](TinyFile& f) { f.w.set(formats::gguf_key::kHiddenAct, "relu2"); }, "computes silu");
  expect_error([](TinyFile& f) { f.w.set("bitnet.embedding_length", uint32_t{512}); }, "token_embd.weight");
  expect_error([](TinyFile& f) { f.w.set("bitnet.block_count", uint32_t{100000}); }, "outside");
  expect_error([](TinyFile& f) { f.w.set("bitnet.block_count", std::string("two")); }, "must be an integer");
  expect_error([](TinyFile& f) { f.w.set("bitnet.attention.head_count", uint32_t{3}); }, "inconsistent");
  expect_error([](TinyFile& f) { f.w.set("bitnet.attention.layer_norm_rms_epsilon", std::nanf("")); }, "not finite");
  expect_error([](TinyFile& f) { f.w.set("tokenizer.ggml.tokens", std::vector<std::string>{"a"}); }, "1 tokens");
  expect_error(
      [](TinyFile& f) {
        static float extra = 1.0f;
        f.w.add_tensor({"blk.0.surprise.weight", GgmlType::F32, {1}, &extra, 4});
      },
      "unexpected tensor");
  expect_error(
      [](TinyFile& f) {
        static std::vector<float> head(size_t(V * H), 0.0f);
        f.w.add_tensor({"output.weight", GgmlType::F32, {H, V}, head.data(), head.size() * 4});
      },
      "untied model must be");
  expect_error([](TinyFile& f) { f.w.set("bitnet.feed_forward_length", uint32_t{768}); }, "ffn_sub_norm");
}

TEST(GgufModel, WrongTensorTypeAndBadCodesAndMixedBlockScales) {
  const std::string dir = temp_dir();
  {
    TinyFile f;
    f.build();
    std::vector<uint8_t> b = f.bytes(dir);
    formats::GgufReader r = formats::GgufReader::from_bytes(b, "m.gguf");
    const formats::GgufTensorInfo* t = r.find("blk.0.attn_k.weight");
    ASSERT_NE(t, nullptr);
    std::vector<uint8_t> bad = b;
    bad[t->offset] = 0xFF;  // code 3 in TQ2_0 is invalid
    EXPECT_NE(error_of([&] { load(bad); }).find("attn_k"), std::string::npos);
    bad = b;
    const uint16_t two = formats::float_to_half(2.0f);
    std::memcpy(&bad[t->offset + 64], &two, 2);  // block 0 d = 2, the others 1
    EXPECT_NE(error_of([&] { load(bad); }).find("one scale per tensor"), std::string::npos);
  }
  // A file cut short, a bad magic: the GGUF reader's errors come through as clean errors.
  TinyFile f;
  f.build();
  std::vector<uint8_t> b = f.bytes(dir);
  std::vector<uint8_t> cut(b.begin(), b.begin() + b.size() / 2);
  EXPECT_FALSE(error_of([&] { load(cut); }).empty());
  b[0] = 'X';
  EXPECT_FALSE(error_of([&] { load(b); }).empty());
  EXPECT_NE(error_of([&] { kernels::load_gguf_model(dir + "/does-not-exist.gguf", kernels::KernelPath::scalar); }), "");
}

TEST(TokenTable, SimdEqualsScalarAndDequantizedDot) {
  std::mt19937 rng(9);
  for (int64_t cols : {32, 44, 256, 2560}) {  // 44: F16's 16-lane loop leaves a tail (Q8_0 needs % 32)
    const int64_t rows = 37;
    std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols));
    for (auto& v : w) v = std::normal_distribution<float>(0, 1)(rng);
    for (auto& v : x) v = std::normal_distribution<float>(0, 1)(rng);
    std::vector<uint8_t> q8 = cols % 32 == 0 ? formats::quantize_q8_0(w.data(), rows * cols) : std::vector<uint8_t>{};
    std::vector<uint8_t> f16(size_t(rows * cols) * 2);
    for (size_t i = 0; i < w.size(); ++i) {
      const uint16_t h = formats::float_to_half(w[i]);
      std::memcpy(&f16[2 * i], &h, 2);
    }
    for (auto [type, bytes] :
         {std::pair{kernels::TokenTable::Type::q8_0, &q8}, std::pair{kernels::TokenTable::Type::f16, &f16}}) {
      if (bytes->empty()) continue;
      kernels::TokenTable t(type, rows, cols, bytes->data(), bytes->size());
      std::vector<float> a(static_cast<size_t>(rows)), b(static_cast<size_t>(rows)), row(static_cast<size_t>(cols));
      kernels::ThreadPool pool(2);
      t.gemv(x.data(), a.data(), nullptr, kernels::KernelPath::scalar);
      t.gemv(x.data(), b.data(), &pool, kernels::KernelPath::avx2);
      for (int64_t r = 0; r < rows; ++r) {
        EXPECT_EQ(std::memcmp(&a[size_t(r)], &b[size_t(r)], 4), 0) << "row " << r << " cols " << cols;
        t.row(r, row.data());
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < cols; ++i) {
          ref += double(row[size_t(i)]) * double(x[size_t(i)]);
          mag += std::fabs(double(row[size_t(i)]) * double(x[size_t(i)]));
        }
        EXPECT_NEAR(a[size_t(r)], ref, 1e-5 * mag + 1e-6);
      }
    }
  }
  EXPECT_THROW(kernels::TokenTable(kernels::TokenTable::Type::q8_0, 2, 40, nullptr, 0), kernels::KernelError);
}

}  // namespace
