// OpProfile: the lap timer behind the per-op decode breakdown (see op_profile.h).
#include "kernels/op_profile.h"

namespace bitnet::kernels {

const char* op_name(Op op) {
  switch (op) {
    case Op::caller:
      return "caller";
    case Op::embedding:
      return "embedding";
    case Op::rms_norm:
      return "rms_norm";
    case Op::quantize:
      return "quantize";
    case Op::proj_attn_qkv:
      return "proj_attn_qkv";
    case Op::rope:
      return "rope";
    case Op::attention:
      return "attention";
    case Op::proj_attn_out:
      return "proj_attn_out";
    case Op::residual:
      return "residual";
    case Op::proj_ffn_gate_up:
      return "proj_ffn_gate_up";
    case Op::glu:
      return "glu";
    case Op::proj_ffn_down:
      return "proj_ffn_down";
    case Op::lm_head:
      return "lm_head";
    case Op::sampling:
      return "sampling";
    case Op::pool_sync:
      return "pool_sync";
    case Op::count:
      break;
  }
  return "unknown";
}

void OpProfile::start(const ThreadPool* pool) {
  pool_ = pool;
  seconds_.fill(0.0);
  laps_.fill(0);
  tokens_ = 0;
  pool_sync_at_last_ = pool_ != nullptr ? pool_->sync_seconds() : 0.0;
  pool_jobs_at_start_ = pool_jobs_at_last_ = pool_ != nullptr ? pool_->jobs() : 0;
  start_ = last_ = Clock::now();
}

void OpProfile::lap(Op op) {
  const Clock::time_point now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  double sync = 0.0;
  if (pool_ != nullptr) {
    const double pool_sync = pool_->sync_seconds();
    sync = pool_sync - pool_sync_at_last_;
    pool_sync_at_last_ = pool_sync;
    pool_jobs_at_last_ = pool_->jobs();
  }
  // The pool's clock reads lie inside this lap, so sync <= elapsed up to rounding.
  if (sync > elapsed) sync = elapsed;
  seconds_[static_cast<size_t>(op)] += elapsed - sync;
  seconds_[static_cast<size_t>(Op::pool_sync)] += sync;
  ++laps_[static_cast<size_t>(op)];
}

}  // namespace bitnet::kernels
