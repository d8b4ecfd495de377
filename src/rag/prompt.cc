#include "rag/prompt.h"

#include <functional>
#include <string>

namespace sagebox::rag {
namespace {

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "\"";
  out += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  return out + "\"";
}

// Walks the template as Python's string.Formatter.parse does (literal text,
// `{{`/`}}` escapes, `{field}`), calling `emit_literal` for literal bytes and
// `emit_field` for each placeholder name. Stops at the first error, which
// names the byte offset, like Python's "Single '}' encountered in format
// string".
Status Walk(std::string_view t, const std::function<void(std::string_view)>& emit_literal,
            const std::function<void(std::string_view)>& emit_field) {
  bool has_context = false;
  bool has_question = false;
  size_t i = 0;
  size_t lit = 0;  // start of the pending literal run
  while (i < t.size()) {
    const char c = t[i];
    if (c != '{' && c != '}') {
      ++i;
      continue;
    }
    emit_literal(t.substr(lit, i - lit));
    if (i + 1 < t.size() && t[i + 1] == c) {  // "{{" or "}}": one literal brace
      emit_literal(t.substr(i, 1));
      i += 2;
      lit = i;
      continue;
    }
    if (c == '}') {
      return InvalidArgument("prompt template: single '}' at byte " + std::to_string(i) +
                             " (write '}}' for a literal brace)");
    }
    const size_t close = t.find('}', i + 1);
    const size_t nested = t.find('{', i + 1);
    if (close == std::string_view::npos || (nested != std::string_view::npos && nested < close)) {
      return InvalidArgument("prompt template: '{' at byte " + std::to_string(i) +
                             " has no matching '}' (write '{{' for a literal brace)");
    }
    const std::string_view field = t.substr(i + 1, close - i - 1);
    if (field.empty()) {
      return InvalidArgument("prompt template: empty placeholder '{}' at byte " +
                             std::to_string(i) + "; expected {context} or {question}");
    }
    if (field.find_first_of("!:") != std::string_view::npos) {
      return InvalidArgument("prompt template: placeholder " + Quote(field) + " at byte " +
                             std::to_string(i) +
                             " has a conversion or format spec, which is not supported; "
                             "expected {context} or {question}");
    }
    if (field == "context") {
      has_context = true;
    } else if (field == "question") {
      has_question = true;
    } else {
      return InvalidArgument("prompt template: unknown placeholder {" + std::string(field) +
                             "} at byte " + std::to_string(i) +
                             "; expected {context} or {question}");
    }
    emit_field(field);
    i = close + 1;
    lit = i;
  }
  emit_literal(t.substr(lit));
  if (!has_context) return InvalidArgument("prompt template: missing the {context} placeholder");
  if (!has_question) {
    return InvalidArgument("prompt template: missing the {question} placeholder");
  }
  return Status::Ok();
}

}  // namespace

std::string StuffContext(const std::vector<std::string>& passages) {
  std::string out;
  for (size_t i = 0; i < passages.size(); ++i) {
    if (i > 0) out += kDocumentSeparator;
    out += passages[i];
  }
  return out;
}

Status ValidateTemplate(std::string_view tmpl) {
  return Walk(
      tmpl, [](std::string_view) {}, [](std::string_view) {});
}

StatusOr<std::string> RenderPrompt(std::string_view tmpl, std::string_view question,
                                   const std::vector<std::string>& passages) {
  const std::string context = StuffContext(passages);
  std::string out;
  RETURN_IF_ERROR(Walk(
      tmpl, [&](std::string_view lit) { out += lit; },
      [&](std::string_view field) {
        if (field == "context") {
          out += context;
        } else {
          out += question;
        }
      }));
  return out;
}

}  // namespace sagebox::rag
