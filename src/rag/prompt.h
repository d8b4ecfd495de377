// prompt.h: the prompt a generator receives, rendered from a template, the
// question and the retrieved passages, the way LangChain's "stuff" chain
// (load_qa_chain(chain_type="stuff")) renders it for the article's bot.
//
// Templates use LangChain's PromptTemplate f-string syntax, which is Python's
// str.format (langchain_core/prompts/string.py: string.Formatter): `{name}`
// is replaced by a value, `{{` and `}}` are literal braces. The names allowed
// are `context` and `question`, and a template must use both. Values are
// inserted verbatim: braces in a passage or a question are not re-read.
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::rag {

// The article's template ("Build a powerful question answering bot with
// Amazon SageMaker, Amazon OpenSearch Service, Streamlit, and LangChain";
// rag_handler in aws-samples/llm-apps-workshop,
// blogs/rag/api/app/api/api_v1/endpoints/llm_ep.py), with the "\n\n" the
// article's published text lost.
inline constexpr std::string_view kArticleTemplate =
    "Answer based on context:\n\n{context}\n\n{question}";

// What StuffDocumentsChain puts between two formatted documents: its
// `document_separator` field defaults to "\n\n", and its default
// `document_prompt` is "{page_content}", i.e. each passage's text unchanged
// (langchain/chains/combine_documents/stuff.py: StuffDocumentsChain and
// _get_default_document_prompt; the same in the 2023 tree the workshop's
// langchain 0.0.149 comes from and in today's libs/langchain).
inline constexpr std::string_view kDocumentSeparator = "\n\n";

// The `{context}` value: the passages' texts, best first, joined by
// kDocumentSeparator. No passages give "".
std::string StuffContext(const std::vector<std::string>& passages);

// Checks a template without rendering it. InvalidArgument naming the byte
// offset and the problem: a `{` or `}` that is neither a placeholder nor
// doubled, an empty `{}` (positional fields have no value here), a name other
// than `context`/`question`, a conversion or format spec (`{context!r}`,
// `{question:>10}`: not supported), or a template without `{context}` or
// without `{question}`.
Status ValidateTemplate(std::string_view tmpl);

// Renders `tmpl` with `{context}` = StuffContext(passages) and `{question}` =
// question. InvalidArgument as ValidateTemplate when the template is bad.
StatusOr<std::string> RenderPrompt(std::string_view tmpl, std::string_view question,
                                   const std::vector<std::string>& passages);

}  // namespace sagebox::rag
