// `bitnet bench kernels`: the per-path GEMV figures (runs bitnet_bench_kernels).
// `bitnet bench make-model OUT.gguf`: a random 2B4T-shaped SiLU model (llama.cpp runs it too).
// `bitnet bench generate MODEL.gguf [--threads 1,2]`: prefill and decode tokens/s of our kernels
// beside the streaming-read bound measured in the same run (bytes read per decoded token / read
// GB/s) and, with --llama-cpp, llama.cpp (llama-cpp-python) on the same file and thread counts;
// then where decode time goes, op by op (kernels/op_profile.h), at each thread count.
// Figures only: nothing here passes or fails on time.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/bench_paths.h"
#include "cli/bench_train_peer.h"
#include "cli/commands.h"
#include "cli/runtime.h"
#include "export/export_files.h"
#include "export/random_model.h"
#include "kernels/gguf_model.h"
#include "kernels/op_profile.h"
#include "kernels/sampling.h"

namespace bitnet::cli {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

__attribute__((target("avx2"))) uint64_t sum_avx2(const uint64_t* p, int64_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return out[0] + out[1] + out[2] + out[3];
}

// Streaming read (AVX2 loads) of a 512 MiB buffer, GB/s over the pool: one warm-up pass, >= 0.5 s.
double read_bandwidth(kernels::ThreadPool& pool) {
  const size_t n = size_t{512} << 20;
  std::vector<uint64_t> buf(n / 8, 1);
  std::vector<uint64_t> sink(static_cast<size_t>(pool.size()), 0);
  auto pass = [&] {
    pool.run([&](int w, int k) {
      int64_t b = 0, e = 0;
      kernels::split_range(static_cast<int64_t>(buf.size()), 512, w, k, &b, &e);
      sink[size_t(w)] += sum_avx2(buf.data() + b, e - b);
    });
  };
  pass();
  int reps = 0;
  const auto t0 = Clock::now();
  do {
    pass();
    ++reps;
  } while (since(t0) < 0.5);
  const double secs = since(t0);
  if (sink[0] == 7) std::printf(" ");
  return double(n) * reps / secs / 1e9;
}

struct GenBenchArgs {
  std::string model;
  std::vector<int> threads = {1, 2};
  int prompt_tokens = 64, decode_tokens = 16;
  bool llama_cpp = false;
};

// Weight bytes each op reads per decoded token (0 for ops that read no weights).
std::vector<uint64_t> weight_bytes_per_op(const kernels::ModelWeights& w) {
  using kernels::Op;
  std::vector<uint64_t> bytes(size_t(kernels::kOpCount), 0);
  auto add = [&](Op op, const kernels::TernaryMatrix& m) { bytes[size_t(op)] += uint64_t(m.packed_bytes()); };
  for (const auto& L : w.layers) {
    for (const kernels::TernaryMatrix* m : {&L.q, &L.k, &L.v}) add(Op::proj_attn_qkv, *m);
    add(Op::proj_attn_out, L.o);
    add(Op::proj_ffn_gate_up, L.gate);
    add(Op::proj_ffn_gate_up, L.up);
    add(Op::proj_ffn_down, L.down);
  }
  const kernels::TokenTable& head = w.spec.tie_embeddings ? w.token_table : w.output_table;
  bytes[size_t(Op::lm_head)] = head.empty() ? uint64_t(w.spec.vocab_size * w.spec.hidden_size * 4) : head.nbytes();
  return bytes;
}

struct DecodeProfile {
  int threads;
  kernels::OpProfile profile;
};

// One column pair per thread count: ms per decoded token and share of the decode time, plus the
// weight-reading ops' GB/s (compare with the read GB/s above).
void print_decode_profiles(const std::vector<DecodeProfile>& runs, const std::vector<uint64_t>& bytes) {
  using kernels::Op;
  std::printf("\ndecode time per op (ms/token, %% of decode; GB/s of weight reads), same runs as above:\n");
  std::printf("%-18s", "op");
  for (const auto& r : runs) std::printf("   %2d thread%s %17s", r.threads, r.threads == 1 ? " " : "s", "");
  std::printf("\n");
  for (int i = 0; i < kernels::kOpCount; ++i) {
    const Op op = static_cast<Op>(i);
    std::printf("%-18s", kernels::op_name(op));
    for (const auto& r : runs) {
      const double tokens = double(std::max<int64_t>(r.profile.tokens(), 1));
      const double secs = r.profile.seconds(op) / tokens;
      std::printf("   %8.3f %6.1f%%", 1e3 * secs, 100.0 * r.profile.seconds(op) / r.profile.total_seconds());
      if (bytes[size_t(i)] > 0 && secs > 0) {
        std::printf(" %7.2f GB/s", double(bytes[size_t(i)]) / secs / 1e9);
      } else {
        std::printf(" %12s", "");
      }
    }
    std::printf("\n");
  }
  std::printf("%-18s", "total");
  for (const auto& r : runs) {
    const double tokens = double(std::max<int64_t>(r.profile.tokens(), 1));
    std::printf("   %8.3f %6.1f%% %12s", 1e3 * r.profile.total_seconds() / tokens, 100.0, "");
  }
  std::printf("\n%-18s", "pool jobs/token");
  for (const auto& r : runs) {
    const double tokens = double(std::max<int64_t>(r.profile.tokens(), 1));
    std::printf("   %8.1f %20s", double(r.profile.pool_jobs()) / tokens, "");
  }
  std::printf("\n");
}

int bench_generate(const GenBenchArgs& a) {
  kernels::LoadedModel lm = kernels::load_gguf_model(a.model, kernels::select_kernel_path());
  const kernels::ModelWeights& w = lm.weights;
  const std::vector<uint64_t> op_bytes = weight_bytes_per_op(w);
  uint64_t bytes = 0;  // read per decoded token: packed projections + the LM head table
  for (uint64_t b : op_bytes) bytes += b;
  std::printf("model %s: %s, %lld layers, hidden %lld, vocab %lld, %s projections, %s embedding, kernels %s\n",
              a.model.c_str(), lm.architecture.c_str(), (long long)w.spec.num_layers, (long long)w.spec.hidden_size,
              (long long)w.spec.vocab_size, formats::ggml_type_name(lm.weight_type),
              formats::ggml_type_name(lm.embd_type), kernels::kernel_path_name(kernels::select_kernel_path()));
  std::printf("bytes read per decoded token: %.1f MB (repacked 2-bit projections + LM head)\n", double(bytes) / 1e6);
  std::vector<int32_t> prompt(static_cast<size_t>(a.prompt_tokens));
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t(32 + (i * 7) % 90);
  std::printf("%-8s %-10s %14s %14s %12s %14s\n", "threads", "engine", "prefill tok/s", "decode tok/s", "read GB/s",
              "decode/bound");
  std::vector<DecodeProfile> profiles;
  profiles.reserve(a.threads.size());
  for (int t : a.threads) {
    kernels::ThreadPool pool(t);
    const double bw = read_bandwidth(pool);
    const double bound = bw * 1e9 / double(bytes);
    kernels::Session s(w, &pool);
    s.prefill({prompt[0]});  // warm-up
    s.reset();
    auto t0 = Clock::now();
    std::vector<float> logits = s.prefill(prompt);
    const double pre = double(prompt.size()) / since(t0);
    // Decode greedily, as the llama.cpp script does; the profile laps the sampling itself.
    int32_t next = 65;
    profiles.push_back({t, {}});
    kernels::OpProfile& profile = profiles.back().profile;
    t0 = Clock::now();
    s.set_profile(&profile);
    for (int i = 0; i < a.decode_tokens; ++i) {
      logits = s.decode(next);
      next = kernels::sample_greedy(logits);
      profile.lap(kernels::Op::sampling);
    }
    const double dec = a.decode_tokens / since(t0);
    s.set_profile(nullptr);
    std::printf("%-8d %-10s %14.1f %14.2f %12.2f %13.0f%%  (bound %.2f tok/s)\n", t, "bitnet", pre, dec, bw,
                100.0 * dec / bound, bound);
    std::fflush(stdout);
    if (a.llama_cpp) {
      const std::string cmd = bench_python() + " '" + bench_script("llama_cpp_bench.py") + "' '" + a.model + "' " +
                              std::to_string(t) + " " + std::to_string(a.prompt_tokens) + " " +
                              std::to_string(a.decode_tokens) + " " + std::to_string(bound);
      if (std::system(cmd.c_str()) != 0) std::printf("%-8d %-10s (failed: %s)\n", t, "llama.cpp", cmd.c_str());
      std::fflush(stdout);
    }
  }
  print_decode_profiles(profiles, op_bytes);
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = bench_group(app);
  cmd->require_subcommand(1);
  auto* k = cmd->add_subcommand("kernels", "GEMV GB/s and GOPS per kernel path for the 2B4T projection shapes.");
  k->allow_extras();
  k->callback([=] {
    std::string c = "'" + bench_kernels_program() + "'";
    for (const auto& e : k->remaining()) c += " '" + e + "'";
    *exit_code = std::system(c.c_str()) == 0 ? 0 : 1;
  });
  auto g = std::make_shared<GenBenchArgs>();
  auto* gen = cmd->add_subcommand("generate", "Prefill/decode tokens/s vs the read-bandwidth bound (and llama.cpp).");
  gen->add_option("model", g->model, "GGUF export")->required();
  gen->add_option("--threads", g->threads, "thread counts (default 1 2)");
  gen->add_option("--prompt-tokens", g->prompt_tokens, "prefill length (default 64)");
  gen->add_option("--decode-tokens", g->decode_tokens, "decoded tokens timed (default 16)");
  gen->add_flag("--llama-cpp", g->llama_cpp, "also time llama.cpp (llama-cpp-python from .venv) on the same file");
  gen->callback([=] { *exit_code = bench_generate(*g); });

  auto mk =
      std::make_shared<std::tuple<std::string, std::string, std::string, std::string>>("", "tq2_0", "f16", "2b4t");
  auto* make =
      cmd->add_subcommand("make-model", "Write a random ternary SiLU model GGUF (default: the 2B4T shape; ~1 GB).");
  make->add_option("out", std::get<0>(*mk), "output .gguf (keep it out of the repository, e.g. /tmp)")->required();
  make->add_option("--type", std::get<1>(*mk), "tq2_0 | tq1_0");
  make->add_option("--embd-type", std::get<2>(*mk), "f16 | q8_0 | f32");
  make->add_option("--shape", std::get<3>(*mk), "2b4t | small (hidden 512, 4 layers, vocab 4096)");
  make->callback([=] {
    BitNetOptions o = exporting::shape_2b4t();
    if (std::get<3>(*mk) == "small") {
      o.hidden_size = 512;
      o.num_layers = 4;
      o.num_heads = 8;
      o.num_kv_heads = 2;
      o.intermediate_size = 1536;
      o.vocab_size = 4096;
    }
    exporting::QuantizedModel m = exporting::random_model(o, 1234);
    exporting::ExportSummary s =
        exporting::write_gguf(m, std::get<0>(*mk), exporting::parse_ternary_type(std::get<1>(*mk)),
                              exporting::parse_embd_type(std::get<2>(*mk)));
    std::printf("wrote %s: %.1f MB (%.4f bits/weight ternary); the same model in bf16: %.1f MB\n", s.path.c_str(),
                double(s.file_bytes) / 1e6, s.ternary_bits_per_weight(), double(s.bf16_bytes) / 1e6);
    *exit_code = 0;
  });
}

}  // namespace bitnet::cli
