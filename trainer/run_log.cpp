// Run directory files (see run_log.h).
#include "trainer/run_log.h"

#include <filesystem>
#include <fstream>

#include "formats/atomic_file.h"

namespace bitnet {
namespace fs = std::filesystem;

RunLog::RunLog(std::string run_dir, std::string title, int64_t resume_step)
    : dir_(std::move(run_dir)), title_(std::move(title)) {
  fs::create_directories(dir_);
  const fs::path metrics = fs::path(dir_) / "metrics.jsonl";
  std::string kept;
  if (resume_step >= 0 && fs::exists(metrics)) {
    std::ifstream in(metrics);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.contains("step") || j["step"].get<int64_t>() > resume_step) continue;
      kept += line + "\n";
      if (j.contains("loss")) train_.push_back({j["step"].get<int64_t>(), j["loss"].get<double>()});
      if (j.contains("val_loss")) val_.push_back({j["step"].get<int64_t>(), j["val_loss"].get<double>()});
    }
  }
  formats::write_file_atomic(metrics.string(), kept);
}

void RunLog::write_config(const std::string& yaml) const {
  formats::write_file_atomic((fs::path(dir_) / "config.yaml").string(), yaml);
}

void RunLog::log_metrics(const nlohmann::json& record) {
  std::ofstream out(fs::path(dir_) / "metrics.jsonl", std::ios::app);
  out << record.dump() << "\n";
  const int64_t step = record.at("step").get<int64_t>();
  if (record.contains("loss")) train_.push_back({step, record["loss"].get<double>()});
  if (record.contains("val_loss")) val_.push_back({step, record["val_loss"].get<double>()});
}

void RunLog::log_sample(int64_t step, const std::string& prompt, const std::string& text) const {
  std::ofstream out(fs::path(dir_) / "samples.txt", std::ios::app);
  out << "--- step " << step << " | prompt: " << prompt << "\n" << prompt << text << "\n";
}

void RunLog::redraw_plot() const {
  formats::write_file_atomic((fs::path(dir_) / "loss.svg").string(), render_loss_svg(train_, val_, title_));
}

}  // namespace bitnet
