#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/env.h"
#include "retrieval/parse/parse.h"
#include "retrieval/testing/test_data.h"

namespace sagebox::retrieval {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using testing::Data;
using testing::Read;

Document Pdf(const std::string& rel) {
  auto d = ParsePdf(Read(rel), rel);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : Document{};
}

std::string PageText(const Document& d, int number) {
  const Page& p = d.pages.at(static_cast<size_t>(number - 1));
  EXPECT_EQ(p.number, number);
  return d.text.substr(p.begin, p.end - p.begin);
}

TEST(PdfTest, TaggedPdfTwoPagesWithInfoTitle) {
  const Document d = Pdf("pdf/tagged.pdf");
  EXPECT_EQ(d.id, "pdf/tagged.pdf");
  EXPECT_EQ(d.title, "Tagged PDF Demo");
  EXPECT_EQ(d.metadata.at("format"), "pdf");
  EXPECT_EQ(d.metadata.at("pages"), "2");
  EXPECT_EQ(d.metadata.count("needs_ocr"), 0U);
  ASSERT_EQ(d.pages.size(), 2U);
  EXPECT_EQ(d.pages[0].begin, 0U);
  EXPECT_THAT(PageText(d, 1), StartsWith("Table of Contents\nHeading....."));
  EXPECT_THAT(PageText(d, 1), HasSubstr("\n\nHeading\nDocument text.\n\nTable 1: Table caption"));
  EXPECT_EQ(PageText(d, 2), "Page 2 Heading\nBody text.");
  // Pages are joined by a paragraph break, and the ranges tile the text.
  EXPECT_EQ(d.text.substr(d.pages[0].end, d.pages[1].begin - d.pages[0].end), "\n\n");
  EXPECT_EQ(d.pages[1].end, d.text.size());
  EXPECT_EQ(PageAt(d.pages, d.text.find("Body text")), 2);
  EXPECT_EQ(PageAt(d.pages, d.text.find("Document text")), 1);
}

TEST(PdfTest, NoInfoTitleUsesFirstLine) {
  const Document d = Pdf("pdf/senate-expenditures.pdf");
  EXPECT_EQ(d.title, "DOCUMENT NO.");
  ASSERT_EQ(d.pages.size(), 1U);
  EXPECT_THAT(d.text, HasSubstr("BAIN, J MATTHEW\nSMITH, ALVARO R\n"));
  EXPECT_THAT(d.text, HasSubstr("LEGISLATIVE CORRESPONDENT"));
}

// Page 2 is a scan without a text layer: the file still parses, and names
// the page for OCR; its range is empty and sits between pages 1 and 3.
TEST(PdfTest, ScannedPageIsMarkedForOcr) {
  const Document d = Pdf("pdf/mixed-scanned.pdf");
  EXPECT_EQ(d.metadata.at("needs_ocr"), "true");
  EXPECT_EQ(d.metadata.at("ocr_pages"), "2");
  EXPECT_EQ(d.metadata.at("pages"), "3");
  ASSERT_EQ(d.pages.size(), 3U);
  EXPECT_EQ(d.pages[1].begin, d.pages[1].end);
  EXPECT_EQ(d.pages[1].begin, d.pages[0].end);
  EXPECT_EQ(PageText(d, 3), "Page 2 Heading\nBody text.");
  EXPECT_EQ(PageAt(d.pages, d.text.find("Body text")), 3);
  // qpdf's merge dropped the info dictionary: the first line is the title.
  EXPECT_EQ(d.title, "Table of Contents");
}

TEST(PdfTest, EncryptedWithPasswordIsAnError) {
  auto d = ParsePdf(Read("pdf/tagged-encrypted.pdf"), "locked.pdf");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(d.status().message(), "locked.pdf: encrypted PDF needs a password");
}

// Encryption with an empty user password (permissions only) opens as is.
TEST(PdfTest, EncryptedWithoutUserPasswordParses) {
  const Document d = Pdf("pdf/tagged-no-user-password.pdf");
  EXPECT_EQ(d.metadata.at("encrypted"), "true");
  EXPECT_EQ(d.title, "Tagged PDF Demo");
  EXPECT_EQ(PageText(d, 2), "Page 2 Heading\nBody text.");
}

TEST(PdfTest, BrokenPdfsAreErrors) {
  const std::string good = Read("pdf/tagged.pdf");
  for (const std::string& bytes :
       {std::string("%PDF-1.7\nthis is not a pdf body\n"), std::string(),
        good.substr(0, good.size() / 3), std::string("%PDF-1.4\n%%EOF\n")}) {
    auto d = ParsePdf(bytes, "broken.pdf");
    ASSERT_FALSE(d.ok()) << bytes.size();
    EXPECT_EQ(d.status().code(), StatusCode::kBadInput);
    EXPECT_THAT(d.status().message(), StartsWith("broken.pdf: "));
  }
}

}  // namespace
}  // namespace sagebox::retrieval
