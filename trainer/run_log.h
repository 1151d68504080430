// The files of a run directory (docs/training.md): config.yaml (resolved), metrics.jsonl (one
// JSON object per logged step or evaluation), samples.txt and loss.svg.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/loss_plot.h"

namespace bitnet {

class RunLog {
 public:
  // Opens run_dir/metrics.jsonl. With resume_step >= 0, keeps only the records of steps up to
  // it (those after it belong to a run that did not reach its next checkpoint); otherwise starts
  // the file afresh. The kept records rebuild the loss history for loss.svg.
  RunLog(std::string run_dir, std::string title, int64_t resume_step);

  void write_config(const std::string& yaml) const;
  void log_metrics(const nlohmann::json& record);  // needs "step"; "loss" / "val_loss" feed the plot
  void log_sample(int64_t step, const std::string& prompt, const std::string& text) const;
  void redraw_plot() const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, title_;
  std::vector<LossPoint> train_, val_;
};

}  // namespace bitnet
