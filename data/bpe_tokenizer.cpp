// Loading a tokenizer.json and running byte-level BPE (see bpe_tokenizer.h for the rules).
#include "data/bpe_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "data/byte_level.h"
#include "data/error.h"
#include "formats/error.h"
#include "formats/json_read.h"

namespace bitnet::data {

namespace {

using nlohmann::json;

// The GPT-2 pre-tokenizer regex (used when the ByteLevel pre-tokenizer has use_regex: true).
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Token ids above this are refused before anything is sized by them; ids must also be nearly
// dense (max id < 2 * entries + 1024), so a stray huge id cannot make us allocate a huge table.
constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot open tokenizer file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw DataError("error while reading '" + path + "'");
  return buffer.str();
}

json parse_json(const std::string& text, const std::string& origin) {
  try {
    return formats::parse_json_strict(text, origin);
  } catch (const formats::FormatError& e) {
    throw DataError(e.what());
  }
}

[[noreturn]] void unsupported(const std::string& origin, const std::string& key, const std::string& found,
                              const std::string& expected) {
  throw DataError(origin + ": " + key + " is " + found + "; only " + expected + " is supported by the bpe tokenizer");
}

bool is_null_or_empty(const json& obj, const char* key) {
  if (!obj.contains(key) || obj[key].is_null()) return true;
  return obj[key].is_string() && obj[key].get<std::string>().empty();
}

// A special token named in tokenizer_config.json: a string or an AddedToken object.
std::optional<std::string> config_token(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_file(const std::string& path) {
  const std::string text = read_whole_file(path);
  const std::filesystem::path config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  std::string config_text;
  if (std::filesystem::is_regular_file(config_path, ec)) config_text = read_whole_file(config_path);
  return from_json(text, config_text, path);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_json(const std::string& json_text, const std::string& config_json,
                                                      const std::string& origin) {
  try {
    return load(json_text, config_json, origin);
  } catch (const json::exception& e) {
    // A key of the wrong type (e.g. a number where a string belongs) lands here.
    throw DataError(origin + ": unexpected value in the tokenizer files: " + formats::quote_excerpt(e.what()));
  }
}

// The steps of BpeTokenizer::load, one per part of tokenizer.json, in the order load runs them;
// each validates what it reads before the tokenizer keeps it.
struct BpeLoader {
  using AddedToken = BpeTokenizer::AddedToken;
  using Merge = BpeTokenizer::Merge;
  using MergeKey = BpeTokenizer::MergeKey;

  BpeTokenizer* t;
  const std::string& origin;

  // model.type BPE and the options we do not implement refused by name.
  void check_model(const json& root) const;
  // model.vocab, then added_tokens (which may extend it); ids and tokens one to one.
  void read_vocabulary(const json& root) const;
  void read_merges(const json& model) const;
  // The token of each byte (byte-level BPE), -1 where the vocabulary lacks it.
  void map_bytes() const;
  void read_pre_tokenizer(const json& root) const;
  // BOS / EOS / PAD from tokenizer_config.json, the post-processor, or well-known names.
  void read_special_ids(const json& root, const std::string& config_json) const;
};

void BpeLoader::check_model(const json& root) const {
  const json& model = root["model"];
  const std::string model_type = model.value("type", std::string("(missing)"));
  if (model_type != "BPE") {
    unsupported(origin, "model.type", "'" + formats::quote_excerpt(model_type) + "'", "'BPE'");
  }
  if (model.value("byte_fallback", false)) {
    unsupported(origin, "model.byte_fallback", "true", "false");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix", "unk_token"}) {
    if (!is_null_or_empty(model, key)) {
      unsupported(origin, std::string("model.") + key, formats::describe_json(model[key]), "null");
    }
  }
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"] != 0) {
    unsupported(origin, "model.dropout", formats::describe_json(model["dropout"]), "null");
  }
  t->ignore_merges_ = model.value("ignore_merges", false);
  if (root.contains("normalizer") && !root["normalizer"].is_null()) {
    unsupported(origin, "normalizer", formats::quote_excerpt(root["normalizer"].value("type", std::string("?"))),
                "null");
  }
}

void BpeLoader::read_vocabulary(const json& root) const {
  const json& model = root["model"];
  // Vocabulary, then added tokens (which may extend it).
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    throw DataError(origin + ": model.vocab is missing or not an object");
  }
  auto add_token = [&](const std::string& token, const json& id_json, const std::string& where) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 || id_json.get<int64_t>() > kMaxTokenId) {
      throw DataError(origin + ": " + where + " '" + formats::quote_excerpt(token) + "' has id " +
                      formats::describe_json(id_json) + " (expected an integer in [0, " + std::to_string(kMaxTokenId) +
                      "])");
    }
    const auto id = static_cast<int32_t>(id_json.get<int64_t>());
    if (static_cast<size_t>(id) >= t->id_to_token_.size()) t->id_to_token_.resize(id + 1);
    // Ids and tokens must map one to one; the same token under the same id (an added token
    // that is also in model.vocab) is the one repeat allowed.
    const std::string& holder = t->id_to_token_[id];
    if (!holder.empty() && holder != token) {
      throw DataError(origin + ": " + where + " '" + formats::quote_excerpt(token) + "' has id " + std::to_string(id) +
                      ", which token '" + formats::quote_excerpt(holder) +
                      "' already has (each id must name one token)");
    }
    const auto known = t->token_to_id_.find(token);
    if (known != t->token_to_id_.end() && known->second != id) {
      throw DataError(origin + ": " + where + " '" + formats::quote_excerpt(token) + "' has id " + std::to_string(id) +
                      " but already has id " + std::to_string(known->second) + " (each token must have one id)");
    }
    t->id_to_token_[id] = token;
    t->token_to_id_[token] = id;
    return id;
  };
  {
    int64_t entries = 0, max_id = -1;
    auto scan = [&](const json& id) {
      ++entries;
      if (id.is_number_integer()) max_id = std::max<int64_t>(max_id, id.get<int64_t>());
    };
    for (const auto& item : model["vocab"].items()) scan(item.value());
    if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
      for (const json& a : root["added_tokens"]) {
        if (a.is_object() && a.contains("id")) scan(a["id"]);
      }
    }
    if (max_id >= 2 * entries + 1024 && max_id <= kMaxTokenId) {
      throw DataError(origin + ": token id " + std::to_string(max_id) + " is far beyond the " +
                      std::to_string(entries) + " tokens the file defines");
    }
    if (max_id >= 0 && max_id <= kMaxTokenId) t->id_to_token_.reserve(max_id + 1);
  }
  for (const auto& [token, id] : model["vocab"].items()) add_token(token, id, "model.vocab entry");
  if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
    for (const json& a : root["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id")) {
        throw DataError(origin + ": an added_tokens entry lacks \"content\" or \"id\": " + formats::describe_json(a));
      }
      const std::string content = a["content"].get<std::string>();
      for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
        if (a.value(flag, false)) {
          unsupported(origin, "added token '" + formats::quote_excerpt(content) + "' " + flag, "true", "false");
        }
      }
      if (content.empty()) throw DataError(origin + ": an added token has empty content");
      const int32_t id = add_token(content, a["id"], "added token");
      t->added_.push_back({content, id, a.value("special", false)});
    }
  }
  std::stable_sort(t->added_.begin(), t->added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  t->is_special_.assign(t->id_to_token_.size(), 0);
  t->is_added_.assign(t->id_to_token_.size(), 0);
  for (const AddedToken& a : t->added_) {
    t->is_added_[a.id] = 1;
    t->is_special_[a.id] = a.special ? 1 : 0;
  }
}

void BpeLoader::read_merges(const json& model) const {
  // Merges: "left right" strings (older files) or ["left", "right"] pairs; rank = position.
  if (!model.contains("merges") || !model["merges"].is_array()) {
    throw DataError(origin + ": model.merges is missing or not an array");
  }
  int32_t rank = 0;
  for (const json& m : model["merges"]) {
    std::string left, right;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        throw DataError(origin + ": merge " + std::to_string(rank) + " '" + formats::quote_excerpt(s) +
                        "' is not two tokens separated by one space");
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      throw DataError(origin + ": merge " + std::to_string(rank) + " is neither \"a b\" nor " +
                      "[\"a\", \"b\"]: " + formats::describe_json(m));
    }
    const auto l = t->token_to_id_.find(left), r = t->token_to_id_.find(right), lr = t->token_to_id_.find(left + right);
    if (l == t->token_to_id_.end() || r == t->token_to_id_.end() || lr == t->token_to_id_.end()) {
      throw DataError(origin + ": merge " + std::to_string(rank) + " ('" + formats::quote_excerpt(left) + "' + '" +
                      formats::quote_excerpt(right) + "') uses or makes a token that is not in model.vocab");
    }
    // A pair listed twice would have two ranks; refuse it rather than pick one, so that rank
    // r is always the r-th merge of the file (merges_in_rank_order relies on it).
    const auto [it, inserted] = t->merges_.emplace(MergeKey{l->second, r->second}, Merge{rank, lr->second});
    if (!inserted) {
      throw DataError(origin + ": merge " + std::to_string(rank) + " ('" + formats::quote_excerpt(left) + "' + '" +
                      formats::quote_excerpt(right) + "') repeats merge " + std::to_string(it->second.rank) +
                      " (each pair may be listed once)");
    }
    ++rank;
  }
}

void BpeLoader::map_bytes() const {
  const auto& table = byte_to_code_point();
  for (int b = 0; b < 256; ++b) {
    const auto it = t->token_to_id_.find(utf8_encode(table[b]));
    t->byte_ids_[b] = it == t->token_to_id_.end() ? -1 : it->second;
  }
}

void BpeLoader::read_pre_tokenizer(const json& root) const {
  // Pre-tokenizer: Sequence[Split(Isolated), ByteLevel(use_regex false)] or ByteLevel alone.
  const json pre = root.value("pre_tokenizer", json());
  std::vector<json> steps;
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    for (const json& s : pre["pretokenizers"]) steps.push_back(s);
  } else if (pre.is_object()) {
    steps.push_back(pre);
  }
  std::string pattern;
  bool byte_level = false;
  for (const json& s : steps) {
    const std::string type = s.value("type", std::string("?"));
    if (type == "Split") {
      if (!pattern.empty()) unsupported(origin, "pre_tokenizer", "two regexes", "one");
      const json& p = s.value("pattern", json());
      if (p.contains("Regex") && p["Regex"].is_string()) {
        pattern = p["Regex"].get<std::string>();
      } else if (p.contains("String") && p["String"].is_string()) {
        pattern = "\\Q" + p["String"].get<std::string>() + "\\E";
      } else {
        throw DataError(origin + ": pre_tokenizer Split has no Regex or String pattern");
      }
      const std::string behavior = s.value("behavior", std::string("?"));
      if (behavior != "Isolated") {
        unsupported(origin, "pre_tokenizer Split behavior", formats::quote_excerpt(behavior), "Isolated");
      }
      if (s.value("invert", false)) unsupported(origin, "pre_tokenizer Split invert", "true", "false");
    } else if (type == "ByteLevel") {
      byte_level = true;
      if (s.value("add_prefix_space", false)) {
        unsupported(origin, "pre_tokenizer ByteLevel add_prefix_space", "true", "false");
      }
      if (s.value("use_regex", true)) {
        if (!pattern.empty()) unsupported(origin, "pre_tokenizer", "two regexes", "one");
        pattern = kGpt2Pattern;
      }
    } else {
      unsupported(origin, "pre_tokenizer type", "'" + formats::quote_excerpt(type) + "'", "Split or ByteLevel");
    }
  }
  if (!byte_level) {
    throw DataError(origin +
                    ": the pre_tokenizer has no ByteLevel step; only byte-level BPE "
                    "tokenizers are supported");
  }
  if (!pattern.empty()) t->splitter_ = std::make_unique<RegexSplitter>(pattern);
  t->split_pattern_ = pattern;
}

void BpeLoader::read_special_ids(const json& root, const std::string& config_json) const {
  json config;
  if (!config_json.empty()) config = parse_json(config_json, origin + " (tokenizer_config.json)");
  auto find_special = [&](const char* key, std::vector<std::string> names) -> int32_t {
    if (auto name = config_token(config, key)) {
      const auto it = t->token_to_id_.find(*name);
      if (it == t->token_to_id_.end()) {
        throw DataError(origin + ": tokenizer_config.json " + key + " '" + formats::quote_excerpt(*name) +
                        "' is not a token of the vocabulary");
      }
      return it->second;
    }
    for (const std::string& n : names) {
      const auto it = t->token_to_id_.find(n);
      if (it != t->token_to_id_.end()) return it->second;
    }
    return -1;
  };
  t->bos_id_ = find_special("bos_token", {"<|begin_of_text|>", "<s>", "<|endoftext|>"});
  // TemplateProcessing (possibly inside a Sequence): a leading SpecialToken is prepended to every
  // encoding, the BOS.
  int32_t template_first = -1;
  if (root.contains("post_processor") && root["post_processor"].is_object()) {
    std::vector<json> procs{root["post_processor"]};
    if (root["post_processor"].contains("processors") && root["post_processor"]["processors"].is_array()) {
      for (const json& p : root["post_processor"]["processors"]) procs.push_back(p);
    }
    for (const json& p : procs) {
      if (p.is_object() && p.value("type", "") == "TemplateProcessing" && p.contains("single") &&
          p["single"].is_array() && !p["single"].empty() && p["single"][0].is_object() &&
          p["single"][0].contains("SpecialToken") && p["single"][0]["SpecialToken"].is_object()) {
        const auto name = p["single"][0]["SpecialToken"].value("id", std::string());
        const auto it = t->token_to_id_.find(name);
        if (it != t->token_to_id_.end()) template_first = it->second;
      }
    }
  }
  if (t->bos_id_ < 0) t->bos_id_ = template_first;
  t->adds_bos_ = template_first >= 0 && template_first == t->bos_id_;
  t->eos_id_ = find_special("eos_token", {"<|end_of_text|>", "</s>", "<|endoftext|>"});
  if (t->bos_id_ < 0 || t->eos_id_ < 0) {
    throw DataError(origin + ": cannot tell the " + (t->bos_id_ < 0 ? "BOS" : "EOS") +
                    " token: put a tokenizer_config.json with bos_token/eos_token next to it");
  }
  t->pad_id_ = find_special("pad_token", {});
  if (t->pad_id_ < 0) t->pad_id_ = t->eos_id_;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::string& json_text, const std::string& config_json,
                                                 const std::string& origin) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->origin_ = origin;
  const json root = parse_json(json_text, origin);
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object()) {
    throw DataError(origin + ": no \"model\" object (is this a Hugging Face tokenizer.json?)");
  }
  BpeLoader loader{t.get(), origin};
  loader.check_model(root);
  loader.read_vocabulary(root);
  loader.read_merges(root["model"]);
  loader.map_bytes();
  loader.read_pre_tokenizer(root);
  loader.read_special_ids(root, config_json);
  return t;
}

namespace {
constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}  // namespace

std::string gguf_pre_name(const std::string& split_pattern) {
  if (split_pattern == kLlama3Pattern) return "llama-bpe";
  if (split_pattern == kGpt2Pattern) return "gpt-2";
  return "";
}

std::optional<std::string> split_pattern_for_gguf_pre(const std::string& name) {
  if (name == "llama-bpe" || name == "llama3") return std::string(kLlama3Pattern);
  if (name == "gpt-2") return std::string(kGpt2Pattern);
  return std::nullopt;
}

std::vector<std::string> BpeTokenizer::merges_in_rank_order() const {
  // load() stores merge r under rank r, each rank once, so the ranks are exactly 0..size-1.
  std::vector<std::string> out(merges_.size());
  for (const auto& [key, merge] : merges_) {
    out.at(static_cast<size_t>(merge.rank)) = id_to_token_[key.left] + " " + id_to_token_[key.right];
  }
  return out;
}

bool BpeTokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < is_added_.size() && is_added_[id];
}

bool BpeTokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < is_special_.size() && is_special_[id];
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_parts(const Parts& p, const std::string& origin) {
  json vocab = json::object(), added = json::array();
  std::vector<uint8_t> is_added(p.tokens.size(), 0);
  for (const auto& [id, special] : p.added) {
    if (id < 0 || static_cast<size_t>(id) >= p.tokens.size()) {
      throw DataError(origin + ": added token id " + std::to_string(id) + " is outside the vocabulary");
    }
    is_added[id] = 1;
    added.push_back({{"id", id}, {"content", p.tokens[id]}, {"special", special}});
  }
  // A token text names one id: a repeated text would silently take the later id for encoding and
  // leave the earlier one unreachable, so such a vocabulary is refused (as a tokenizer.json whose
  // vocab gives one text two ids cannot even be written).
  std::unordered_map<std::string_view, size_t> first_id;
  for (size_t id = 0; id < p.tokens.size(); ++id) {
    if (p.tokens[id].empty()) continue;
    const auto [it, fresh] = first_id.emplace(p.tokens[id], id);
    if (!fresh) {
      throw DataError(origin + ": tokens " + std::to_string(it->second) + " and " + std::to_string(id) +
                      " have the same text '" + formats::quote_excerpt(p.tokens[id]) + "'" +
                      "; every token of the vocabulary must be distinct");
    }
    if (!is_added[id]) vocab[p.tokens[id]] = id;
  }
  json pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  if (!p.split_pattern.empty()) {
    pre = {{"type", "Sequence"},
           {"pretokenizers", json::array({{{"type", "Split"},
                                           {"pattern", {{"Regex", p.split_pattern}}},
                                           {"behavior", "Isolated"},
                                           {"invert", false}},
                                          pre})}};
  }
  json root = {
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre},
      {"model", {{"type", "BPE"}, {"ignore_merges", p.ignore_merges}, {"vocab", vocab}, {"merges", p.merges}}}};
  auto name = [&](int32_t id) -> json {
    if (id < 0 || static_cast<size_t>(id) >= p.tokens.size()) return nullptr;
    return p.tokens[id];
  };
  json config = {{"bos_token", name(p.bos_id)}, {"eos_token", name(p.eos_id)}};
  if (p.pad_id >= 0) config["pad_token"] = name(p.pad_id);
  return from_json(root.dump(), config.dump(), origin);
}

std::optional<int32_t> BpeTokenizer::token_id(const std::string& token) const {
  const auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_ || piece.size() == 1) {
    const auto it = token_to_id_.find(bytes_to_byte_level(piece));
    if (it != token_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Symbols as a doubly linked list over positions; heap of candidate merges (rank, position).
  const auto n = static_cast<int32_t>(piece.size());
  std::vector<int32_t> ids(n), prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    const int32_t id = byte_ids_[static_cast<unsigned char>(piece[i])];
    if (id < 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(piece[i]));
      throw DataError(origin_ + ": byte " + hex + " has no token in the vocabulary");
    }
    ids[i] = id;
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank, pos, left, right;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    const auto it = merges_.find(MergeKey{ids[pos], ids[next[pos]]});
    if (it != merges_.end()) heap.push({it->second.rank, pos, ids[pos], ids[next[pos]]});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // Stale if either side changed since the candidate was pushed (tokens only grow, so an
    // equal id at the same place means the same symbol).
    if (ids[c.pos] != c.left || next[c.pos] < 0 || ids[next[c.pos]] != c.right) continue;
    const int32_t right = next[c.pos];
    ids[c.pos] = merges_.find(MergeKey{c.left, c.right})->second.result;
    ids[right] = -1;
    next[c.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(ids[i]);
}

void BpeTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (!splitter_) {
    encode_piece(text, out);
    return;
  }
  std::vector<std::string_view> pieces;
  splitter_->split(text, pieces);
  for (std::string_view p : pieces) encode_piece(p, out);
}

std::vector<int32_t> BpeTokenizer::encode_ordinary(std::string_view text) const {
  std::vector<int32_t> out;
  encode_text(text, out);
  return out;
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  if (added_.empty()) {
    encode_text(text, out);
    return out;
  }
  std::array<bool, 256> first_byte{};
  for (const AddedToken& a : added_) first_byte[static_cast<unsigned char>(a.content[0])] = true;
  size_t segment = 0;
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* hit = nullptr;
    if (first_byte[static_cast<unsigned char>(text[pos])]) {
      for (const AddedToken& a : added_) {  // longest first
        if (text.compare(pos, a.content.size(), a.content) == 0) {
          hit = &a;
          break;
        }
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    encode_text(text.substr(segment, pos - segment), out);
    out.push_back(hit->id);
    pos += hit->content.size();
    segment = pos;
  }
  encode_text(text.substr(segment), out);
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || id_to_token_[id].empty()) {
      throw DataError("bpe tokenizer: token id " + std::to_string(id) + " is not in the vocabulary of " + origin_);
    }
    if (is_special_[id]) continue;
    const std::string& token = id_to_token_[id];
    std::string bytes;
    text += !is_added_[id] && byte_level_to_bytes(token, bytes) ? bytes : token;
  }
  return text;
}

std::string BpeTokenizer::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || id_to_token_[id].empty()) {
    throw DataError("bpe tokenizer: token id " + std::to_string(id) + " is not in the vocabulary of " + origin_);
  }
  return id_to_token_[id];
}

}  // namespace bitnet::data
