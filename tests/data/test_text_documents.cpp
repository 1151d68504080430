// Text corpora: separator and blank-line splitting (LF and CRLF), glob expansion order, and the
// errors for a missing path, an unreadable path and an empty corpus; the built-in fortunes corpus.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/error.h"
#include "data/text_documents.h"
#include "tests/support/temp_dir.h"

namespace bitnet::data {
namespace {

using testing::TempDir;
using Docs = std::vector<std::string>;

std::string error_of(const std::vector<std::string>& paths, const std::string& sep) {
  try {
    read_text_documents(paths, sep);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SplitText, SeparatorLines) {
  EXPECT_EQ(split_text_documents("a\n%\nb\nc\n%\n%\n\nd\n\n%\n", "%"), (Docs{"a", "b\nc", "d"}));
  // Blank lines inside a document stay; only leading/trailing ones go.
  EXPECT_EQ(split_text_documents("\n a\n\nb\n\n%", "%"), (Docs{" a\n\nb"}));
  // No final newline, and a line merely containing the separator is text.
  EXPECT_EQ(split_text_documents("x %\n%%\n%\ny", "%"), (Docs{"x %\n%%", "y"}));
  EXPECT_EQ(split_text_documents("a\n---\nb\n", "---"), (Docs{"a", "b"}));
  EXPECT_TRUE(split_text_documents("%\n%\n\n", "%").empty());
  EXPECT_TRUE(split_text_documents("", "%").empty());
}

TEST(SplitText, CrLfLinesReadLikeLf) {
  EXPECT_EQ(split_text_documents("a\r\n%\r\nb\r\nc\r\n%\r\n", "%"), (Docs{"a", "b\nc"}));
  EXPECT_EQ(split_text_documents("x\r\n\r\ny\r\n", ""), (Docs{"x", "y"}));
  // Only one trailing '\r' per line is a line ending; an inner '\r' is text.
  EXPECT_EQ(split_text_documents("a\rb\r\n", "%"), (Docs{"a\rb"}));
}

TEST(SplitText, BlankLineMode) {
  EXPECT_EQ(split_text_documents("p1 l1\np1 l2\n\n\n  \t\np2\n", ""), (Docs{"p1 l1\np1 l2", "p2"}));
  EXPECT_EQ(split_text_documents("\n\nonly\n\n", ""), (Docs{"only"}));
  EXPECT_EQ(split_text_documents("a\n%\nb", ""), (Docs{"a\n%\nb"}));  // '%' is text here
}

TEST(ReadTextDocuments, GlobsExpandInOrderSortedPerPattern) {
  TempDir dir;
  dir.write("b.txt", "B1\n%\nB2\n");
  dir.write("a.txt", "A\n");
  dir.write("c.dat", "not text\n");
  EXPECT_EQ(read_text_documents({dir.path("*.txt")}, "%"), (Docs{"A", "B1", "B2"}));
  EXPECT_EQ(read_text_documents({dir.path("b.txt"), dir.path("*.txt")}, "%"), (Docs{"B1", "B2", "A", "B1", "B2"}));
  EXPECT_EQ(expand_paths({dir.path("?.*")}), (Docs{dir.path("a.txt"), dir.path("b.txt"), dir.path("c.dat")}));
}

TEST(ReadTextDocuments, DocumentsNeverSpanFiles) {
  TempDir dir;
  dir.write("1.txt", "first half");
  dir.write("2.txt", "second half\n");
  EXPECT_EQ(read_text_documents({dir.path("*.txt")}, "%"), (Docs{"first half", "second half"}));
}

TEST(ReadTextDocuments, MissingPathIsNamed) {
  TempDir dir;
  dir.write("a.txt", "A\n");
  const std::string missing = dir.path("nope.txt");
  const std::string msg = error_of({dir.path("a.txt"), missing}, "%");
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  const std::string msg2 = error_of({dir.path("*.md")}, "%");
  EXPECT_NE(msg2.find("*.md"), std::string::npos) << msg2;
}

TEST(ReadTextDocuments, UnreadablePathIsAnError) {
  TempDir dir;
  std::filesystem::create_directory(dir.path("sub"));
  const std::string msg = error_of({dir.path("sub")}, "%");
  EXPECT_NE(msg.find(dir.path("sub")), std::string::npos) << msg;
}

TEST(ReadTextDocuments, EmptyCorpusNamesWhatWasRead) {
  TempDir dir;
  dir.write("e1.txt", "");
  dir.write("e2.txt", "%\n\n%\n");
  const std::string msg = error_of({dir.path("e*.txt")}, "%");
  EXPECT_NE(msg.find("no documents"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir.path("e*.txt")), std::string::npos) << msg;
  EXPECT_THROW(read_text_documents({}, "%"), DataError);
}

TEST(ReadTextDocuments, BuiltinFortunesCorpus) {
  // Installed by scripts/setup (Debian packages fortunes, fortunes-min).
  const Docs files = expand_paths({kBuiltinFortunesGlob});
  ASSERT_GE(files.size(), 3u);
  for (const std::string& f : files) EXPECT_EQ(f.find(".dat"), std::string::npos) << f;
  const Docs docs = read_text_documents({kBuiltinFortunesGlob}, kFortuneSeparator);
  EXPECT_GT(docs.size(), 1000u);
  for (const std::string& d : docs) {
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(d.find("\n%\n"), std::string::npos);
    EXPECT_NE(d.front(), '\n');
    EXPECT_NE(d.back(), '\n');
  }
  EXPECT_NE(std::find(docs.begin(), docs.end(), "A day for firm decisions!!!!!  Or is it?"), docs.end());
}

}  // namespace
}  // namespace bitnet::data
