#include "rag/sentences.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sagebox::rag {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  for (const Segment& s : SplitSentences(text))
    out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

std::vector<SegmentKind> Kinds(std::string_view text) {
  std::vector<SegmentKind> out;
  for (const Segment& s : SplitSentences(text)) out.push_back(s.kind);
  return out;
}

struct Case {
  const char* name;
  const char* text;
  std::vector<std::string> want;
};

class SplitTable : public ::testing::TestWithParam<Case> {};

TEST_P(SplitTable, Splits) {
  const Case& c = GetParam();
  EXPECT_THAT(Split(c.text), ElementsAreArray(c.want)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Tricky, SplitTable,
    ::testing::Values(
        Case{"plain",
             "One two. Three four! Five six? Seven",
             {"One two.", "Three four!", "Five six?", "Seven"}},
        Case{"eg_ie_lower",
             "Use a role, e.g. the default one. Then go, i.e. now.",
             {"Use a role, e.g. the default one.", "Then go, i.e. now."}},
        Case{"eg_upper",
             "Pick a framework, e.g. PyTorch or MXNet. It runs.",
             {"Pick a framework, e.g. PyTorch or MXNet.", "It runs."}},
        Case{"titles",
             "Ask Dr. Smith and Mr. Jones. They know.",
             {"Ask Dr. Smith and Mr. Jones.", "They know."}},
        Case{"initials",
             "Written by J. R. Tolkien. Read it.",
             {"Written by J. R. Tolkien.", "Read it."}},
        Case{"dotted_abbrev",
             "Made in the U.S. Army style. Done.",
             {"Made in the U.S. Army style.", "Done."}},
        Case{"fig_number",
             "See Fig. 3 for details. The answer is no. Then stop.",
             {"See Fig. 3 for details.", "The answer is no.", "Then stop."}},
        Case{"decimals",
             "Pi is 3.14 roughly. Use 0.5 here.",
             {"Pi is 3.14 roughly.", "Use 0.5 here."}},
        Case{"versions",
             "Install v2.1.0 now. Then 1.6.0 works.",
             {"Install v2.1.0 now.", "Then 1.6.0 works."}},
        Case{"url",
             "Visit https://docs.aws.amazon.com/sagemaker/latest/dg/index.html. It helps.",
             {"Visit https://docs.aws.amazon.com/sagemaker/latest/dg/index.html.", "It helps."}},
        Case{"url_query",
             "Open https://a.org/x?y=1. Z. Then (http://b.io/A.B) works.",
             {"Open https://a.org/x?y=1.", "Z. Then (http://b.io/A.B) works."}},
        Case{"www",
             "Go to www.example.com. Then log in.",
             {"Go to www.example.com.", "Then log in."}},
        Case{"file_names",
             "Edit config.yaml and README.md first. Then run.",
             {"Edit config.yaml and README.md first.", "Then run."}},
        Case{"inline_code",
             "Call ``sagemaker.Session. Now()`` here. Then ``fit()``. Done.",
             {"Call ``sagemaker.Session. Now()`` here.", "Then ``fit()``.", "Done."}},
        Case{"stray_backtick", "Use ` here. Then go.", {"Use ` here.", "Then go."}},
        Case{"rst_role",
             "Use :class:`sagemaker.estimator.Estimator`. It trains.",
             {"Use :class:`sagemaker.estimator.Estimator`.", "It trains."}},
        Case{"ellipsis_lower",
             "Wait... then go. And so on… Fine.",
             {"Wait... then go.", "And so on…", "Fine."}},
        Case{"ellipsis_upper", "Hmm... Maybe later.", {"Hmm...", "Maybe later."}},
        Case{"no_space",
             "The job ended.Next it restarts. Keep sagemaker.session here.",
             {"The job ended.", "Next it restarts.", "Keep sagemaker.session here."}},
        // Regression (python3.11-doc, bench/RESULTS.md): a signature line of a dotted
        // name was cut at its dot, and the answer quoted "class csv.".
        Case{"dotted_name_ends_its_line",
             "class csv.Dialect\nThe Dialect class is a container class. It ends.Dialect",
             {"class csv.Dialect\nThe Dialect class is a container class.", "It ends.Dialect"}},
        Case{"no_space_code_call",
             "Create a sagemaker.Session() object.",
             {"Create a sagemaker.Session() object."}},
        Case{"closers",
             "He said \"stop.\" Then (quietly.) It ended.",
             {"He said \"stop.\"", "Then (quietly.)", "It ended."}},
        Case{"continuation_punct",
             "Lists, etc., are fine. etc. and more.",
             {"Lists, etc., are fine. etc. and more."}},
        Case{"cjk",
             "这是第一句。这是第二句！第三句？",
             {"这是第一句。", "这是第二句！", "第三句？"}},
        Case{"cjk_closer", "他说：「好。」然后走了。", {"他说：「好。」", "然后走了。"}},
        Case{"japanese_mixed",
             "モデルをデプロイします。Then test it.",
             {"モデルをデプロイします。", "Then test it."}},
        Case{"wrapped_lines",
             "A sentence that\nwraps over\nlines. And\nanother.",
             {"A sentence that\nwraps over\nlines.", "And\nanother."}},
        Case{"paragraphs", "First para\n\nSecond para", {"First para", "Second para"}},
        Case{"crlf", "One.\r\nStill one? Yes.\r\n\r\nTwo", {"One.", "Still one?", "Yes.", "Two"}},
        Case{"md_list",
             "Steps:\n- install it\n- run it. Check it.\n  continued here\n1. first\n2) second",
             {"Steps:", "install it", "run it.", "Check it.\n  continued here", "first", "second"}},
        Case{"rst_list",
             "* a star item\n+ a plus item\n#. auto-numbered\n• bullet",
             {"a star item", "a plus item", "auto-numbered", "bullet"}},
        Case{"md_heading",
             "# Title\nText here.\n## Sub ##\nMore.",
             {"Title", "Text here.", "Sub", "More."}},
        Case{"rst_heading",
             "Local Mode\n**********\n\nThe SDK supports it.",
             {"Local Mode", "The SDK supports it."}},
        Case{"rst_overline", "=====\nTitle\n=====\nBody.", {"Title", "Body."}},
        Case{"md_fence",
             "Run:\n```python\nx = a.b. C()\ny = 2\n```\nDone.",
             {"Run:", "x = a.b. C()", "y = 2", "Done."}},
        Case{"rst_literal",
             "Install with pip::\n\n    pip install 'sagemaker[local]' --upgrade\n    echo ok. "
             "Next\n\nAfter.",
             {"Install with pip::", "pip install 'sagemaker[local]' --upgrade", "echo ok. Next",
              "After."}},
        Case{"rst_bare_literal",
             "Using pip:\n\n::\n\n    pip install x\n\nAfter.",
             {"Using pip:", "pip install x", "After."}},
        Case{"rst_code_block",
             ".. code:: python\n\n    from a import b\n    c = b. D()\n\nText.",
             {"from a import b", "c = b. D()", "Text."}},
        Case{"rst_admonition",
             ".. note:: Keep it. Or not.\n.. image:: a.png\n.. _label:",
             {"Keep it.", "Or not."}},
        Case{"rst_field",
             ":param role: The IAM role. Optional.\n:type role: str",
             {":param role: The IAM role.", "Optional.", ":type role: str"}},
        Case{"tables",
             "| a | b. C |\n|---|---|\n| 1 | 2 |\n+---+---+",
             {"| a | b. C |", "| 1 | 2 |"}},
        Case{"only_punct", "... !!! ?\n\n---\n\n|", {}}, Case{"empty", "", {}},
        Case{"trailing_space", "  Hello world.   ", {"Hello world."}}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(SplitSentencesTest, KindsAndMarkersOutsideSpans) {
  const std::string text = "Title\n=====\n\n- item one\n\n::\n\n    code()\n";
  EXPECT_THAT(Kinds(text),
              ElementsAre(SegmentKind::kHeading, SegmentKind::kSentence, SegmentKind::kCode));
  EXPECT_THAT(Split(text), ElementsAre("Title", "item one", "code()"));
}

// Every span is in order, inside the text, trimmed, and starts and ends on a
// code point boundary, for text mixing multi-byte characters with every
// rule's punctuation.
TEST(SplitSentencesTest, SpansAreOrderedAndOnCodePointBoundaries) {
  const std::string text =
      "Ünïcödé… Ça va. 東京。大阪！ «Quoted.» Next—one. e.g. ÉCOLE. Dr. Ñ. ’Tis. 😀 Emoji! 😀\n"
      "- ítem\n# Tïtle\n```\ncödé.\n```\n";
  size_t last_end = 0;
  for (const Segment& s : SplitSentences(text)) {
    ASSERT_LE(last_end, s.begin);
    ASSERT_LT(s.begin, s.end);
    ASSERT_LE(s.end, text.size());
    EXPECT_NE(static_cast<unsigned char>(text[s.begin]) & 0xC0, 0x80) << s.begin;
    if (s.end < text.size()) {
      EXPECT_NE(static_cast<unsigned char>(text[s.end]) & 0xC0, 0x80) << s.end;
    }
    EXPECT_FALSE(isspace(static_cast<unsigned char>(text[s.begin])));
    EXPECT_FALSE(isspace(static_cast<unsigned char>(text[s.end - 1])));
    last_end = s.end;
  }
  EXPECT_THAT(Split(text), ElementsAre("Ünïcödé…", "Ça va.", "東京。", "大阪！", "«Quoted.»",
                                       "Next—one. e.g. ÉCOLE.", "Dr. Ñ.", "’Tis.", "😀 Emoji!",
                                       "ítem", "Tïtle", "cödé."));
}

TEST(SplitSentencesTest, RealSdkParagraph) {
  // doc/amazon_sagemaker_debugger.rst of the SageMaker Python SDK (see
  // tests/data/retrieval/rag/PROVENANCE.md).
  const std::string text =
      "To enable data emission for debugging model training, Amazon SageMaker initializes a "
      "\"hook\" which attaches itself to the training process and emits data necessary for "
      "debugging, i.e. tensors. To provide the hook's configuration, specify the option called "
      "``DebuggerHookConfig`` when training your model. For more about the ``DebuggerHookConfig`` "
      "object, see the `API documentation "
      "<https://sagemaker.readthedocs.io/en/stable/debugger.html#sagemaker.debugger."
      "DebuggerHookConfig>`__.";
  const auto got = Split(text);
  ASSERT_EQ(got.size(), 3U);
  EXPECT_THAT(got[0], ::testing::EndsWith("necessary for debugging, i.e. tensors."));
  EXPECT_THAT(got[1], ::testing::StartsWith("To provide the hook's configuration"));
  EXPECT_THAT(got[2], ::testing::EndsWith("DebuggerHookConfig>`__."));
}

TEST(SplitSentencesTest, StrayBackticksStayCheapAndDoNotHideBreaks) {
  std::string text = "`";
  for (int i = 0; i < 20000; ++i) text += "Word. ";
  EXPECT_EQ(SplitSentences(text).size(), 20000U);
  // A closing run far away (past the inline-code limit) does not make one
  // giant code span.
  const std::string far = "Say `x. Then " + std::string(600, 'y') + ". Next `z` ends.";
  EXPECT_EQ(SplitSentences(far).size(), 3U);
}

TEST(SplitSentencesTest, InvalidUtf8IsSplitAsBytes) {
  const std::string text = "Bad \xC3 byte. Next \xFF\xFE one.";
  EXPECT_THAT(Split(text), ElementsAre("Bad \xC3 byte.", "Next \xFF\xFE one."));
}

}  // namespace
}  // namespace sagebox::rag
