#include "rag/prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sagebox::rag {
namespace {

using ::testing::HasSubstr;

std::string RenderOk(std::string_view tmpl, std::string_view q, const std::vector<std::string>& p) {
  auto r = RenderPrompt(tmpl, q, p);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string("(error)");
}

std::string RenderError(std::string_view tmpl) {
  auto r = RenderPrompt(tmpl, "q", {"p"});
  if (r.ok()) return "(rendered: " + *r + ")";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(ValidateTemplate(tmpl).message(), r.status().message());
  return r.status().message();
}

TEST(PromptTest, ArticleTemplateIsTheArticlesWithItsNewlines) {
  EXPECT_EQ(kArticleTemplate, "Answer based on context:\n\n{context}\n\n{question}");
}

// What the article's load_qa_chain("stuff") sends for two retrieved documents:
// the template with {context} = page contents joined by "\n\n".
TEST(PromptTest, ArticleOutputForTwoPassages) {
  const std::vector<std::string> passages = {
      "Amazon SageMaker Serverless Inference enables you to easily deploy machine learning "
      "models.",
      "Only one local mode endpoint can be running at a time."};
  EXPECT_EQ(RenderOk(kArticleTemplate, "What is serverless inference?", passages),
            "Answer based on context:\n\n"
            "Amazon SageMaker Serverless Inference enables you to easily deploy machine learning "
            "models.\n\n"
            "Only one local mode endpoint can be running at a time.\n\n"
            "What is serverless inference?");
}

TEST(PromptTest, StuffContextJoinsWithTheDocumentSeparator) {
  EXPECT_EQ(StuffContext({}), "");
  EXPECT_EQ(StuffContext({"a"}), "a");
  EXPECT_EQ(StuffContext({"a", "", "c"}), "a\n\n\n\nc");
  EXPECT_EQ(kDocumentSeparator, "\n\n");
}

TEST(PromptTest, NoPassagesGiveAnEmptyContext) {
  EXPECT_EQ(RenderOk(kArticleTemplate, "Q?", {}), "Answer based on context:\n\n\n\nQ?");
}

// Expected strings checked against Python 3's str.format, the engine of
// PromptTemplate's f-string format.
TEST(PromptTest, DoubledBracesAreLiteral) {
  EXPECT_EQ(RenderOk("{{context}} {context} {{{question}}} }}{{", "Q", {"C"}),
            "{context} C {Q} }{");
  EXPECT_EQ(RenderOk("JSON: {{\"a\": 1}}\n{context}\n{question}", "Q", {"C"}),
            "JSON: {\"a\": 1}\nC\nQ");
}

TEST(PromptTest, ValuesAreInsertedVerbatim) {
  // Braces and placeholders inside values are not read again.
  EXPECT_EQ(RenderOk("{context}|{question}", "{context}?", {"x {question} }{", "y"}),
            "x {question} }{\n\ny|{context}?");
}

TEST(PromptTest, PlaceholdersMayRepeatAndCarryUtf8) {
  EXPECT_EQ(RenderOk("« {question} » {context} — {question}", "なぜ？", {"文脈。"}),
            "« なぜ？ » 文脈。 — なぜ？");
}

TEST(PromptTest, UserTemplateLikeLangChainsDefault) {
  // LangChain's default stuff QA prompt (chains/question_answering/stuff_prompt.py).
  const std::string tmpl =
      "Use the following pieces of context to answer the question at the end. If you don't "
      "know the answer, just say that you don't know, don't try to make up an answer.\n\n"
      "{context}\n\nQuestion: {question}\nHelpful Answer:";
  EXPECT_EQ(RenderOk(tmpl, "Why?", {"A.", "B."}),
            "Use the following pieces of context to answer the question at the end. If you don't "
            "know the answer, just say that you don't know, don't try to make up an answer.\n\n"
            "A.\n\nB.\n\nQuestion: Why?\nHelpful Answer:");
}

TEST(PromptTest, ErrorsNameTheProblem) {
  EXPECT_THAT(RenderError("{context} {questions}"), HasSubstr("unknown placeholder {questions}"));
  EXPECT_THAT(RenderError("{context} {question} {history}"),
              HasSubstr("unknown placeholder {history} at byte 21"));
  EXPECT_THAT(RenderError("{question} only"), HasSubstr("missing the {context} placeholder"));
  EXPECT_THAT(RenderError("{context} only"), HasSubstr("missing the {question} placeholder"));
  EXPECT_THAT(RenderError("no placeholders"), HasSubstr("missing the {context}"));
  EXPECT_THAT(RenderError("{context} {question} }"), HasSubstr("single '}' at byte 21"));
  EXPECT_THAT(RenderError("{context} {question"), HasSubstr("'{' at byte 10 has no matching '}'"));
  EXPECT_THAT(RenderError("{context} { {question}"), HasSubstr("'{' at byte 10"));
  EXPECT_THAT(RenderError("{} {context} {question}"),
              HasSubstr("empty placeholder '{}' at byte 0"));
  EXPECT_THAT(RenderError("{context!r} {question}"), HasSubstr("conversion or format spec"));
  EXPECT_THAT(RenderError("{context} {question:>10}"), HasSubstr("\"question:>10\""));
  EXPECT_THAT(RenderError("{context.page} {question}"), HasSubstr("unknown placeholder"));
  EXPECT_THAT(RenderError("{0} {context} {question}"), HasSubstr("unknown placeholder {0}"));
}

TEST(PromptTest, ValidateAcceptsGoodTemplates) {
  EXPECT_TRUE(ValidateTemplate(kArticleTemplate).ok());
  EXPECT_TRUE(ValidateTemplate("{{x}} {question} {context}").ok());
}

}  // namespace
}  // namespace sagebox::rag
