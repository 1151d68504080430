// Plain-text corpora: files (or glob patterns) split into documents by a separator line.
// The built-in corpus is the Debian `fortunes` + `fortunes-min` packages: kBuiltinFortunesGlob
// with separator "%". In /usr/share/games/fortunes every database `name` comes with `name.dat`
// (a binary strfile index, never text) and `name.u8` (a symlink to `name`, which Debian ships
// in UTF-8); matching `*.u8` therefore takes each text database exactly once and no index.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bitnet::data {

inline constexpr const char* kBuiltinFortunesGlob = "/usr/share/games/fortunes/*.u8";
inline constexpr const char* kFortuneSeparator = "%";

// Expands each entry with glob(3) in the order given (the matches of one pattern sorted), reads
// every file (gunzipped when it is gzip, data/input_file.h) and splits it into documents:
//  - lines are split on '\n' and a trailing '\r' is dropped (CRLF files read like LF files);
//  - separator_line non-empty: a line equal to it ends a document;
//    separator_line "": one or more blank lines end a document;
//  - blank lines (empty or only spaces/tabs) at the start and end of a document are dropped,
//    documents with no text left are dropped, lines are rejoined with '\n' (no final newline);
//  - a document never spans two files.
// Errors (DataError): an entry that matches nothing (named), a file that cannot be read (named),
// or no document at all (naming the entries read).
std::vector<std::string> read_text_documents(const std::vector<std::string>& paths_or_globs,
                                             const std::string& separator_line);

// The same splitting on text already in memory, as if it were one file. With document_ends, also
// gives for each document the offset in `text` just past the line that ended it (the separator or
// blank line, or the end of the text). Splitting the text after such a line gives the same
// documents as splitting it whole, which is what lets a reader cut a file into pieces
// (is_document_boundary) and resume at a recorded offset.
std::vector<std::string> split_text_documents(const std::string& text, const std::string& separator_line,
                                              std::vector<size_t>* document_ends = nullptr);

// True when `line` (without its '\n'; a trailing '\r' is ignored) ends a document under the rules
// above: it equals separator_line, or separator_line is "" and the line is blank.
bool is_document_boundary(std::string_view line, const std::string& separator_line);

// glob(3) expansion with the rules above; exposed for tools that list a corpus.
std::vector<std::string> expand_paths(const std::vector<std::string>& paths_or_globs);

}  // namespace bitnet::data
