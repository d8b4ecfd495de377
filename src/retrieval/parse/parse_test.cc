#include "retrieval/parse/parse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "retrieval/testing/test_data.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

using testing::Data;

void Write(const std::string& path, const std::string& data) {
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, data).ok()) << path;
}

TEST(FormatTest, FromExtension) {
  EXPECT_THAT(FormatFromExtension("a/b/page.HTML"), Optional(Format::kHtml));
  EXPECT_THAT(FormatFromExtension("x.htm"), Optional(Format::kHtml));
  EXPECT_THAT(FormatFromExtension("README.md"), Optional(Format::kMarkdown));
  EXPECT_THAT(FormatFromExtension("index.rst"), Optional(Format::kRst));
  EXPECT_THAT(FormatFromExtension("notes.txt"), Optional(Format::kText));
  EXPECT_THAT(FormatFromExtension("paper.Pdf"), Optional(Format::kPdf));
  EXPECT_THAT(FormatFromExtension("corpus.jsonl"), Optional(Format::kBeir));
  EXPECT_EQ(FormatFromExtension("image.png"), std::nullopt);
  EXPECT_EQ(FormatFromExtension("Makefile"), std::nullopt);
  EXPECT_EQ(FormatFromExtension("dir.md/file"), std::nullopt);
  EXPECT_EQ(FormatFromExtension(".md"), std::nullopt);  // a hidden file named "md"
  EXPECT_EQ(FormatName(Format::kBeir), "beir");
  EXPECT_EQ(FormatName(Format::kMarkdown), "markdown");
}

TEST(FormatTest, MagicBytesDecide) {
  // A PDF is a PDF whatever its name; the header may follow some junk.
  EXPECT_EQ(*DetectFormat("scan.txt", "%PDF-1.4\n..."), Format::kPdf);
  EXPECT_EQ(*DetectFormat("download", std::string(100, '\0') + "%PDF-1.7"), Format::kPdf);
  auto not_pdf = DetectFormat("report.pdf", "<html>oops, an error page</html>");
  ASSERT_FALSE(not_pdf.ok());
  EXPECT_EQ(not_pdf.status().message(),
            "report.pdf: not a PDF (no %PDF- header in the first 1024 bytes)");
  // The extension wins over contents for the text formats.
  EXPECT_EQ(*DetectFormat("page.txt", "<html><body>x</body></html>"), Format::kText);
  // No extension: sniffed.
  EXPECT_EQ(*DetectFormat("index", "\xEF\xBB\xBF \n<!DOCTYPE HTML><html>"), Format::kHtml);
  EXPECT_EQ(*DetectFormat("index", "<HTML lang=en>"), Format::kHtml);
  EXPECT_EQ(*DetectFormat("README", "Just words <html>"), Format::kText);
}

TEST(ParseFileTest, EachFormat) {
  sagebox::testing::TempDir dir("parsefile");
  Write(dir.Path("a.md"), "Title\n=====\n\nBody.\n");
  Write(dir.Path("b.rst"), "RST title\n---------\n");
  Write(dir.Path("c.txt"), "plain\n");
  Write(dir.Path("d.htm"), "<title>T</title><p>para</p>");
  Write(dir.Path("e"), "<!doctype html><h1>Sniffed</h1>");
  Write(dir.Path("corpus.jsonl"),
        "{\"_id\":\"1\",\"text\":\"x\"}\n{\"_id\":\"2\",\"text\":\"y\"}\n");
  struct Case {
    std::string name, format, title;
  };
  for (const Case& c : std::vector<Case>{{"a.md", "markdown", "Title"},
                                         {"b.rst", "rst", "RST title"},
                                         {"c.txt", "text", ""},
                                         {"d.htm", "html", "T"},
                                         {"e", "html", "Sniffed"}}) {
    auto docs = ParseFile(Env::Default(), dir.Path(c.name));
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    ASSERT_EQ(docs->size(), 1U) << c.name;
    EXPECT_EQ((*docs)[0].id, dir.Path(c.name));
    EXPECT_EQ((*docs)[0].source, dir.Path(c.name));
    EXPECT_EQ((*docs)[0].metadata.at("format"), c.format) << c.name;
    EXPECT_EQ((*docs)[0].title, c.title) << c.name;
  }
  auto beir = ParseFile(Env::Default(), dir.Path("corpus.jsonl"));
  ASSERT_TRUE(beir.ok()) << beir.status().ToString();
  ASSERT_EQ(beir->size(), 2U);
  EXPECT_EQ((*beir)[1].id, dir.Path("corpus.jsonl") + "#2");

  auto pdf = ParseFile(Env::Default(), Data("pdf/tagged.pdf"));
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ((*pdf)[0].title, "Tagged PDF Demo");
  auto html = ParseFile(Env::Default(), Data("html/pwd.html"));
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_EQ((*html)[0].metadata.at("content"), "main");
}

// What the CLI prints for a bad file: "FILE: what is wrong".
TEST(ParseFileTest, ErrorsStartWithTheFile) {
  sagebox::testing::TempDir dir("parsefile_err");
  Write(dir.Path("bad.txt"), "ok\n\xFE");
  Write(dir.Path("fake.pdf"), "not a pdf");
  Write(dir.Path("corpus.jsonl"), "{\"_id\":\"1\"}");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad.txt", ": not valid UTF-8 at byte 3 (0xFE)"},
      {"fake.pdf", ": not a PDF (no %PDF- header in the first 1024 bytes)"},
      {"corpus.jsonl", ":1: missing field \"text\""},
      {"missing.md", ": cannot open: No such file or directory"},
  };
  for (const auto& [name, what] : cases) {
    auto docs = ParseFile(Env::Default(), dir.Path(name));
    ASSERT_FALSE(docs.ok()) << name;
    EXPECT_EQ(docs.status().message(), dir.Path(name) + what);
  }
  auto locked = ParseFile(Env::Default(), Data("pdf/tagged-encrypted.pdf"));
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(locked.status().message(),
            Data("pdf/tagged-encrypted.pdf") + ": encrypted PDF needs a password");
}

TEST(CollectFilesTest, WalksSortedSkipsHiddenAndUnknown) {
  sagebox::testing::TempDir dir("collect");
  Env* env = Env::Default();
  for (const char* d : {"docs", "docs/b", "docs/a", "docs/.git", "docs/beir", "docs/.hidden_dir"}) {
    ASSERT_TRUE(env->CreateDirs(dir.Path(d)).ok());
  }
  for (const char* f :
       {"docs/z.md", "docs/b/2.html", "docs/b/1.rst", "docs/a/x.PDF", "docs/a/image.png",
        "docs/.notes.md", "docs/.git/HEAD.txt", "docs/.hidden_dir/in.md", "docs/beir/corpus.jsonl",
        "docs/beir/queries.jsonl", "docs/a/y.txt", "loose.bin"}) {
    Write(dir.Path(f), "x");
  }
  auto files = CollectFiles(env, {dir.Path("docs"), dir.Path("loose.bin"), dir.Path("docs/z.md")});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  // Folders in sorted order, recursively; a file argument taken as given
  // (even an unknown extension); a file named twice listed once.
  EXPECT_THAT(*files, ElementsAre(dir.Path("docs/a/x.PDF"), dir.Path("docs/a/y.txt"),
                                  dir.Path("docs/b/1.rst"), dir.Path("docs/b/2.html"),
                                  dir.Path("docs/beir/corpus.jsonl"), dir.Path("docs/z.md"),
                                  dir.Path("loose.bin")));
}

TEST(CollectFilesTest, MissingPathIsNotFound) {
  sagebox::testing::TempDir dir("collect_missing");
  auto files = CollectFiles(Env::Default(), {dir.path(), dir.Path("nope")});
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(files.status().message(), dir.Path("nope") + ": no such file or directory");
  auto empty = CollectFiles(Env::Default(), {dir.path()});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// An Env whose folder is its own child: the walk stops with an error
// instead of recursing forever.
class LoopEnv : public EnvWrapper {
 public:
  LoopEnv() : EnvWrapper(Env::Default()) {}
  bool Exists(const std::string&) override { return true; }
  bool IsDirectory(const std::string&) override { return true; }
  StatusOr<std::vector<std::string>> ListDir(const std::string&) override {
    return std::vector<std::string>{"loop"};
  }
};

TEST(CollectFilesTest, LinkLoopIsBadInput) {
  LoopEnv env;
  auto files = CollectFiles(&env, {"root"});
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(files.status().message(), HasSubstr("folders nested deeper than 64"));
}

}  // namespace
}  // namespace sagebox::retrieval
