#include "cost/sql/parser.h"

#include <charconv>

#include "core/strings.h"

namespace sagebox::sql {

namespace {

// Words that end an expression or a select item; never taken as an alias.
constexpr std::string_view kReserved[] = {
    "select", "from",    "where", "group",  "by",     "order",     "having", "limit",
    "and",    "or",      "not",   "as",     "on",     "join",      "union",  "in",
    "like",   "between", "is",    "case",   "when",   "then",      "else",   "end",
    "asc",    "desc",    "nulls", "offset", "window", "intersect", "except", "escape",
    "inner",  "left",    "right", "full",   "cross",  "using",     "fetch",  "with"};

bool IsReserved(std::string_view w) {
  for (auto r : kReserved) {
    if (EqualsIgnoreCase(r, w)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(const Source& src, std::vector<Token> toks) : src_(src), t_(std::move(toks)) {}

  StatusOr<Select> ParseSelect() {
    Select s;
    if (Is("with")) return Unsupported(Peek(), "WITH (common table expressions)");
    if (!Is("select")) return Expected("SELECT");
    Next();
    if (Is("distinct")) return Unsupported(Peek(), "SELECT DISTINCT (use GROUP BY)");
    if (Is("all")) Next();
    for (;;) {
      SelectItem item;
      item.line = Peek().line;
      item.col = Peek().col;
      if (IsSym("*")) {
        Next();
      } else {
        ASSIGN_OR_RETURN(item.expr, ParseExpr());
        if (Is("as")) {
          Next();
          if (Peek().kind != Tok::kIdent && Peek().kind != Tok::kQuotedIdent) {
            return Expected("a column alias");
          }
          item.alias = AliasText(Next());
        } else if (Peek().kind == Tok::kQuotedIdent ||
                   (Peek().kind == Tok::kIdent && !IsReserved(Peek().text))) {
          item.alias = AliasText(Next());
        }
      }
      s.items.push_back(std::move(item));
      if (!IsSym(",")) break;
      Next();
    }
    if (!Is("from")) return Expected("FROM or ',' after a select item");
    Next();
    const Token& tt = Peek();
    s.table_line = tt.line;
    s.table_col = tt.col;
    if (tt.kind == Tok::kPlaceholder) {
      s.table = tt.text;
      s.table_is_placeholder = true;
      Next();
    } else if (tt.kind == Tok::kIdent || tt.kind == Tok::kQuotedIdent) {
      if (tt.kind == Tok::kIdent && IsReserved(tt.text)) return Expected("a table name");
      s.table = Next().text;
      // db.table or catalog.db.table: the last part names the table.
      while (IsSym(".")) {
        Next();
        if (Peek().kind != Tok::kIdent && Peek().kind != Tok::kQuotedIdent) {
          return Expected("a table name after '.'");
        }
        s.table_line = Peek().line;
        s.table_col = Peek().col;
        s.table = Next().text;
      }
    } else if (IsSym("(")) {
      return Unsupported(tt, "a subquery in FROM");
    } else {
      return Expected("a table name");
    }
    if (Peek().kind == Tok::kIdent && !IsReserved(Peek().text)) Next();  // table alias
    if (Is("as")) {
      Next();
      if (Peek().kind != Tok::kIdent) return Expected("a table alias");
      Next();
    }
    if (IsSym(",") || Is("join") || Is("inner") || Is("left") || Is("right") || Is("full") ||
        Is("cross")) {
      return Unsupported(Peek(), "joins (one table only)");
    }
    if (Is("where")) {
      Next();
      ASSIGN_OR_RETURN(s.where, ParseExpr());
    }
    if (Is("group")) {
      Next();
      if (!Is("by")) return Expected("BY after GROUP");
      Next();
      for (;;) {
        ASSIGN_OR_RETURN(auto e, ParseExpr());
        s.group_by.push_back(std::move(e));
        if (!IsSym(",")) break;
        Next();
      }
    }
    if (Is("having")) {
      Next();
      ASSIGN_OR_RETURN(s.having, ParseExpr());
    }
    if (Is("order")) {
      Next();
      if (!Is("by")) return Expected("BY after ORDER");
      Next();
      for (;;) {
        OrderItem o;
        ASSIGN_OR_RETURN(o.expr, ParseExpr());
        if (Is("asc")) {
          Next();
        } else if (Is("desc")) {
          Next();
          o.desc = true;
        }
        if (Is("nulls")) {
          Next();
          if (Is("first")) {
            o.nulls_first = true;
          } else if (Is("last")) {
            o.nulls_first = false;
          } else {
            return Expected("FIRST or LAST after NULLS");
          }
          Next();
        }
        s.order_by.push_back(std::move(o));
        if (!IsSym(",")) break;
        Next();
      }
    }
    if (Is("limit")) {
      Next();
      if (Is("all")) {
        Next();
      } else {
        const Token& n = Peek();
        int64_t v = 0;
        auto [p, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
        if (n.kind != Tok::kNumber || ec != std::errc() || p != n.text.data() + n.text.size()) {
          return Expected("a whole number after LIMIT");
        }
        s.limit = v;
        Next();
      }
    }
    if (Is("offset")) return Unsupported(Peek(), "OFFSET");
    if (Is("union") || Is("intersect") || Is("except")) {
      return Unsupported(Peek(), "set operations (" + Peek().text + ")");
    }
    while (IsSym(";")) Next();
    if (Peek().kind != Tok::kEnd) return Expected("the end of the query");
    return s;
  }

 private:
  static std::string AliasText(const Token& t) {
    return t.kind == Tok::kQuotedIdent ? t.text : AsciiLower(t.text);
  }
  const Token& Peek(size_t k = 0) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  const Token& Next() {
    const Token& t = t_[p_];
    if (p_ + 1 < t_.size()) ++p_;
    return t;
  }
  bool Is(std::string_view word, size_t k = 0) const {
    const Token& t = Peek(k);
    return t.kind == Tok::kIdent && EqualsIgnoreCase(t.text, word);
  }
  bool IsSym(std::string_view sym) const {
    return Peek().kind == Tok::kSymbol && Peek().text == sym;
  }
  Status Expected(const std::string& what) const {
    return SqlError(src_, Peek().line, Peek().col,
                    "expected " + what + ", found " + Describe(Peek()));
  }
  Status Unsupported(const Token& t, const std::string& what) const {
    return SqlError(src_, t.line, t.col,
                    "not supported: " + what +
                        " (cost sql runs single-table SELECT ... WHERE ... GROUP BY ... ORDER BY "
                        "... LIMIT)");
  }
  Status Expect(std::string_view sym) {
    if (!IsSym(sym)) return Expected("'" + std::string(sym) + "'");
    Next();
    return Status::Ok();
  }
  ExprPtr Node(ExprKind k, const Token& at) const {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  ExprPtr Binary(std::string op, const Token& at, ExprPtr a, ExprPtr b) const {
    auto e = Node(ExprKind::kBinary, at);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  StatusOr<ExprPtr> ParseExpr() {
    if (++depth_ > 200)
      return SqlError(src_, Peek().line, Peek().col, "expression nested too deeply");
    auto r = ParseOr();
    --depth_;
    return r;
  }

  StatusOr<ExprPtr> ParseOr() {
    ASSIGN_OR_RETURN(auto a, ParseAnd());
    while (Is("or")) {
      const Token& at = Next();
      ASSIGN_OR_RETURN(auto b, ParseAnd());
      a = Binary("or", at, std::move(a), std::move(b));
    }
    return a;
  }
  StatusOr<ExprPtr> ParseAnd() {
    ASSIGN_OR_RETURN(auto a, ParseNot());
    while (Is("and")) {
      const Token& at = Next();
      ASSIGN_OR_RETURN(auto b, ParseNot());
      a = Binary("and", at, std::move(a), std::move(b));
    }
    return a;
  }
  StatusOr<ExprPtr> ParseNot() {
    if (Is("not")) {
      const Token& at = Next();
      if (++depth_ > 200) return SqlError(src_, at.line, at.col, "expression nested too deeply");
      ASSIGN_OR_RETURN(auto a, ParseNot());
      --depth_;
      auto e = Node(ExprKind::kUnary, at);
      e->name = "not";
      e->args.push_back(std::move(a));
      return e;
    }
    return ParsePredicate();
  }
  StatusOr<ExprPtr> ParsePredicate() {
    ASSIGN_OR_RETURN(auto a, ParseAdditive());
    for (;;) {
      const Token& at = Peek();
      if (at.kind == Tok::kSymbol &&
          (at.text == "=" || at.text == "<>" || at.text == "!=" || at.text == "<" ||
           at.text == "<=" || at.text == ">" || at.text == ">=")) {
        std::string op = at.text == "!=" ? "<>" : at.text;
        Next();
        if (Is("any") || Is("all") || Is("some"))
          return Unsupported(Peek(), "quantified comparison");
        ASSIGN_OR_RETURN(auto b, ParseAdditive());
        a = Binary(op, at, std::move(a), std::move(b));
        continue;
      }
      bool neg = false;
      if (Is("not") && (Is("in", 1) || Is("like", 1) || Is("between", 1))) {
        Next();
        neg = true;
      }
      if (Is("in")) {
        const Token& in = Next();
        RETURN_IF_ERROR(Expect("("));
        if (Is("select")) return Unsupported(Peek(), "subqueries");
        auto e = Node(ExprKind::kIn, in);
        e->negated = neg;
        e->args.push_back(std::move(a));
        for (;;) {
          ASSIGN_OR_RETURN(auto v, ParseExpr());
          e->args.push_back(std::move(v));
          if (!IsSym(",")) break;
          Next();
        }
        RETURN_IF_ERROR(Expect(")"));
        a = std::move(e);
        continue;
      }
      if (Is("like")) {
        const Token& lk = Next();
        auto e = Node(ExprKind::kLike, lk);
        e->negated = neg;
        e->args.push_back(std::move(a));
        ASSIGN_OR_RETURN(auto p, ParseAdditive());
        e->args.push_back(std::move(p));
        if (Is("escape")) {
          Next();
          ASSIGN_OR_RETURN(auto esc, ParseAdditive());
          e->args.push_back(std::move(esc));
        }
        a = std::move(e);
        continue;
      }
      if (Is("between")) {
        const Token& bt = Next();
        auto e = Node(ExprKind::kBetween, bt);
        e->negated = neg;
        e->args.push_back(std::move(a));
        ASSIGN_OR_RETURN(auto lo, ParseAdditive());
        if (!Is("and")) return Expected("AND in BETWEEN ... AND ...");
        Next();
        ASSIGN_OR_RETURN(auto hi, ParseAdditive());
        e->args.push_back(std::move(lo));
        e->args.push_back(std::move(hi));
        a = std::move(e);
        continue;
      }
      if (neg) return Expected("IN, LIKE or BETWEEN after NOT");
      if (Is("is")) {
        const Token& is = Next();
        auto e = Node(ExprKind::kIsNull, is);
        if (Is("not")) {
          Next();
          e->negated = true;
        }
        if (Is("distinct")) return Unsupported(Peek(), "IS DISTINCT FROM");
        if (!Is("null")) return Expected("NULL after IS");
        Next();
        e->args.push_back(std::move(a));
        a = std::move(e);
        continue;
      }
      return a;
    }
  }
  StatusOr<ExprPtr> ParseAdditive() {
    ASSIGN_OR_RETURN(auto a, ParseMul());
    while (IsSym("+") || IsSym("-") || IsSym("||")) {
      const Token& at = Next();
      ASSIGN_OR_RETURN(auto b, ParseMul());
      a = Binary(at.text, at, std::move(a), std::move(b));
    }
    return a;
  }
  StatusOr<ExprPtr> ParseMul() {
    ASSIGN_OR_RETURN(auto a, ParseUnary());
    while (IsSym("*") || IsSym("/") || IsSym("%")) {
      const Token& at = Next();
      ASSIGN_OR_RETURN(auto b, ParseUnary());
      a = Binary(at.text, at, std::move(a), std::move(b));
    }
    return a;
  }
  StatusOr<ExprPtr> ParseUnary() {
    if (IsSym("-") || IsSym("+")) {
      const Token& at = Next();
      if (++depth_ > 200) return SqlError(src_, at.line, at.col, "expression nested too deeply");
      ASSIGN_OR_RETURN(auto a, ParseUnary());
      --depth_;
      if (at.text == "+") return a;
      if (a->kind == ExprKind::kNumber && a->text.front() != '-') {
        a->text = "-" + a->text;
        a->line = at.line;
        a->col = at.col;
        return a;
      }
      if (a->kind == ExprKind::kInterval) {
        a->negated = !a->negated;
        return a;
      }
      auto e = Node(ExprKind::kUnary, at);
      e->name = "-";
      e->args.push_back(std::move(a));
      return e;
    }
    return ParsePrimary();
  }

  StatusOr<ExprPtr> ParseType(Expr* e) {
    const Token& tt = Peek();
    if (tt.kind != Tok::kIdent) return Expected("a type name");
    e->type_name = AsciiLower(Next().text);
    if (e->type_name == "double" && Is("precision")) Next();
    if (IsSym("(")) {
      Next();
      auto num = [&](int* out) -> Status {
        const Token& n = Peek();
        auto [p, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), *out);
        if (n.kind != Tok::kNumber || ec != std::errc() || p != n.text.data() + n.text.size()) {
          return Expected("a whole number");
        }
        Next();
        return Status::Ok();
      };
      RETURN_IF_ERROR(num(&e->precision));
      if (IsSym(",")) {
        Next();
        RETURN_IF_ERROR(num(&e->scale));
      }
      RETURN_IF_ERROR(Expect(")"));
    }
    return ExprPtr();
  }

  StatusOr<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kNumber: {
        auto e = Node(ExprKind::kNumber, t);
        e->text = Next().text;
        return e;
      }
      case Tok::kString: {
        auto e = Node(ExprKind::kString, t);
        e->text = Next().text;
        return e;
      }
      case Tok::kPlaceholder:
        return SqlError(src_, t.line, t.col,
                        "placeholder " + t.raw +
                            " of the CUR Query Library: replace it with a condition, e.g. "
                            "line_item_usage_start_date >= DATE '2024-01-01'");
      case Tok::kEnd:
        return Expected("an expression");
      case Tok::kSymbol:
        if (t.text == "(") {
          Next();
          if (Is("select")) return Unsupported(Peek(), "subqueries");
          ASSIGN_OR_RETURN(auto e, ParseExpr());
          if (IsSym(",")) return Unsupported(Peek(), "row values");
          RETURN_IF_ERROR(Expect(")"));
          return e;
        }
        return Expected("an expression");
      case Tok::kQuotedIdent:
      case Tok::kIdent:
        break;
    }
    const bool quoted = t.kind == Tok::kQuotedIdent;
    std::string word = quoted ? t.text : AsciiLower(t.text);
    // A name followed by '(' is a function ("date_trunc"(...) is allowed too).
    if (Peek(1).kind == Tok::kSymbol && Peek(1).text == "(") {
      std::string fn = AsciiLower(t.text);
      if (!quoted && (fn == "cast" || fn == "try_cast")) {
        Next();
        Next();
        auto e = Node(ExprKind::kCast, t);
        e->try_cast = fn == "try_cast";
        ASSIGN_OR_RETURN(auto v, ParseExpr());
        e->args.push_back(std::move(v));
        if (!Is("as")) return Expected("AS in CAST(... AS type)");
        Next();
        RETURN_IF_ERROR(ParseType(e.get()).status());
        RETURN_IF_ERROR(Expect(")"));
        return e;
      }
      Next();
      Next();
      auto e = Node(ExprKind::kFunc, t);
      e->name = fn;
      if (IsSym("*")) {
        Next();
        e->star = true;
      } else if (!IsSym(")")) {
        if (Is("distinct")) {
          Next();
          e->distinct = true;
        }
        for (;;) {
          ASSIGN_OR_RETURN(auto a, ParseExpr());
          e->args.push_back(std::move(a));
          if (!IsSym(",")) break;
          Next();
        }
        if (Is("order")) return Unsupported(Peek(), "ORDER BY inside a function call");
      }
      RETURN_IF_ERROR(Expect(")"));
      if (Is("over")) return Unsupported(Peek(), "window functions (OVER)");
      if (Is("filter")) return Unsupported(Peek(), "FILTER on aggregates");
      return e;
    }
    if (!quoted) {
      if (word == "null") {
        Next();
        return Node(ExprKind::kNull, t);
      }
      if (word == "true" || word == "false") {
        Next();
        auto e = Node(ExprKind::kBool, t);
        e->name = word;
        return e;
      }
      if ((word == "date" || word == "timestamp") && Peek(1).kind == Tok::kString) {
        Next();
        auto e = Node(word == "date" ? ExprKind::kDate : ExprKind::kTimestamp, t);
        e->text = Next().text;
        return e;
      }
      if (word == "interval") {
        Next();
        auto e = Node(ExprKind::kInterval, t);
        bool neg = false;
        if (IsSym("-")) {
          Next();
          neg = true;
        }
        if (Peek().kind != Tok::kString && Peek().kind != Tok::kNumber) {
          return Expected("a quoted number after INTERVAL, e.g. INTERVAL '3' MONTH");
        }
        e->text = Next().text;
        e->negated = neg;
        if (Peek().kind != Tok::kIdent) return Expected("an interval unit (DAY, MONTH, ...)");
        e->name = AsciiLower(Next().text);
        if (Is("to")) return Unsupported(Peek(), "interval ranges (... TO ...)");
        return e;
      }
      if (word == "case") {
        Next();
        auto e = Node(ExprKind::kCase, t);
        if (!Is("when")) {
          ASSIGN_OR_RETURN(e->operand, ParseExpr());
        }
        while (Is("when")) {
          Next();
          ASSIGN_OR_RETURN(auto w, ParseExpr());
          if (!Is("then")) return Expected("THEN");
          Next();
          ASSIGN_OR_RETURN(auto th, ParseExpr());
          e->args.push_back(std::move(w));
          e->args.push_back(std::move(th));
        }
        if (e->args.empty()) return Expected("WHEN");
        if (Is("else")) {
          Next();
          ASSIGN_OR_RETURN(e->else_expr, ParseExpr());
        }
        if (!Is("end")) return Expected("END or WHEN to continue CASE");
        Next();
        return e;
      }
      if (word == "current_date" || word == "current_timestamp" || word == "localtimestamp" ||
          word == "now") {
        Next();
        auto e = Node(ExprKind::kFunc, t);
        e->name = word;
        return e;
      }
      if (word == "exists") return Unsupported(t, "subqueries");
      if (IsReserved(word)) return Expected("an expression");
    }
    Next();
    auto e = Node(ExprKind::kColumn, t);
    e->name = word;
    if (IsSym(".")) {
      // t.col: a table-qualified column; the table is the only one.
      Next();
      if (Peek().kind != Tok::kIdent && Peek().kind != Tok::kQuotedIdent) {
        return Expected("a column name after '.'");
      }
      const Token& c = Next();
      e->name = c.kind == Tok::kQuotedIdent ? c.text : AsciiLower(c.text);
      e->line = c.line;
      e->col = c.col;
    }
    return e;
  }

  const Source& src_;
  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string ExprKey(const Expr& e) {
  std::string s;
  switch (e.kind) {
    case ExprKind::kColumn:
      return e.name;
    case ExprKind::kString:
      return "'" + e.text + "'";
    case ExprKind::kNumber:
      return e.text;
    case ExprKind::kBool:
      return e.name;
    case ExprKind::kNull:
      return "null";
    case ExprKind::kDate:
      return "date '" + e.text + "'";
    case ExprKind::kTimestamp:
      return "timestamp '" + e.text + "'";
    case ExprKind::kInterval:
      return std::string(e.negated ? "-" : "") + "interval '" + e.text + "' " + e.name;
    case ExprKind::kUnary:
      return "(" + e.name + " " + ExprKey(*e.args[0]) + ")";
    case ExprKind::kBinary:
      return "(" + ExprKey(*e.args[0]) + " " + e.name + " " + ExprKey(*e.args[1]) + ")";
    case ExprKind::kFunc:
      s = e.name + "(" + (e.distinct ? "distinct " : "") + (e.star ? "*" : "");
      for (size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + ExprKey(*e.args[i]);
      return s + ")";
    case ExprKind::kCast:
      s = std::string(e.try_cast ? "try_cast(" : "cast(") + ExprKey(*e.args[0]) + " as " +
          e.type_name;
      if (e.precision >= 0) {
        s += "(" + std::to_string(e.precision);
        if (e.scale >= 0) s += "," + std::to_string(e.scale);
        s += ")";
      }
      return s + ")";
    case ExprKind::kCase:
      s = "case";
      if (e.operand) s += " " + ExprKey(*e.operand);
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        s += " when " + ExprKey(*e.args[i]) + " then " + ExprKey(*e.args[i + 1]);
      }
      if (e.else_expr) s += " else " + ExprKey(*e.else_expr);
      return s + " end";
    case ExprKind::kIn:
      s = "(" + ExprKey(*e.args[0]) + (e.negated ? " not in (" : " in (");
      for (size_t i = 1; i < e.args.size(); ++i) s += (i > 1 ? ", " : "") + ExprKey(*e.args[i]);
      return s + "))";
    case ExprKind::kLike:
      s = "(" + ExprKey(*e.args[0]) + (e.negated ? " not like " : " like ") + ExprKey(*e.args[1]);
      if (e.args.size() > 2) s += " escape " + ExprKey(*e.args[2]);
      return s + ")";
    case ExprKind::kBetween:
      return "(" + ExprKey(*e.args[0]) + (e.negated ? " not between " : " between ") +
             ExprKey(*e.args[1]) + " and " + ExprKey(*e.args[2]) + ")";
    case ExprKind::kIsNull:
      return "(" + ExprKey(*e.args[0]) + (e.negated ? " is not null)" : " is null)");
  }
  return s;
}

StatusOr<Select> Parse(const Source& src) {
  ASSIGN_OR_RETURN(auto toks, Lex(src));
  // Operator chains nest one level per operator; a cap on the length keeps
  // every recursive walk of the tree (binding, evaluation) shallow.
  constexpr size_t kMaxTokens = 4000;
  if (toks.size() > kMaxTokens) {
    return SqlError(src, toks[kMaxTokens].line, toks[kMaxTokens].col,
                    "query too long (more than 4000 tokens)");
  }
  Parser p(src, std::move(toks));
  return p.ParseSelect();
}

}  // namespace sagebox::sql
