// Loading and reporting a mixture of datasets (see run_mixture.h).
#include "trainer/run_mixture.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "data/error.h"
#include "trainer/console.h"

namespace bitnet {

data::DatasetOptions source_dataset_options(const RunConfig& config, size_t index) {
  const DataSourceConfig& s = config.data.sources.at(index);
  data::DatasetOptions o = dataset_options(config);
  o.paths = s.paths;
  o.format = s.format.value_or(o.format);
  o.separator_line = s.separator_line.value_or(o.separator_line);
  o.chat_template = s.chat_template.value_or(o.chat_template);
  o.hdf5_dataset = s.hdf5_dataset.value_or(o.hdf5_dataset);
  o.hdf5_offsets = s.hdf5_offsets.value_or(o.hdf5_offsets);
  return o;
}

std::string source_label(const RunConfig& config, size_t index) {
  constexpr size_t kMaxPaths = 40;  // keeps the table narrow; the config has the full list
  std::string paths;
  for (const std::string& p : config.data.sources.at(index).paths) paths += (paths.empty() ? "" : ", ") + p;
  if (paths.size() > kMaxPaths) paths = paths.substr(0, kMaxPaths - 3) + "...";
  return "[" + std::to_string(index) + "] " + paths;
}

data::Mixture load_mixture(const RunConfig& config, const data::Tokenizer& tokenizer) {
  std::vector<data::MixtureSource> sources;
  for (size_t i = 0; i < config.data.sources.size(); ++i) {
    data::MixtureSource s;
    s.label = source_label(config, i);
    s.weight = config.data.sources[i].weight;
    try {
      s.dataset = data::load_token_dataset(source_dataset_options(config, i), tokenizer);
    } catch (const data::DataError& e) {
      throw data::DataError("data.sources[" + std::to_string(i) + "]: " + e.what());
    }
    sources.push_back(std::move(s));
  }
  return data::mix_sources(std::move(sources), config.data.val_fraction, static_cast<uint64_t>(config.train.seed));
}

void prepare_mixture_data(RunData& d, const RunConfig& config, int64_t rank, int64_t world_size) {
  data::Mixture mix = load_mixture(config, *d.tokenizer);
  d.fine_tuning = mix.masked;
  d.jsonl = std::move(mix.jsonl);
  d.mixture = std::move(mix.sources);
  d.train_documents = static_cast<int64_t>(mix.train.size());
  d.val_documents = static_cast<int64_t>(mix.val.size());
  set_streams(d, std::move(mix.train), std::move(mix.val), config, rank, world_size);
}

std::vector<std::string> mixture_table(const std::vector<data::SourceProportion>& sources) {
  int64_t total = 0;
  size_t width = 6;  // "source"
  for (const data::SourceProportion& p : sources) {
    total += p.mixed_tokens;
    width = std::max(width, p.label.size());
  }
  const auto row = [width](const std::string& label, const std::string& weight, const std::string& tokens,
                           const std::string& share, const std::string& epochs, const std::string& val) {
    char line[512];
    std::snprintf(line, sizeof line, "%-*s  %6s  %13s  %6s  %6s  %11s", static_cast<int>(width), label.c_str(),
                  weight.c_str(), tokens.c_str(), share.c_str(), epochs.c_str(), val.c_str());
    return std::string(line);
  };
  const auto number = [](const char* format, double value) {
    char text[32];
    std::snprintf(text, sizeof text, format, value);
    return std::string(text);
  };
  std::vector<std::string> lines = {row("source", "weight", "train tokens", "share", "epochs", "val tokens")};
  for (const data::SourceProportion& p : sources) {
    lines.push_back(row(p.label, number("%.3f", p.weight), format_count(p.mixed_tokens),
                        number("%.1f%%", 100.0 * p.share(total)), number("%.2f", p.epochs()),
                        format_count(p.val_tokens)));
  }
  return lines;
}

}  // namespace bitnet
