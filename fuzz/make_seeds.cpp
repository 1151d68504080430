// Writes the binary seed corpora of fuzz/corpus/ with the project's own writers, so every seed
// is a valid file the fuzzers start from: GGUF (a plain container and a minimal BitNet model),
// safetensors, token shards and HDF5 token files. Usage: bitnet_fuzz_seeds <fuzz/corpus>.
// The text seeds (tokenizer.json, JSONL, YAML) are kept by hand in the corpus folders.
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "formats/ternary_pack.h"
#include "formats/token_shard.h"

using namespace bitnet::formats;

namespace {

void small_gguf(const std::string& path) {
  GgufWriter w;
  w.set("general.architecture", "test");
  w.set("test.count", GgufValue{uint32_t{3}});
  w.set("test.names", GgufValue{std::vector<std::string>{"a", "bc"}});
  w.set("test.scale", GgufValue{1.5f});
  const std::vector<float> f32 = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> f16 = {0x3C00, 0x4000, 0x4200, 0x4400};
  w.add_tensor({"a.weight", GgmlType::F32, {3, 2}, f32.data(), f32.size() * 4});
  w.add_tensor({"b.weight", GgmlType::F16, {4}, f16.data(), f16.size() * 2});
  w.write(path);
}

// The smallest model load_gguf_model accepts: hidden 256 (a TQ1_0 block), one layer, 128 heads
// of dimension 2 sharing one KV head, intermediate 256, a 4-token vocabulary. About 75 KB: the
// five 256 x 256 ternary projections alone are 69 KB.
void model_gguf(const std::string& path) {
  const int64_t H = 256, I = 256, KV = 2, V = 4;
  const std::string a = "bitnet-b1.58";
  GgufWriter w;
  w.set("general.architecture", a.c_str());
  w.set(a + ".embedding_length", GgufValue{uint32_t(H)});
  w.set(a + ".block_count", GgufValue{uint32_t{1}});
  w.set(a + ".feed_forward_length", GgufValue{uint32_t(I)});
  w.set(a + ".attention.head_count", GgufValue{uint32_t{128}});
  w.set(a + ".attention.head_count_kv", GgufValue{uint32_t{1}});
  w.set(a + ".context_length", GgufValue{uint32_t{8}});
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue{1e-5f});
  w.set("tokenizer.ggml.model", "gpt2");
  w.set("tokenizer.ggml.tokens", GgufValue{std::vector<std::string>{"a", "b", "c", "d"}});
  w.set("tokenizer.ggml.eos_token_id", GgufValue{uint32_t{3}});
  std::vector<float> embd(static_cast<size_t>(H * V));
  for (size_t i = 0; i < embd.size(); ++i) embd[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
  const std::vector<float> ones_h(H, 1.0f), ones_i(I, 1.0f);
  // Kept alive until write(): the writer stores pointers.
  std::vector<std::vector<uint8_t>> packed;
  std::vector<std::string> names;
  w.add_tensor({"token_embd.weight", GgmlType::F32, {H, V}, embd.data(), embd.size() * 4});
  w.add_tensor({"output_norm.weight", GgmlType::F32, {H}, ones_h.data(), H * 4});
  for (const char* n : {"attn_norm", "attn_sub_norm", "ffn_norm"}) {
    w.add_tensor({std::string("blk.0.") + n + ".weight", GgmlType::F32, {H}, ones_h.data(), H * 4});
  }
  w.add_tensor({"blk.0.ffn_sub_norm.weight", GgmlType::F32, {I}, ones_i.data(), I * 4});
  struct Proj {
    const char* stem;
    int64_t rows, cols;
  };
  const Proj projs[] = {{"attn_q", H, H},   {"attn_k", KV, H}, {"attn_v", KV, H}, {"attn_output", H, H},
                        {"ffn_gate", I, H}, {"ffn_up", I, H},  {"ffn_down", H, I}};
  packed.reserve(7);
  for (const Proj& p : projs) {
    std::vector<int8_t> trits(static_cast<size_t>(p.rows * p.cols));
    for (size_t i = 0; i < trits.size(); ++i) trits[i] = static_cast<int8_t>(static_cast<int>(i * 7 % 3) - 1);
    packed.push_back(pack_tq1_0(trits.data(), p.rows, p.cols));
    w.add_tensor({std::string("blk.0.") + p.stem + ".weight",
                  GgmlType::TQ1_0,
                  {p.cols, p.rows},
                  packed.back().data(),
                  packed.back().size()});
  }
  w.write(path);
}

void safetensors_seeds(const std::string& dir) {
  const std::vector<float> f32 = {1, 2, 3, 4, 5, 6};
  const std::vector<int64_t> i64 = {7, -8};
  const std::vector<uint16_t> bf16 = {0x3F80, 0x4000, 0x4040};
  write_safetensors(dir + "/two.safetensors",
                    {{"w", DType::F32, {2, 3}, f32.data(), 24}, {"ids", DType::I64, {2}, i64.data(), 16}},
                    {{"format", "pt"}});
  write_safetensors(dir + "/bf16.safetensors", {{"x", DType::BF16, {3}, bf16.data(), 6}});
  write_safetensors(dir + "/empty.safetensors", {});
}

void shard_seeds(const std::string& dir) {
  TokenShard s;
  s.vocab_size = 16;
  s.tokenizer_fingerprint = 0x1234;
  s.offsets = {0, 3, 3, 5};
  s.tokens = {1, 2, 3, 15, 0};
  write_token_shard(dir + "/plain.shard", s);
  s.mask = {0, 1, 1, 0, 1};
  s.masked = true;
  write_token_shard(dir + "/masked.shard", s);
}

template <typename T>
void h5_dataset(hid_t file, const char* name, std::vector<hsize_t> dims, const std::vector<T>& v, hid_t type) {
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Dclose(ds);
  H5Sclose(space);
}

// Dataset names match hdf5_tokens_fuzz.cpp: "tokens" + "offsets" (1-D) and "input_ids" (2-D).
void hdf5_seeds(const std::string& dir) {
  hid_t f = H5Fcreate((dir + "/all.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  h5_dataset<uint16_t>(f, "tokens", {6}, {5, 6, 2, 7, 8, 9}, H5T_NATIVE_UINT16);
  h5_dataset<int64_t>(f, "offsets", {2}, {0, 3}, H5T_NATIVE_INT64);
  h5_dataset<int32_t>(f, "input_ids", {2, 3}, {65, 66, 67, 68, 69, 70}, H5T_NATIVE_INT32);
  H5Fclose(f);
  f = H5Fcreate((dir + "/rows.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  h5_dataset<int64_t>(f, "input_ids", {1, 4}, {1, 2, 3, 4}, H5T_NATIVE_INT64);
  H5Fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <fuzz/corpus>\n", argv[0]);
    return 2;
  }
  const std::string c = argv[1];
  small_gguf(c + "/gguf_reader/small.gguf");
  model_gguf(c + "/gguf_model_forward/model.gguf");
  safetensors_seeds(c + "/safetensors_reader");
  shard_seeds(c + "/token_shard_reader");
  hdf5_seeds(c + "/hdf5_tokens");
  return 0;
}
