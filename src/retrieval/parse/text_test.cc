#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/env.h"
#include "core/utf8.h"
#include "retrieval/parse/parse.h"
#include "retrieval/testing/test_data.h"

namespace sagebox::retrieval {
namespace {

using ::testing::Optional;

using testing::Data;
using testing::Read;

std::string MdTitle(const std::string& text) {
  auto d = ParseMarkdown(text, "a.md");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? d->title : "(error)";
}

std::string RstTitle(const std::string& text) {
  auto d = ParseRst(text, "a.rst");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? d->title : "(error)";
}

TEST(Utf8Test, ValidSequences) {
  EXPECT_EQ(FindInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("plain ASCII\n\t"), std::nullopt);
  // 2, 3 and 4 bytes, at the edges of Unicode's Table 3-7.
  EXPECT_EQ(FindInvalidUtf8("\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 "
                            "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF"),
            std::nullopt);
}

TEST(Utf8Test, InvalidSequencesNameTheirOffset) {
  EXPECT_THAT(FindInvalidUtf8("ab\x80"), Optional(2U));            // lone continuation
  EXPECT_THAT(FindInvalidUtf8("a\xC0\xAF"), Optional(1U));         // overlong '/'
  EXPECT_THAT(FindInvalidUtf8("\xE0\x9F\xBF"), Optional(0U));      // overlong 3-byte
  EXPECT_THAT(FindInvalidUtf8("xx\xED\xA0\x80"), Optional(2U));    // surrogate U+D800
  EXPECT_THAT(FindInvalidUtf8("\xF4\x90\x80\x80"), Optional(0U));  // above U+10FFFF
  EXPECT_THAT(FindInvalidUtf8("\xF5\x80\x80\x80"), Optional(0U));
  EXPECT_THAT(FindInvalidUtf8("ok\xE2\x82"), Optional(2U));     // truncated at the end
  EXPECT_THAT(FindInvalidUtf8("\xC3\xA9\xC3("), Optional(2U));  // bad continuation
  EXPECT_THAT(FindInvalidUtf8("caf\xE9"), Optional(3U));        // Latin-1 é
}

TEST(TextTest, KeptAsWrittenBomDropped) {
  auto d = ParseText("\xEF\xBB\xBFline one\r\n\n  indented\tline\n", "notes.txt");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->text, "line one\r\n\n  indented\tline\n");
  EXPECT_EQ(d->id, "notes.txt");
  EXPECT_EQ(d->source, "notes.txt");
  EXPECT_EQ(d->title, "");
  EXPECT_EQ(d->metadata.at("format"), "text");
  EXPECT_TRUE(d->pages.empty());
}

TEST(TextTest, InvalidUtf8IsBadInputWithOffset) {
  auto d = ParseText("fine\nthen caf\xE9 here", "latin1.txt");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(d.status().message(), "latin1.txt: not valid UTF-8 at byte 13 (0xE9)");
  // The offset counts the BOM: it is a byte of the file.
  auto m = ParseMarkdown("\xEF\xBB\xBF# T\n\xFF", "a.md");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "a.md: not valid UTF-8 at byte 7 (0xFF)");
  EXPECT_FALSE(ParseRst("T\n=\n\xC0\x80", "a.rst").ok());
}

TEST(MarkdownTest, RealFiles) {
  auto pip = ParseMarkdown(Read("text/pip_authentication.md"), "pip_authentication.md");
  ASSERT_TRUE(pip.ok()) << pip.status().ToString();
  EXPECT_EQ(pip->title, "Authentication");
  EXPECT_EQ(pip->text, Read("text/pip_authentication.md"));
  EXPECT_EQ(pip->metadata.at("format"), "markdown");
  EXPECT_EQ(MdTitle(Read("text/zstd_TESTING.md")), "Testing");
}

TEST(MarkdownTest, Headings) {
  EXPECT_EQ(MdTitle("intro line\n\n## Second level ##\n# First\n"), "Second level");
  EXPECT_EQ(MdTitle("#NoSpace is not a heading\n#\tTabbed  \n"), "Tabbed");
  EXPECT_EQ(MdTitle("   # three spaces\n"), "three spaces");
  EXPECT_EQ(MdTitle("    # four spaces is code\nReal\n----\n"), "Real");
  EXPECT_EQ(MdTitle("####### seven\n# C# and F#\n"), "C# and F#");
  EXPECT_EQ(MdTitle("# Closing #####   \n"), "Closing");
  EXPECT_EQ(MdTitle("#\n# \n## after empty ones\n"), "after empty ones");
  // Setext: the whole paragraph above the underline.
  EXPECT_EQ(MdTitle("Two line\nheading\n=====\n"), "Two line heading");
  EXPECT_EQ(MdTitle("\n---\n\nSub\n---\n"), "Sub");  // a rule after a blank line is no heading
  // Fenced code hides headings, until a fence as long closes it.
  EXPECT_EQ(MdTitle("````\n# not\n```\n# still not\n````\n# Yes\n"), "Yes");
  EXPECT_EQ(MdTitle("~~~python\n# comment\n~~~\nAfter\n===\n"), "After");
  EXPECT_EQ(MdTitle("no headings at all\n"), "");
}

TEST(MarkdownTest, FrontMatterTitleIsTheFallback) {
  EXPECT_EQ(MdTitle("---\ntitle: \"From YAML\"\nlayout: post\n---\nbody\n"), "From YAML");
  EXPECT_EQ(MdTitle("---\ntitle: yaml\n---\n# Heading wins\n"), "Heading wins");
  // Never closed: not front matter, and "title:" is just text.
  EXPECT_EQ(MdTitle("---\ntitle: open\n"), "");
}

TEST(RstTest, RealFiles) {
  auto idx = ParseRst(Read("text/sdk_training_index.rst"), "index.rst");
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(idx->title, "Training APIs");
  EXPECT_EQ(idx->metadata.at("format"), "rst");
  EXPECT_EQ(idx->text, Read("text/sdk_training_index.rst"));
  EXPECT_EQ(RstTitle(Read("text/smd_data_parallel_use_sm_pysdk.rst")),
            "Launch a Distributed Training Job Using the SageMaker Python SDK");
}

TEST(RstTest, Titles) {
  EXPECT_EQ(RstTitle("Analytics\n---------\n\n.. autoclass:: x\n"), "Analytics");
  EXPECT_EQ(RstTitle("=======\n Inset\n=======\n"), "Inset");
  EXPECT_EQ(RstTitle("Too long a title\n===\n\nShort\n~~~~~\n"), "Short");
  EXPECT_EQ(RstTitle("  indented\n  ----------\nTitle\n*****\n"), "Title");
  // Underlines count code points, not bytes.
  EXPECT_EQ(RstTitle("Caf\xC3\xA9\n^^^^\n"), "Caf\xC3\xA9");
  EXPECT_EQ(RstTitle(".. _label:\n\nText only.\n"), "");
  EXPECT_EQ(RstTitle("letters\nabcdefgh\n"), "");
}

}  // namespace
}  // namespace sagebox::retrieval
