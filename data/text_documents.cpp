// Reading text files and splitting them into documents (see text_documents.h for the rules).
#include "data/text_documents.h"

#include <glob.h>

#include "data/error.h"
#include "data/input_file.h"

namespace bitnet::data {

namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += "'" + items[i] + "'";
  }
  return out;
}

// Lines [begin, end) of one document, without leading/trailing blank lines; false when nothing
// but blank lines remain.
bool emit_document(const std::vector<std::string_view>& lines, std::vector<std::string>& docs) {
  size_t begin = 0, end = lines.size();
  while (begin < end && is_blank(lines[begin])) ++begin;
  while (end > begin && is_blank(lines[end - 1])) --end;
  if (begin == end) return false;
  std::string doc;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) doc.push_back('\n');
    doc.append(lines[i]);
  }
  docs.push_back(std::move(doc));
  return true;
}

std::string read_file(const std::string& path) {
  InputFile in(path);
  std::string text;
  std::vector<char> buffer(size_t{1} << 18);
  while (const size_t n = in.read(buffer.data(), buffer.size())) text.append(buffer.data(), n);
  return text;
}

}  // namespace

bool is_document_boundary(std::string_view line, const std::string& separator_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return separator_line.empty() ? is_blank(line) : line == separator_line;
}

std::vector<std::string> split_text_documents(const std::string& text, const std::string& separator_line,
                                              std::vector<size_t>* document_ends) {
  std::vector<std::string> docs;
  std::vector<std::string_view> current;
  const std::string_view all(text);
  if (document_ends != nullptr) document_ends->clear();
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    const size_t line_end = nl == std::string_view::npos ? all.size() : nl;
    std::string_view line = all.substr(pos, line_end - pos);
    pos = nl == std::string_view::npos ? all.size() : nl + 1;
    if (is_document_boundary(line, separator_line)) {
      if (emit_document(current, docs) && document_ends != nullptr) document_ends->push_back(pos);
      current.clear();
    } else {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      current.push_back(line);
    }
  }
  if (emit_document(current, docs) && document_ends != nullptr) document_ends->push_back(all.size());
  return docs;
}

std::vector<std::string> expand_paths(const std::vector<std::string>& paths_or_globs) {
  std::vector<std::string> files;
  for (const std::string& pattern : paths_or_globs) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      globfree(&g);
      throw DataError("no file matches '" + pattern + "'");
    }
    if (rc != 0) {
      globfree(&g);
      throw DataError("cannot expand '" + pattern + "' (" +
                      (rc == GLOB_ABORTED ? "a directory could not be read" : "out of memory") + ")");
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  return files;
}

std::vector<std::string> read_text_documents(const std::vector<std::string>& paths_or_globs,
                                             const std::string& separator_line) {
  if (paths_or_globs.empty()) throw DataError("no text files given (the list of paths is empty)");
  std::vector<std::string> docs;
  for (const std::string& file : expand_paths(paths_or_globs)) {
    std::vector<std::string> file_docs = split_text_documents(read_file(file), separator_line);
    for (std::string& d : file_docs) docs.push_back(std::move(d));
  }
  if (docs.empty()) {
    throw DataError("no documents found in " + join_list(paths_or_globs) +
                    " (every file is empty or holds only separators/blank lines)");
  }
  return docs;
}

}  // namespace bitnet::data
