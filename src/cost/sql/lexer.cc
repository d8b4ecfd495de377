#include "cost/sql/lexer.h"

#include <cctype>

namespace sagebox::sql {

Status SqlError(const Source& src, int line, int col, const std::string& message) {
  std::string msg =
      src.name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
  // The offending line, then a caret under the column (tabs kept so it lines up).
  std::string_view t = src.text;
  size_t start = 0;
  for (int l = 1; l < line && start < t.size(); ++l) {
    size_t nl = t.find('\n', start);
    if (nl == std::string_view::npos) {
      start = t.size();
      break;
    }
    start = nl + 1;
  }
  size_t end = t.find('\n', start);
  if (end == std::string_view::npos) end = t.size();
  std::string_view text = t.substr(start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.size() <= 200) {
    std::string caret;
    for (size_t i = 0; i + 1 < static_cast<size_t>(col) && i < text.size(); ++i) {
      caret.push_back(text[i] == '\t' ? '\t' : ' ');
    }
    msg += "\n  " + std::string(text) + "\n  " + caret + "^";
  }
  return BadInput(msg);
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "the end of the query";
    case Tok::kString:
      return "string '" + t.text + "'";
    case Tok::kQuotedIdent:
      return "\"" + t.text + "\"";
    case Tok::kPlaceholder:
      return "placeholder " + t.raw;
    default:
      return "'" + t.text + "'";
  }
}

StatusOr<std::vector<Token>> Lex(const Source& src) {
  std::string_view s = src.text;
  std::vector<Token> out;
  size_t i = 0;
  int line = 1, col = 1;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
  };
  auto is_ident_start = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  auto is_ident = [&](char c) {
    return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$' || c == '@';
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      advance(1);
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') advance(1);
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int l0 = line, c0 = col;
      size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return SqlError(src, l0, c0, "unterminated comment (expected */)");
      }
      advance(end + 2 - i);
      continue;
    }
    Token t;
    t.line = line;
    t.col = col;
    if ((c == '{' && i + 1 < s.size() && s[i + 1] == '$') ||
        (c == '$' && i + 1 < s.size() && s[i + 1] == '{')) {
      size_t end = s.find('}', i + 2);
      if (end == std::string_view::npos || end - i > 64) {
        return SqlError(src, line, col, "unterminated placeholder (expected {$table_name})");
      }
      t.kind = Tok::kPlaceholder;
      t.text = std::string(s.substr(i + 2, end - i - 2));
      t.raw = std::string(s.substr(i, end + 1 - i));
      advance(end + 1 - i);
      out.push_back(std::move(t));
      continue;
    }
    if (c == '\'' || c == '"') {
      t.kind = c == '\'' ? Tok::kString : Tok::kQuotedIdent;
      advance(1);
      for (;;) {
        if (i >= s.size()) {
          return SqlError(src, t.line, t.col,
                          c == '\'' ? "unterminated string (expected a closing ')"
                                    : "unterminated quoted name (expected a closing \")");
        }
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            t.text.push_back(c);
            advance(2);
            continue;
          }
          advance(1);
          break;
        }
        t.text.push_back(s[i]);
        advance(1);
      }
      out.push_back(std::move(t));
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t b = i;
      auto digits = [&] {
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) advance(1);
      };
      digits();
      if (i < s.size() && s[i] == '.') {
        advance(1);
        digits();
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
          advance(j - i);
          digits();
        }
      }
      if (i < s.size() && is_ident_start(s[i])) {
        return SqlError(src, line, col,
                        "unexpected character '" + std::string(1, s[i]) + "' after a number");
      }
      t.kind = Tok::kNumber;
      t.text = std::string(s.substr(b, i - b));
      out.push_back(std::move(t));
      continue;
    }
    if (is_ident_start(c)) {
      size_t b = i;
      while (i < s.size() && is_ident(s[i])) advance(1);
      t.kind = Tok::kIdent;
      t.text = std::string(s.substr(b, i - b));
      out.push_back(std::move(t));
      continue;
    }
    static constexpr std::string_view kTwo[] = {"<>", "!=", "<=", ">=", "||"};
    bool two = false;
    for (auto op : kTwo) {
      if (s.substr(i, 2) == op) {
        t.text = std::string(op);
        two = true;
        break;
      }
    }
    if (!two) {
      static constexpr std::string_view kOne = "(),.*+-/%=<>;";
      if (kOne.find(c) == std::string_view::npos) {
        std::string shown = std::isprint(static_cast<unsigned char>(c))
                                ? std::string(1, c)
                                : "\\x" + std::to_string(static_cast<unsigned char>(c));
        return SqlError(src, line, col, "unexpected character '" + shown + "'");
      }
      t.text = std::string(1, c);
    }
    t.kind = Tok::kSymbol;
    advance(t.text.size());
    out.push_back(std::move(t));
  }
  Token end;
  end.kind = Tok::kEnd;
  end.line = line;
  end.col = col;
  out.push_back(std::move(end));
  return out;
}

}  // namespace sagebox::sql
