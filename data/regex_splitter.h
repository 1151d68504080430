// Pre-tokenization by regular expression (a Hugging Face `Split` pre-tokenizer with behaviour
// "Isolated"): every match is a piece, and so is every stretch of text between matches.
// PCRE2 in UTF mode with Unicode properties (\p{L}, \p{N}, Unicode \s) and look-ahead, which the
// LLaMA 3 pattern needs. Invalid UTF-8 is allowed: no match covers an invalid byte, so such bytes
// end up in the in-between pieces, and the pieces still concatenate to the input exactly.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bitnet::data {

class RegexSplitter {
 public:
  // DataError naming the pattern and the offset of the problem if it does not compile.
  explicit RegexSplitter(const std::string& pattern);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  // Appends the pieces of `text` (views into it) to `pieces`, in order.
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::string pattern_;
  std::unique_ptr<Code> code_;
};

}  // namespace bitnet::data
