// The training loop (see trainer.h): setup and resume, then per step: fetch micro-batches, count
// targets across ranks, forward/backward, all-reduce, clip, AdamW with the scheduled LR and weight
// decay; log, evaluate, sample and checkpoint at their intervals; stop cleanly on request.
#include "trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "checkpoint/checkpoint.h"
#include "checkpoint/model_options.h"
#include "data/error.h"
#include "layers/tensor_io.h"
#include "optim/adamw.h"
#include "optim/grad_clip.h"
#include "trainer/console.h"
#include "trainer/device.h"
#include "trainer/distributed_replicas.h"
#include "trainer/finetune_setup.h"
#include "trainer/model_setup.h"
#include "trainer/pretrained.h"
#include "trainer/run_data.h"
#include "trainer/run_log.h"
#include "trainer/run_mixture.h"
#include "trainer/sample_text.h"
#include "trainer/stop_signal.h"
#include "trainer/train_step.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string hex_bytes(const torch::Tensor& bytes) {
  torch::Tensor b = bytes.contiguous();
  static const char* digits = "0123456789abcdef";
  std::string out;
  const auto* p = b.data_ptr<uint8_t>();
  for (int64_t i = 0; i < b.numel(); ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

torch::Tensor bytes_from_hex(const std::string& hex) {
  torch::Tensor t = torch::empty({int64_t(hex.size() / 2)}, torch::kByte);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) t[int64_t(i / 2)] = nibble(hex[i]) * 16 + nibble(hex[i + 1]);
  return t;
}

// The start table's words for what the run trains, with the full-precision phase when there is one.
std::string model_kind(const RunConfig& c, bool quantize) {
  if (!quantize) return "full-precision twin";
  const int64_t fp_steps = quant_start_step(c);
  if (fp_steps == 0) return "ternary BitNet b1.58";
  return "BitNet b1.58, full precision for steps 1-" + std::to_string(fp_steps) + " then ternary";
}

// First lines where two configs differ, as "key: a -> b" (for the resume mismatch message).
std::string describe_difference(const std::string& checkpoint_yaml, const std::string& run_yaml) {
  std::istringstream a(checkpoint_yaml), b(run_yaml);
  std::string la, lb, out;
  int shown = 0;
  while (std::getline(a, la) && std::getline(b, lb) && shown < 5) {
    if (la != lb) {
      out += "\n    checkpoint: " + la + "\n    this run:   " + lb;
      ++shown;
    }
  }
  return out;
}

int64_t resolve_threads(int64_t configured) {
  if (configured > 0) return configured;
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

class Training {
 public:
  Training(const RunConfig& config, std::string config_path, std::string overrides, Communicator& comm, std::FILE* out)
      : config_(config),
        config_path_(std::move(config_path)),
        overrides_(std::move(overrides)),
        comm_(comm),
        console_(out),
        run_dir_((fs::path(config.log.dir) / config.name).string()),
        ckpt_root_((fs::path(run_dir_) / "ckpt").string()) {}

  int run();

 private:
  void print(const std::string& text) {
    if (comm_.is_main()) console_.line(text);
  }
  void set_up();
  std::optional<CheckpointContents> find_resume_checkpoint();
  void restore(const CheckpointContents& ckpt);
  void train_step(const ScheduleOptions& schedule, const std::vector<torch::Tensor>& params);
  void skip_non_finite_step(double loss);
  std::optional<int> finish_step();
  void print_start_table();
  std::vector<data::Batch> next_micro_batches();
  void log_step(double loss, double grad_norm, const ScheduleValues& sched, double ms, double lambda);
  void evaluate_and_plot();
  void write_samples();
  std::string save();
  std::string resume_hint() const;

  const RunConfig& config_;
  std::string config_path_, overrides_;
  Communicator& comm_;
  Console console_;
  std::string run_dir_, ckpt_root_;
  int64_t threads_ = 1;
  torch::Device device_{torch::kCPU};
  RunData data_;
  BitNetLM model_{nullptr};
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<RunLog> log_;
  TrainState state_;
  Clock::time_point started_;
  int64_t first_step_ = 0;
  double recent_ms_ = 0;
};

std::optional<CheckpointContents> Training::find_resume_checkpoint() {
  if (config_.resume.empty()) {
    std::vector<std::string> ignored;
    if (find_latest_checkpoint(ckpt_root_, &ignored) || !ignored.empty()) {
      throw CheckpointError("run directory " + run_dir_ +
                            " already has checkpoints; continue it with resume=auto, or start a new run with "
                            "another name=... (nothing was overwritten)");
    }
    return std::nullopt;
  }
  std::string dir = config_.resume;
  if (dir == "auto") {
    std::vector<std::string> rejected;
    std::optional<std::string> found = find_latest_checkpoint(ckpt_root_, &rejected);
    if (!found && !rejected.empty()) {
      // Starting over would overwrite the damaged checkpoints, which may still be repairable.
      std::string list;
      for (const auto& r : rejected) list += "\n  " + r;
      throw CheckpointError("resume=auto: every checkpoint in " + ckpt_root_ + " is damaged:" + list +
                            "\nNothing was changed. To start over on purpose, move or delete " + ckpt_root_ +
                            " (or train under another name=...); to resume from one anyway, repair it first");
    }
    for (const auto& r : rejected) print("warning: skipping checkpoint " + r);
    if (!found) {
      print("resume=auto: no checkpoint in " + ckpt_root_ + ", starting from scratch");
      return std::nullopt;
    }
    dir = *found;
  }
  return load_checkpoint(dir);
}

void Training::restore(const CheckpointContents& ckpt) {
  RunConfig saved;
  try {
    saved = parse_config(ckpt.config_yaml, ckpt.dir + "/config.yaml");
  } catch (const ConfigError& e) {
    throw CheckpointError(std::string("cannot read the checkpoint's config: ") + e.what());
  }
  const std::string a = trajectory_yaml(saved), b = trajectory_yaml(config_);
  if (a != b) {
    throw CheckpointError("checkpoint " + ckpt.dir +
                          " was written by a run with a different config; resume needs the same model, data, "
                          "optimizer and schedule settings (start a new run to change them):" +
                          describe_difference(a, b));
  }
  if (ckpt.state.world_size != comm_.world_size()) {
    throw CheckpointError("checkpoint " + ckpt.dir + " was written with " + std::to_string(ckpt.state.world_size) +
                          " ranks, this run has " + std::to_string(comm_.world_size()) +
                          "; resume with the same number of ranks");
  }
  if (saved.train.steps != config_.train.steps) {
    print("warning: train.steps changed from " + std::to_string(saved.train.steps) + " to " +
          std::to_string(config_.train.steps) + "; the LR and weight-decay schedules follow the new total from here");
  }
  load_checkpoint_tensors(model_, config_, ckpt.model);
  optimizer_->load_state(ckpt.optim, ckpt.state.step);
  data_.train->restore(ckpt.state.cursor);
  if (!ckpt.state.torch_rng.empty()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
    generator.set_state(bytes_from_hex(ckpt.state.torch_rng));
  }
  if (device_.is_cuda() && !ckpt.state.device_rng.empty()) {  // LoRA dropout draws from the GPU's generator
    at::Generator generator = at::globalContext().defaultGenerator(device_);  // a handle, as above
    generator.set_state(bytes_from_hex(ckpt.state.device_rng));
  }
  if (ckpt.state.threads != threads_) {
    print("warning: the checkpoint was written with " + std::to_string(ckpt.state.threads) +
          " threads, this run uses " + std::to_string(threads_) +
          ": losses will not match an uninterrupted run bit for bit");
  }
  state_ = ckpt.state;
  print("resumed from " + ckpt.dir + " at step " + std::to_string(state_.step));
}

void Training::print_start_table() {
  const RunConfig& c = config_;
  const int64_t tokens_per_step = c.train.micro_batch * c.data.seq_len * c.train.grad_accum * comm_.world_size();
  const ScheduleOptions so = schedule_options(c);
  std::ostringstream s;
  s << "bitnet train " << c.name << "  (" << config_path_ << (overrides_.empty() ? "" : " " + overrides_) << ")\n"
    << "  model     " << model_kind(c, model_->options().quantize) << ", " << c.model.num_layers << " layers, hidden "
    << c.model.hidden_size << ", heads " << c.model.num_heads << "/" << c.model.num_kv_heads << " kv, ffn "
    << c.model.intermediate_size << " " << enum_name(c.model.hidden_act) << ", vocab " << model_->options().vocab_size
    << ", " << format_si(double(model_->num_parameters())) << " parameters\n"
    << "  data      " << format_count(data_.train_documents) << " train / " << format_count(data_.val_documents)
    << " val documents, " << format_si(double(data_.train_tokens)) << " train tokens ("
    << enum_name(data_.tokenizer->type()) << " tokenizer), seq_len " << c.data.seq_len << "\n";
  if (!data_.mixture.empty()) {  // data.sources: what each source gives the training tokens
    s << "  mixture   " << data_.mixture.size() << " sources; weight = share of the training tokens, "
      << "epochs = passes over a source's own training documents\n";
    for (const std::string& line : mixture_table(data_.mixture)) s << "    " << line << "\n";
  }
  if (data_.streamed_shard_files > 0) {
    s << "  stream    streamed from " << data_.streamed_shard_files
      << " shard file(s): windows read as batches need them\n";
  }
  if (data_.fine_tuning) {  // masked examples: say how rows are built and what was skipped
    s << "  finetune  " << (data_.mixture.empty() ? enum_name(c.data.format) : "mixture") << " examples, "
      << enum_name(c.data.sft_layout) << " rows, loss on "
      << "completion/assistant tokens";
    if (data_.jsonl.skipped > 0) s << ", " << data_.jsonl.skipped << " bad line(s) skipped";
    s << "\n";
    for (const std::string& m : data_.jsonl.messages) s << "    skipped " << m << "\n";
  }
  s << "  batch     " << c.train.micro_batch << " x " << c.data.seq_len << " tokens x accum " << c.train.grad_accum
    << " x " << comm_.world_size() << " rank(s) = " << format_count(tokens_per_step) << " tokens/step\n"
    << "  schedule  " << c.train.steps << " steps, " << enum_name(so.type) << ", lr " << fmt("%.3g", c.optim.lr)
    << ", warmup " << so.warmup_steps;
  if (so.type == ScheduleType::kTwoStage) s << ", stage 2 from step " << stage_switch_step(so);
  s << ", weight decay " << fmt("%.3g", c.optim.weight_decay) << "\n"
    << "  compute   " << describe_device(device_) << ", " << describe_precision(c.train.precision, device_) << ", "
    << threads_ << " thread(s), seed " << c.train.seed << "\n"
    << "  run dir   " << run_dir_;
  print(s.str());
}

std::vector<data::Batch> Training::next_micro_batches() {
  std::vector<data::Batch> batches;
  for (int64_t i = 0; i < config_.train.grad_accum; ++i)
    batches.push_back(data_.train->next(config_.train.micro_batch));
  return batches;
}

void Training::log_step(double loss, double grad_norm, const ScheduleValues& sched, double ms, double lambda) {
  const int64_t step = state_.step, total = config_.train.steps;
  const int64_t tokens_per_step =
      config_.train.micro_batch * config_.data.seq_len * config_.train.grad_accum * comm_.world_size();
  recent_ms_ = recent_ms_ == 0 ? ms : 0.9 * recent_ms_ + 0.1 * ms;
  const double tok_s = tokens_per_step / (ms / 1000.0);
  const double eta = (total - step) * recent_ms_ / 1000.0;
  std::string line = "step " + std::to_string(step) + "/" + std::to_string(total) + " | loss " + fmt("%.4f", loss) +
                     " | norm " + fmt("%.3f", grad_norm) + " | lr " + fmt("%.2e", sched.lr) + " | " + fmt("%.0f", ms) +
                     " ms | " + format_count(int64_t(tok_s)) + " tok/s | ETA " + format_duration(eta);
  const bool log_now = step % config_.log.every == 0 || step == total;
  if (!comm_.is_main()) return;
  if (log_now) {
    console_.line(line);
    json record{{"step", step},           {"loss", loss},
                {"lr", sched.lr},         {"wd", sched.weight_decay},
                {"grad_norm", grad_norm}, {"tokens", state_.tokens_seen},
                {"tok_s", tok_s},         {"ms", ms}};
    if (lambda < 1.0) record["quant_lambda"] = lambda;
    log_->log_metrics(record);
  } else {
    console_.live(line);
  }
}

void Training::evaluate_and_plot() {
  if (!data_.val || !comm_.is_main()) return;
  model_->eval();  // no adapter dropout
  const EvalResult r = evaluate(model_, data_.val->first(config_.eval.batches, config_.train.micro_batch));
  model_->train();
  const double bpb = r.loss / std::log(2.0) / data_.val_bytes_per_token;
  console_.line("  val loss " + fmt("%.4f", r.loss) + " | ppl " + fmt("%.2f", std::exp(r.loss)) + " | " +
                fmt("%.3f", bpb) + " bits/byte (" + format_count(r.targets) + " tokens)");
  log_->log_metrics(json{{"step", state_.step}, {"val_loss", r.loss}, {"val_ppl", std::exp(r.loss)}, {"val_bpb", bpb}});
  log_->redraw_plot();
}

void Training::write_samples() {
  if (!comm_.is_main()) return;
  SampleOptions so;
  so.max_new_tokens = config_.sample.tokens;
  so.temperature = config_.sample.temperature;
  so.top_k = config_.sample.top_k;
  for (size_t i = 0; i < config_.sample.prompts.size(); ++i) {
    so.seed = static_cast<uint64_t>(config_.train.seed) * 1000003u + static_cast<uint64_t>(state_.step) * 31u + i;
    const std::string& prompt = config_.sample.prompts[i];
    const std::string text = sample_text(model_, *data_.tokenizer, prompt, so);
    console_.line("  sample: " + prompt + text);
    log_->log_sample(state_.step, prompt, text);
  }
}

std::string Training::save() {
  if (!comm_.is_main()) return "";
  state_.torch_rng = hex_bytes(at::detail::getDefaultCPUGenerator().get_state());
  state_.device_rng = device_.is_cuda() ? hex_bytes(at::globalContext().defaultGenerator(device_).get_state()) : "";
  state_.cursor = data_.train->cursor();
  state_.threads = threads_;
  state_.world_size = comm_.world_size();
  const auto params = checkpoint_tensors(model_, config_);  // under LoRA: the adapters only
  const std::string dir = save_checkpoint(ckpt_root_, params, optimizer_->state_tensors(), state_,
                                          config_to_yaml(config_), config_.checkpoint.keep_last, data_.tokenizer_files);
  if (config_.lora.rank > 0)
    save_peft_adapter((fs::path(run_dir_) / "adapter").string(), model_, lora_spec(config_.lora), config_.init_from);
  return dir;
}

std::string Training::resume_hint() const {
  return "bitnet train " + config_path_ + (overrides_.empty() ? "" : " " + overrides_) + " resume=auto";
}

// Device, data, model, optimizer and resume state; the run log and the start table.
void Training::set_up() {
  threads_ = resolve_threads(config_.train.threads);
  at::set_num_threads(static_cast<int>(threads_));
  torch::manual_seed(static_cast<uint64_t>(config_.train.seed));
  at::globalContext().setDeterministicAlgorithms(config_.train.deterministic, /*warn_only=*/false);
  // Deterministic mode also makes PyTorch fill every new tensor (torch::empty) with NaN, a debugging
  // aid for ops that read memory they never wrote. Ours write every element they return, so it
  // only costs time: 6-7.5% of a 1-thread CPU step (bf16 and fp32 fills), found with a debugger.
  at::globalContext().setDeterministicFillUninitializedMemory(false);
  device_ = resolve_training_device(config_.train.device, comm_.local_rank());
  prepare_device(device_, config_.train.deterministic);

  data_ = prepare_run_data(config_, comm_.rank(), comm_.world_size());
  int64_t vocab = config_.model.vocab_size > 0 ? config_.model.vocab_size : data_.tokenizer->vocab_size();
  if (vocab < data_.tokenizer->vocab_size()) {
    throw std::runtime_error("model.vocab_size " + std::to_string(vocab) + " is smaller than the " +
                             enum_name(data_.tokenizer->type()) + " tokenizer's vocabulary (" +
                             std::to_string(data_.tokenizer->vocab_size()) + ")");
  }
  model_ = BitNetLM(model_options(config_, vocab, compute_dtype_for(config_.train.precision, device_)));
  model_->reset_parameters(static_cast<uint64_t>(config_.train.seed));
  std::optional<CheckpointContents> ckpt = find_resume_checkpoint();
  // init_from and LoRA change which parameters exist and train: before the optimizer sees them.
  const std::vector<std::string> finetune_lines = prepare_finetune(model_, config_, ckpt.has_value());
  model_->to(device_);  // fp32 latent weights; the optimizer's moments are created beside them
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : model_->named_parameters()) named.emplace_back(item.key(), item.value());
  optimizer_ = std::make_unique<AdamW>(
      named, AdamWOptions{.beta1 = config_.optim.betas[0], .beta2 = config_.optim.betas[1], .eps = config_.optim.eps});
  state_.config_hash = config_hash(config_);
  if (ckpt) restore(*ckpt);
  first_step_ = state_.step;
  if (comm_.is_main()) {
    log_ = std::make_unique<RunLog>(run_dir_, config_.name, ckpt ? state_.step : -1);
    log_->write_config(config_to_yaml(config_));
  }
  print_start_table();
  for (const auto& line : finetune_lines) print(line);
}

// One optimizer step: gradients of every micro-batch summed over the ranks, clipped, then the
// update, or a skipped step when the loss or the gradient norm is not finite.
void Training::train_step(const ScheduleOptions& schedule, const std::vector<torch::Tensor>& params) {
  const auto t0 = Clock::now();
  const ScheduleValues sched = schedule_at(schedule, state_.step);
  const double lambda = quant_lambda_at(config_, state_.step);
  model_->set_quant_lambda(lambda);

  std::vector<data::Batch> batches = next_micro_batches();
  int64_t local_targets = 0;
  for (const auto& b : batches) local_targets += b.num_targets;
  int64_t step_targets = local_targets;
  if (comm_.world_size() > 1) {  // the loss is divided by the target count of all ranks
    std::vector<torch::Tensor> counts = {torch::tensor({double(local_targets)}, torch::kDouble).to(device_)};
    comm_.all_reduce_sum(counts);
    step_targets = static_cast<int64_t>(counts[0].item<double>());
  }

  // Loss and gradient norm stay on the device until the one read below.
  std::vector<torch::Tensor> reduce = {accumulate_gradients_tensor(model_, batches, step_targets).view({1})};
  for (const auto& p : params) reduce.push_back(p.grad());
  comm_.all_reduce_sum(reduce);
  const torch::Tensor norm = clip_grad_norm_tensor(params, config_.optim.grad_clip);
  // One device-to-host read per step: whether the update may be applied (train.nan_policy)
  // must be known before it is.
  const torch::Tensor host = torch::stack({reduce[0][0], norm}).to(torch::kCPU);
  const double loss = host[0].item<double>() / double(step_targets);
  const double grad_norm = host[1].item<double>();

  ++state_.step;
  state_.tokens_seen +=
      config_.train.micro_batch * config_.data.seq_len * config_.train.grad_accum * comm_.world_size();
  if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
    skip_non_finite_step(loss);
    return;
  }
  optimizer_->step(sched.lr, sched.weight_decay);
  optimizer_->zero_grad();
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  log_step(loss, grad_norm, sched, ms, lambda);
}

// train.nan_policy: abort, or drop the gradients and count the skip (up to train.max_nan_skips).
void Training::skip_non_finite_step(double loss) {
  const std::string what = "non-finite " + std::string(std::isfinite(loss) ? "gradient norm" : "loss") + " at step " +
                           std::to_string(state_.step);
  if (config_.train.nan_policy == NanPolicy::kAbort) {
    throw std::runtime_error(what +
                             " (train.nan_policy=abort); the last checkpoint is intact. Lower optim.lr, "
                             "raise schedule.warmup_steps or set train.nan_policy=skip");
  }
  ++state_.nan_skips;
  print("warning: " + what + ": update skipped (" + std::to_string(state_.nan_skips) + "/" +
        std::to_string(config_.train.max_nan_skips) + ")");
  if (comm_.is_main()) log_->log_metrics(json{{"step", state_.step}, {"skipped", "non-finite"}});
  if (state_.nan_skips > config_.train.max_nan_skips) {
    throw std::runtime_error("more than train.max_nan_skips=" + std::to_string(config_.train.max_nan_skips) +
                             " non-finite steps; stopping. The last checkpoint is intact");
  }
  optimizer_->zero_grad();
}

// What follows a step: evaluation, samples, checkpoints, and stopping (a signal on any rank, or
// train.stop_after). The exit code when the run stops here.
std::optional<int> Training::finish_step() {
  const int64_t step = state_.step;
  const bool last = step == config_.train.steps;
  if (last || (config_.eval.every > 0 && step % config_.eval.every == 0)) evaluate_and_plot();
  if (last || (config_.sample.every > 0 && step % config_.sample.every == 0)) write_samples();
  const int64_t signal = comm_.all_reduce_max(stop_signal_received());
  const bool stop_after = config_.train.stop_after > 0 && step >= config_.train.stop_after && !last;
  if (last || signal || stop_after || (config_.checkpoint.every > 0 && step % config_.checkpoint.every == 0)) {
    check_replicas_identical(comm_, *model_, step);  // collective: every rank checkpoints at this step
    const std::string dir = save();
    if (!last && !signal && !stop_after) print("  checkpoint " + dir);
    if (last) print("checkpoint " + dir);
  }
  if (signal) {
    print("stopped by signal " + std::to_string(signal) + " after step " + std::to_string(step) +
          "; checkpoint saved. Resume with:\n  " + resume_hint());
    return 128 + static_cast<int>(signal);
  }
  if (stop_after) {
    print("stopped after step " + std::to_string(step) + " (train.stop_after); checkpoint saved. Resume with:\n  " +
          resume_hint());
    return 0;
  }
  return std::nullopt;
}

int Training::run() {
  set_up();
  if (state_.step >= config_.train.steps) {
    print("run " + config_.name + " is already complete (" + std::to_string(state_.step) +
          " steps); raise train.steps to train further");
    return 0;
  }
  install_stop_handlers();
  const ScheduleOptions schedule = schedule_options(config_);
  const std::vector<torch::Tensor> params = trainable_parameters(model_);  // a frozen LoRA base has no gradients
  started_ = Clock::now();
  while (state_.step < config_.train.steps) {
    train_step(schedule, params);
    if (const std::optional<int> exit_code = finish_step()) return *exit_code;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - started_).count();
  print("done: " + std::to_string(state_.step - first_step_) + " steps in " + format_duration(secs) + ", " +
        format_si(double(state_.tokens_seen)) + " tokens seen in total, peak RSS " +
        fmt("%.0f", double(peak_rss_bytes()) / double(1 << 20)) + " MiB. Run directory: " + run_dir_);
  return 0;
}

}  // namespace

int run_training(const RunConfig& config, const std::string& config_path, const std::string& overrides_text,
                 Communicator& comm, std::FILE* out) {
  const RunConfig resolved = resolve_init_from(config);  // model.* from init_from's architecture
  Training training(resolved, config_path, overrides_text, comm, out);
  return training.run();
}

}  // namespace bitnet
