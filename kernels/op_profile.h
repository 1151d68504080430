// OpProfile: where a Session's forward spends its wall time, op by op (what `bitnet bench generate`
// prints per decoded token). It is a lap timer on the calling thread: the forward calls lap(op)
// right after each op, and the time since the previous lap goes to that op, so consecutive laps
// tile the timeline and the ops always sum to total_seconds(). Time the calling thread spends
// inside ThreadPool::run() dispatching a job or waiting for the other workers (the pool measures
// it while a profile is attached) is moved from the op to Op::pool_sync; the caller's own share of
// a parallel op stays with the op. Off (no profile attached) the forward pays one null-pointer
// test per op; on, one steady_clock read per op and two per parallel job.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "kernels/thread_pool.h"

namespace bitnet::kernels {

enum class Op {
  caller,         // between two forward calls, not lapped by the caller (e.g. its own work)
  embedding,      // input checks and the token-row lookups
  rms_norm,       // every RMSNorm, the final one included
  quantize,       // int8 activation quantization (and the activation observer, when set)
  proj_attn_qkv,  // the q, k, v projections (ternary GEMV/GEMM + fp32 rescale)
  rope,
  attention,         // KV-cache append and the attention heads
  proj_attn_out,     // the o projection
  residual,          // the residual additions
  proj_ffn_gate_up,  // the gate and up projections
  glu,               // act(gate) * up
  proj_ffn_down,     // the down projection
  lm_head,           // the output head (the embedding table when tied)
  sampling,          // lapped by the caller after picking the next token
  pool_sync,         // ThreadPool dispatch and waiting for workers, on the calling thread
  count
};
constexpr int kOpCount = static_cast<int>(Op::count);

// Stable short name of each op ("attention", "proj_attn_qkv", ...), used in printed tables.
const char* op_name(Op op);

class OpProfile {
 public:
  using Clock = std::chrono::steady_clock;

  // Clears the counts and starts the clock; pool (may be null) is the pool whose sync time is
  // separated out. Session::set_profile calls this. The pool is read only in start() and lap(),
  // so the figures stay readable after the pool is gone.
  void start(const ThreadPool* pool);
  // Adds the time since the previous lap (or start) to `op`, less the pool sync time within it.
  void lap(Op op);
  void add_tokens(int64_t n) { tokens_ += n; }

  double seconds(Op op) const { return seconds_[static_cast<size_t>(op)]; }
  int64_t laps(Op op) const { return laps_[static_cast<size_t>(op)]; }
  int64_t tokens() const { return tokens_; }
  uint64_t pool_jobs() const { return pool_jobs_at_last_ - pool_jobs_at_start_; }  // run() calls
  // From start() to the last lap; equals the sum of seconds() over every op up to rounding.
  double total_seconds() const { return std::chrono::duration<double>(last_ - start_).count(); }

 private:
  const ThreadPool* pool_ = nullptr;
  Clock::time_point start_{}, last_{};
  double pool_sync_at_last_ = 0.0;
  uint64_t pool_jobs_at_start_ = 0, pool_jobs_at_last_ = 0;
  std::array<double, kOpCount> seconds_{};
  std::array<int64_t, kOpCount> laps_{};
  int64_t tokens_ = 0;
};

// What the forward holds: one pointer test per op when no profile is attached.
class ProfileLaps {
 public:
  explicit ProfileLaps(OpProfile* profile) : profile_(profile) {}
  void operator()(Op op) const {
    if (profile_ != nullptr) profile_->lap(op);
  }

 private:
  OpProfile* profile_;
};

}  // namespace bitnet::kernels
