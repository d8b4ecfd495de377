#include "cost/sql/engine.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <unordered_map>

#include "core/strings.h"
#include "cost/billing_table.h"
#include "cost/sql/functions.h"
#include "cost/sql/parser.h"

namespace sagebox::sql {

namespace col = cost::col;

namespace {

// ---------------------------------------------------------------------------
// Catalog: Athena CUR 1.0 names -> store columns.

enum class Src { kString, kTime, kDecimal, kYear, kMonth, kBillStart, kBillEnd, kTag };

struct CatalogEntry {
  std::string_view name;
  std::string_view store;
  Src src;
  bool late;  // added after the first store format; old segments lack it
};

// In the order SELECT * shows them (Athena's CUR table order, roughly).
constexpr CatalogEntry kCatalog[] = {
    {"bill_payer_account_id", col::kPayer, Src::kString, false},
    {"bill_billing_period_start_date", "", Src::kBillStart, false},
    {"bill_billing_period_end_date", "", Src::kBillEnd, false},
    {"line_item_usage_account_id", col::kAccount, Src::kString, false},
    {"line_item_line_item_type", col::kLineItemType, Src::kString, false},
    {"line_item_usage_start_date", col::kUsageStart, Src::kTime, false},
    {"line_item_usage_end_date", col::kUsageEnd, Src::kTime, false},
    {"line_item_product_code", col::kService, Src::kString, false},
    {"line_item_usage_type", col::kUsageType, Src::kString, false},
    {"line_item_operation", col::kOperation, Src::kString, false},
    {"line_item_availability_zone", col::kAz, Src::kString, false},
    {"line_item_resource_id", col::kResourceId, Src::kString, false},
    {"line_item_usage_amount", col::kUsageAmount, Src::kDecimal, false},
    {"line_item_currency_code", col::kCurrency, Src::kString, false},
    {"line_item_unblended_rate", col::kUnblendedRate, Src::kString, true},
    {"line_item_unblended_cost", col::kUnblended, Src::kDecimal, false},
    {"line_item_blended_rate", col::kBlendedRate, Src::kString, true},
    {"line_item_blended_cost", col::kBlended, Src::kDecimal, false},
    {"line_item_line_item_description", col::kDescription, Src::kString, true},
    {"line_item_net_unblended_cost", col::kNetUnblended, Src::kDecimal, false},
    {"product_product_name", col::kProductName, Src::kString, true},
    {"product_region", col::kRegion, Src::kString, false},
    {"pricing_term", col::kPricingTerm, Src::kString, false},
    {"pricing_public_on_demand_cost", col::kPublicOnDemand, Src::kDecimal, false},
    {"reservation_reservation_a_r_n", col::kRiArn, Src::kString, false},
    {"savings_plan_savings_plan_a_r_n", col::kSpArn, Src::kString, false},
    {"savings_plan_savings_plan_effective_cost", col::kSpEffective, Src::kDecimal, false},
    {"savings_plan_savings_plan_rate", col::kSpRate, Src::kDecimal, false},
    {"savings_plan_total_commitment_to_date", col::kSpTotalCommitment, Src::kDecimal, false},
    {"savings_plan_used_commitment", col::kSpUsedCommitment, Src::kDecimal, false},
    {"year", "", Src::kYear, false},
    {"month", "", Src::kMonth, false},
};

SqlType TypeOfSrc(Src s) {
  switch (s) {
    case Src::kTime:
    case Src::kBillStart:
    case Src::kBillEnd:
      return {Kind::kTimestamp};
    case Src::kDecimal:
      return {Kind::kDecimal, 38, 10};
    default:
      return {Kind::kVarchar};
  }
}

// Tag keys compared the way Athena names tag columns: "user:CostCenter",
// "cost-center" and "resource_tags_user_cost_center" all become
// "cost_center".
std::string CanonicalTag(std::string_view k) {
  std::string out;
  for (size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0 &&
        ((k[i - 1] >= 'a' && k[i - 1] <= 'z') || (k[i - 1] >= '0' && k[i - 1] <= '9'))) {
      out.push_back('_');
    }
    bool alnum = (c >= 'a' && c <= 'z') || upper || (c >= '0' && c <= '9');
    out.push_back(alnum ? AsciiLowerChar(c) : '_');
  }
  return out;
}

std::string TagColumnName(const std::string& canonical) {
  if (canonical.rfind("aws_", 0) == 0) return "resource_tags_" + canonical;
  return "resource_tags_user_" + canonical;
}

// Canonical key of an Athena tag column name, or "" if it is not one.
std::string TagKeyOfColumn(std::string_view name) {
  if (name.rfind("resource_tags_", 0) != 0) return "";
  name.remove_prefix(14);
  if (name.rfind("user_", 0) == 0) name.remove_prefix(5);
  return CanonicalTag(name);
}

// ---------------------------------------------------------------------------
// Segments and the columns a query reads.

struct ScanCol {
  std::string name;  // Athena name
  Src src = Src::kString;
  std::string store;                    // store column (not for partitions / tags)
  std::vector<std::string> tag_stores;  // tags: candidate store columns
  bool late = false;
  SqlType type;
};

struct OpenSeg {
  const store::SegmentInfo* info;
  std::shared_ptr<store::Segment> seg;
};

}  // namespace

// Per-segment state of one scan column (also used by functions.cc via
// EvalCtx, hence outside the anonymous namespace).
struct SegCol {
  int idx = -1;
  bool constant = false;
  Value value;  // when constant
  Src src = Src::kString;
  const std::vector<std::string>* dict = nullptr;
  std::vector<uint32_t> codes;
  std::vector<int64_t> ints;
  std::vector<int128> decs;
  bool loaded = false;
};

namespace {

// ---------------------------------------------------------------------------
// Bound expressions.

enum class Op {
  kConst,
  kCol,
  kKey,
  kAgg,
  kNeg,
  kNot,
  kAnd,
  kOr,
  kArith,
  kConcat,
  kCmp,
  kIn,
  kLike,
  kBetween,
  kIsNull,
  kCase,
  kCast,
  kFunc
};

enum class Arith { kBig, kDec, kDbl, kTimeInterval, kDateInterval };
enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

struct BExpr;
using BPtr = std::unique_ptr<BExpr>;

struct BExpr {
  Op op = Op::kConst;
  SqlType type;
  int line = 1, col = 1;
  Value value;
  int index = -1;
  char aop = '+';
  Arith amode = Arith::kBig;
  Cmp cmp = Cmp::kEq;
  Fn fn = Fn::kNone;
  std::vector<BPtr> kids;
  bool negated = false;
  bool try_cast = false;
  bool has_operand = false, has_else = false;
  std::vector<LikeToken> like;  // precompiled constant pattern
  bool like_const = false;
  char escape = 0;
  bool has_escape = false;
  // Dependencies: -2 none, -1 several, else the one scan column.
  int dep = -2;
  bool worth_memo = false;  // contains a call, cast, CASE, LIKE or IN
  int memo = -1;            // slot in the per-query memo tables
};

int MergeDep(int a, int b) {
  if (a == -2) return b;
  if (b == -2) return a;
  return a == b ? a : -1;
}

struct StrMemo {
  std::vector<Value> vals;
  std::vector<uint8_t> done;
};

struct AggSpec {
  std::string fn;  // sum count min max avg
  bool distinct = false;
  bool star = false;
  // SUM/AVG(CAST(decimal AS DOUBLE)): the decimals are summed exactly and
  // the total converted once (arg is then the decimal expression, of scale
  // exact_scale), so the result is the CUR values' sum correctly rounded.
  bool exact_double = false;
  int exact_scale = 0;
  BPtr arg;
  SqlType result;
  std::string key;
};

struct KeySpec {
  BPtr expr;
  std::string key;  // ExprKey, for matching SELECT items
};

struct OrderSpec {
  int out = -1;     // output column, or
  int hidden = -1;  // hidden expression
  bool desc = false;
  bool nulls_first = false;
};

}  // namespace

struct EvalCtx {
  const Source* src = nullptr;
  std::vector<SegCol>* cols = nullptr;
  size_t row = 0;
  int dict_col = -1;
  uint32_t dict_code = 0;
  const std::vector<Value>* keys = nullptr;
  const std::vector<Value>* aggs = nullptr;
  std::vector<StrMemo>* str_memo = nullptr;
  std::vector<std::unordered_map<int64_t, Value>>* int_memo = nullptr;
};

namespace {

Status ErrAt(const EvalCtx& c, const BExpr& e, const std::string& msg) {
  return SqlError(*c.src, e.line, e.col, msg);
}

// ---------------------------------------------------------------------------
// Evaluation.

Status Eval(const BExpr& e, EvalCtx& c, Value* out);

Status Coerce(Value* v, const SqlType& t) {
  if (v->null() || t.kind == Kind::kNull) return Status::Ok();
  if (t.kind == Kind::kDecimal) {
    int128 x = v->kind == Kind::kBigint ? static_cast<int128>(v->i) : v->x;
    int from = v->kind == Kind::kBigint ? 0 : v->scale;
    if (v->kind != Kind::kBigint && v->kind != Kind::kDecimal) return Status::Ok();
    int128 r = 0;
    if (!Rescale(x, from, t.scale, &r)) return BadInput("decimal overflow");
    *v = Value::Dec(r, t.scale);
  } else if (t.kind == Kind::kDouble) {
    if (v->kind == Kind::kBigint) *v = Value::Double(static_cast<double>(v->i));
    if (v->kind == Kind::kDecimal) {
      *v = Value::Double(static_cast<double>(v->x) / static_cast<double>(Pow10(v->scale)));
    }
  } else if (t.kind == Kind::kTimestamp && v->kind == Kind::kDate) {
    *v = Value::Timestamp(v->i * 86400);
  }
  return Status::Ok();
}

bool CmpResult(Cmp op, int r) {
  switch (op) {
    case Cmp::kEq:
      return r == 0;
    case Cmp::kNe:
      return r != 0;
    case Cmp::kLt:
      return r < 0;
    case Cmp::kLe:
      return r <= 0;
    case Cmp::kGt:
      return r > 0;
    case Cmp::kGe:
      return r >= 0;
  }
  return false;
}

Status EvalArith(const BExpr& e, EvalCtx& c, Value* out) {
  Value a, b;
  RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
  RETURN_IF_ERROR(Eval(*e.kids[1], c, &b));
  if (a.null() || b.null()) {
    *out = Value::Null();
    return Status::Ok();
  }
  switch (e.amode) {
    case Arith::kBig: {
      int64_t r = 0;
      bool of = false;
      switch (e.aop) {
        case '+':
          of = __builtin_add_overflow(a.i, b.i, &r);
          break;
        case '-':
          of = __builtin_sub_overflow(a.i, b.i, &r);
          break;
        case '*':
          of = __builtin_mul_overflow(a.i, b.i, &r);
          break;
        case '/':
        case '%':
          if (b.i == 0) return ErrAt(c, e, "division by zero");
          if (a.i == INT64_MIN && b.i == -1) {
            of = e.aop == '/';
            r = 0;
          } else {
            r = e.aop == '/' ? a.i / b.i : a.i % b.i;
          }
          break;
        default:
          break;
      }
      if (of) return ErrAt(c, e, "bigint overflow");
      *out = Value::Bigint(r);
      return Status::Ok();
    }
    case Arith::kDbl: {
      RETURN_IF_ERROR(Coerce(&a, {Kind::kDouble}));
      RETURN_IF_ERROR(Coerce(&b, {Kind::kDouble}));
      double r = 0;
      switch (e.aop) {
        case '+':
          r = a.d + b.d;
          break;
        case '-':
          r = a.d - b.d;
          break;
        case '*':
          r = a.d * b.d;
          break;
        case '/':
          r = a.d / b.d;
          break;
        case '%':
          r = std::fmod(a.d, b.d);
          break;
        default:
          break;
      }
      *out = Value::Double(r);
      return Status::Ok();
    }
    case Arith::kDec: {
      int sa = a.kind == Kind::kBigint ? 0 : a.scale, sb = b.kind == Kind::kBigint ? 0 : b.scale;
      int128 x = a.kind == Kind::kBigint ? static_cast<int128>(a.i) : a.x;
      int128 y = b.kind == Kind::kBigint ? static_cast<int128>(b.i) : b.x;
      const int s = e.type.scale;
      int128 r = 0;
      bool ok = true;
      if (e.aop == '+' || e.aop == '-' || e.aop == '%') {
        ok = Rescale(x, sa, std::max(sa, sb), &x) && Rescale(y, sb, std::max(sa, sb), &y);
        if (ok && e.aop == '+') ok = !__builtin_add_overflow(x, y, &r);
        if (ok && e.aop == '-') ok = !__builtin_sub_overflow(x, y, &r);
        if (ok && e.aop == '%') {
          if (y == 0) return ErrAt(c, e, "division by zero");
          r = x % y;
        }
        if (ok) ok = Rescale(r, std::max(sa, sb), s, &r);
      } else if (e.aop == '*') {
        ok = !__builtin_mul_overflow(x, y, &r) && Rescale(r, sa + sb, s, &r);
      } else {
        if (y == 0) return ErrAt(c, e, "division by zero");
        // x/10^sa / (y/10^sb) at scale s = x * 10^(s - sa + sb) / y, rounded half up.
        int shift = s - sa + sb;
        int128 num = 0;
        if (shift >= 0) {
          ok = Rescale(x, 0, shift, &num);
        } else {
          ok = Rescale(x, -shift, 0, &num);
        }
        if (ok) {
          int128 q = num / y, rem = num % y;
          int128 ar = rem < 0 ? -rem : rem, ay = y < 0 ? -y : y;
          if (ar * 2 >= ay) q += ((num < 0) != (y < 0)) ? -1 : 1;
          r = q;
        }
      }
      if (!ok || DigitCount(r) > 38) {
        return ErrAt(c, e, "decimal overflow in " + std::string(1, e.aop));
      }
      *out = Value::Dec(r, s);
      return Status::Ok();
    }
    case Arith::kTimeInterval:
    case Arith::kDateInterval: {
      const Value& t = a.kind == Kind::kInterval ? b : a;
      const Value& iv = a.kind == Kind::kInterval ? a : b;
      int64_t sign = e.aop == '-' ? -1 : 1;
      int64_t months = sign * iv.i, secs = sign * iv.j;
      if (e.amode == Arith::kDateInterval) {
        if (secs % 86400 != 0) {
          return ErrAt(c, e, "cannot add an interval of hours, minutes or seconds to a date");
        }
        int64_t d = AddMonths(t.i, months) + secs / 86400;
        *out = Value::Date(d);
      } else {
        int64_t day = t.i >= 0 ? t.i / 86400 : (t.i - 86399) / 86400;
        int64_t tod = t.i - day * 86400;
        *out = Value::Timestamp(AddMonths(day, months) * 86400 + tod + secs);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status EvalNoMemo(const BExpr& e, EvalCtx& c, Value* out) {
  switch (e.op) {
    case Op::kConst:
      *out = e.value;
      return Status::Ok();
    case Op::kCol: {
      SegCol& sc = (*c.cols)[static_cast<size_t>(e.index)];
      if (sc.constant) {
        *out = sc.value;
        return Status::Ok();
      }
      switch (sc.src) {
        case Src::kTime:
          *out = Value::Timestamp(sc.ints[c.row]);
          return Status::Ok();
        case Src::kDecimal:
          *out = Value::Dec(sc.decs[c.row], Decimal::kScale);
          return Status::Ok();
        default: {
          uint32_t code = c.dict_col == e.index ? c.dict_code : sc.codes[c.row];
          out->kind = Kind::kVarchar;
          out->s = (*sc.dict)[code];
          return Status::Ok();
        }
      }
    }
    case Op::kKey:
      *out = (*c.keys)[static_cast<size_t>(e.index)];
      return Status::Ok();
    case Op::kAgg:
      *out = (*c.aggs)[static_cast<size_t>(e.index)];
      return Status::Ok();
    case Op::kNeg: {
      RETURN_IF_ERROR(Eval(*e.kids[0], c, out));
      if (out->null()) return Status::Ok();
      if (out->kind == Kind::kBigint) {
        if (out->i == INT64_MIN) return ErrAt(c, e, "bigint overflow");
        out->i = -out->i;
      } else if (out->kind == Kind::kDouble) {
        out->d = -out->d;
      } else if (out->kind == Kind::kDecimal) {
        out->x = -out->x;
      } else if (out->kind == Kind::kInterval) {
        out->i = -out->i;
        out->j = -out->j;
      }
      return Status::Ok();
    }
    case Op::kNot:
      RETURN_IF_ERROR(Eval(*e.kids[0], c, out));
      if (!out->null()) out->i = !out->i;
      return Status::Ok();
    case Op::kAnd:
    case Op::kOr: {
      const bool is_and = e.op == Op::kAnd;
      Value a;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      if (!a.null() && (a.i != 0) != is_and) {
        *out = Value::Bool(!is_and);
        return Status::Ok();
      }
      Value b;
      RETURN_IF_ERROR(Eval(*e.kids[1], c, &b));
      if (!b.null() && (b.i != 0) != is_and) {
        *out = Value::Bool(!is_and);
        return Status::Ok();
      }
      *out = a.null() || b.null() ? Value::Null() : Value::Bool(is_and);
      return Status::Ok();
    }
    case Op::kArith:
      return EvalArith(e, c, out);
    case Op::kConcat: {
      Value a, b;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      RETURN_IF_ERROR(Eval(*e.kids[1], c, &b));
      if (a.null() || b.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      *out = Value::Varchar(a.s + b.s);
      return Status::Ok();
    }
    case Op::kCmp: {
      Value a, b;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      if (a.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      RETURN_IF_ERROR(Eval(*e.kids[1], c, &b));
      if (b.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      *out = Value::Bool(CmpResult(e.cmp, Compare(a, b)));
      return Status::Ok();
    }
    case Op::kIn: {
      Value a;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      if (a.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      bool any_null = false;
      Value v;
      for (size_t k = 1; k < e.kids.size(); ++k) {
        RETURN_IF_ERROR(Eval(*e.kids[k], c, &v));
        if (v.null()) {
          any_null = true;
          continue;
        }
        if (Compare(a, v) == 0) {
          *out = Value::Bool(!e.negated);
          return Status::Ok();
        }
      }
      *out = any_null ? Value::Null() : Value::Bool(e.negated);
      return Status::Ok();
    }
    case Op::kLike: {
      Value a;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      if (a.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      bool m = false;
      if (e.like_const) {
        m = LikeMatch(e.like, a.s);
      } else {
        Value p, esc;
        RETURN_IF_ERROR(Eval(*e.kids[1], c, &p));
        if (e.kids.size() > 2) RETURN_IF_ERROR(Eval(*e.kids[2], c, &esc));
        if (p.null() || (e.kids.size() > 2 && esc.null())) {
          *out = Value::Null();
          return Status::Ok();
        }
        std::vector<LikeToken> toks;
        std::string err;
        if (!CompileLike(p.s, e.kids.size() > 2, esc.s, &toks, &err)) return ErrAt(c, e, err);
        m = LikeMatch(toks, a.s);
      }
      *out = Value::Bool(m != e.negated);
      return Status::Ok();
    }
    case Op::kBetween: {
      Value a, lo, hi;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      RETURN_IF_ERROR(Eval(*e.kids[1], c, &lo));
      RETURN_IF_ERROR(Eval(*e.kids[2], c, &hi));
      if (a.null()) {
        *out = Value::Null();
        return Status::Ok();
      }
      // a >= lo AND a <= hi, with NULL logic.
      int ge = lo.null() ? -1 : (Compare(a, lo) >= 0);
      int le = hi.null() ? -1 : (Compare(a, hi) <= 0);
      Value r;
      if (ge == 0 || le == 0) {
        r = Value::Bool(false);
      } else if (ge == -1 || le == -1) {
        r = Value::Null();
      } else {
        r = Value::Bool(true);
      }
      if (e.negated && !r.null()) r.i = !r.i;
      *out = r;
      return Status::Ok();
    }
    case Op::kIsNull: {
      Value a;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &a));
      *out = Value::Bool(a.null() != e.negated);
      return Status::Ok();
    }
    case Op::kCase: {
      size_t k = 0;
      Value operand;
      if (e.has_operand) {
        RETURN_IF_ERROR(Eval(*e.kids[0], c, &operand));
        k = 1;
      }
      size_t pairs_end = e.kids.size() - (e.has_else ? 1 : 0);
      for (; k + 1 < pairs_end + 1 && k < pairs_end; k += 2) {
        Value w;
        RETURN_IF_ERROR(Eval(*e.kids[k], c, &w));
        bool hit = false;
        if (e.has_operand) {
          hit = !operand.null() && !w.null() && Compare(operand, w) == 0;
        } else {
          hit = !w.null() && w.i != 0;
        }
        if (hit) {
          RETURN_IF_ERROR(Eval(*e.kids[k + 1], c, out));
          return Coerce(out, e.type);
        }
      }
      if (e.has_else) {
        RETURN_IF_ERROR(Eval(*e.kids.back(), c, out));
        return Coerce(out, e.type);
      }
      *out = Value::Null();
      return Status::Ok();
    }
    case Op::kCast: {
      Value v;
      RETURN_IF_ERROR(Eval(*e.kids[0], c, &v));
      std::string err;
      if (!CastValue(v, e.type, out, &err)) {
        if (e.try_cast) {
          *out = Value::Null();
          return Status::Ok();
        }
        return ErrAt(c, e, err);
      }
      return Status::Ok();
    }
    case Op::kFunc: {
      std::vector<Value> args(e.kids.size());
      for (size_t k = 0; k < e.kids.size(); ++k) {
        // coalesce evaluates lazily.
        if (e.fn == Fn::kCoalesce && k > 0 && !args[k - 1].null()) {
          *out = args[k - 1];
          return Coerce(out, e.type);
        }
        RETURN_IF_ERROR(Eval(*e.kids[k], c, &args[k]));
      }
      std::string err;
      if (!CallFunction(e.fn, args, e.type, out, &err)) return ErrAt(c, e, err);
      return Coerce(out, e.type);
    }
  }
  return Status::Ok();
}

Status Eval(const BExpr& e, EvalCtx& c, Value* out) {
  if (e.memo >= 0 && e.dep >= 0) {
    SegCol& sc = (*c.cols)[static_cast<size_t>(e.dep)];
    if (!sc.constant && (sc.src == Src::kString || sc.src == Src::kTag)) {
      uint32_t code = c.dict_col == e.dep ? c.dict_code : sc.codes[c.row];
      StrMemo& m = (*c.str_memo)[static_cast<size_t>(e.memo)];
      if (!m.done[code]) {
        int saved_col = c.dict_col;
        uint32_t saved_code = c.dict_code;
        c.dict_col = e.dep;
        c.dict_code = code;
        Status s = EvalNoMemo(e, c, &m.vals[code]);
        c.dict_col = saved_col;
        c.dict_code = saved_code;
        RETURN_IF_ERROR(s);
        m.done[code] = 1;
      }
      *out = m.vals[code];
      return Status::Ok();
    }
    if (!sc.constant && sc.src == Src::kTime) {
      auto& m = (*c.int_memo)[static_cast<size_t>(e.memo)];
      int64_t key = sc.ints[c.row];
      auto it = m.find(key);
      if (it != m.end()) {
        *out = it->second;
        return Status::Ok();
      }
      RETURN_IF_ERROR(EvalNoMemo(e, c, out));
      if (m.size() < (size_t{1} << 20)) m.emplace(key, *out);
      return Status::Ok();
    }
  }
  return EvalNoMemo(e, c, out);
}

// ---------------------------------------------------------------------------
// Aggregates.

struct AggState {
  int64_t n = 0;
  int128 x = 0;
  // Double sums are exact until the end (Shewchuk's non-overlapping
  // partials, as Python's math.fsum): the result is the correctly rounded
  // sum, whatever the row order or segment layout.
  std::vector<double> partials;
  double special = 0;  // sum of infinities / NaN, if any
  bool has_special = false;
  Value m;  // min / max
  bool overflow = false;
  std::unique_ptr<std::map<std::string, Value>> distinct;
};

void AddDouble(AggState* s, double x) {
  if (!std::isfinite(x)) {
    s->special += x;
    s->has_special = true;
    return;
  }
  size_t i = 0;
  for (double y : s->partials) {
    if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
    double hi = x + y;
    double lo = y - (hi - x);
    if (lo != 0) s->partials[i++] = lo;
    x = hi;
  }
  s->partials.resize(i);
  s->partials.push_back(x);
}

double DoubleSum(const AggState& s) {
  if (s.has_special) return s.special;
  const auto& p = s.partials;
  size_t n = p.size();
  double hi = 0, lo = 0;
  if (n > 0) {
    hi = p[--n];
    while (n > 0) {
      double x = hi, y = p[--n];
      hi = x + y;
      double yr = hi - x;
      lo = y - yr;
      if (lo != 0) break;
    }
    // Round half to even across the remaining partials, as fsum does.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      double y = lo * 2, x = hi + y;
      if (y == x - hi) hi = x;
    }
  }
  return hi;
}

void Update(const AggSpec& a, AggState* s, const Value& v) {
  if (a.star) {
    ++s->n;
    return;
  }
  if (v.null()) return;
  if (a.distinct) {
    if (!s->distinct) s->distinct = std::make_unique<std::map<std::string, Value>>();
    std::string k;
    AppendKey(v, &k);
    s->distinct->emplace(std::move(k), v);
    return;
  }
  ++s->n;
  if (a.fn == "sum" || a.fn == "avg") {
    if (v.kind == Kind::kDouble) {
      AddDouble(s, v.d);
    } else {
      int128 x = v.kind == Kind::kBigint ? static_cast<int128>(v.i) : v.x;
      if (a.exact_double && v.kind == Kind::kDecimal && v.scale != a.exact_scale &&
          !Rescale(x, v.scale, a.exact_scale, &x)) {
        s->overflow = true;
      }
      if (__builtin_add_overflow(s->x, x, &s->x)) s->overflow = true;
    }
  } else if (a.fn == "min" || a.fn == "max") {
    if (s->m.null()) {
      s->m = v;
    } else {
      int r = Compare(v, s->m);
      if ((a.fn == "min" && r < 0) || (a.fn == "max" && r > 0)) s->m = v;
    }
  }
}

void Merge(const AggSpec& a, AggState* into, AggState* from) {
  if (a.distinct) {
    if (from->distinct) {
      if (!into->distinct) into->distinct = std::make_unique<std::map<std::string, Value>>();
      into->distinct->merge(*from->distinct);
    }
    return;
  }
  into->n += from->n;
  if (__builtin_add_overflow(into->x, from->x, &into->x)) into->overflow = true;
  into->overflow |= from->overflow;
  for (double d : from->partials) AddDouble(into, d);
  if (from->has_special) AddDouble(into, from->special);
  if (!from->m.null()) {
    if (into->m.null()) {
      into->m = from->m;
    } else {
      int r = Compare(from->m, into->m);
      if ((a.fn == "min" && r < 0) || (a.fn == "max" && r > 0)) into->m = from->m;
    }
  }
}

// The final value; false (with *err) on overflow.
bool Finish(const AggSpec& a, AggState* s, Value* out, std::string* err) {
  if (a.distinct && s->distinct) {
    AggSpec plain;
    plain.fn = a.fn;
    plain.result = a.result;
    AggState t;
    for (auto& [k, v] : *s->distinct) Update(plain, &t, v);
    return Finish(plain, &t, out, err);
  }
  if (a.fn == "count") {
    *out = Value::Bigint(a.distinct ? 0 : s->n);
    return true;
  }
  if (s->n == 0) {
    *out = Value::Null();
    return true;
  }
  if (s->overflow || (a.result.kind == Kind::kDecimal && DigitCount(s->x) > 38)) {
    *err = a.fn + " overflows DECIMAL(38)";
    return false;
  }
  if (a.fn == "min" || a.fn == "max") {
    *out = s->m;
    return true;
  }
  if (a.exact_double) {
    // Exact decimal text to the nearest double.
    std::string t = DecimalText(s->x, a.exact_scale);
    double d = 0;
    std::from_chars(t.data(), t.data() + t.size(), d);
    *out = Value::Double(a.fn == "sum" ? d : d / static_cast<double>(s->n));
    return true;
  }
  const bool dbl_in = a.result.kind == Kind::kDouble && a.fn == "sum";
  if (a.fn == "sum") {
    if (dbl_in) {
      *out = Value::Double(DoubleSum(*s));
    } else if (a.result.kind == Kind::kBigint) {
      if (s->x > INT64_MAX || s->x < INT64_MIN) {
        *err = "sum overflows BIGINT";
        return false;
      }
      *out = Value::Bigint(static_cast<int64_t>(s->x));
    } else {
      *out = Value::Dec(s->x, a.result.scale);
    }
    return true;
  }
  // avg
  if (a.result.kind == Kind::kDecimal) {
    int128 q = s->x / s->n, rem = s->x % s->n;
    int128 ar = rem < 0 ? -rem : rem;
    if (ar * 2 >= s->n) q += s->x < 0 ? -1 : 1;
    *out = Value::Dec(q, a.result.scale);
  } else if (!s->partials.empty() || s->has_special) {
    *out = Value::Double(DoubleSum(*s) / static_cast<double>(s->n));
  } else {
    *out = Value::Double(static_cast<double>(s->x) / static_cast<double>(s->n));
  }
  return true;
}

// ---------------------------------------------------------------------------
// The binder.

bool IsAggregateName(std::string_view n) {
  return n == "sum" || n == "count" || n == "min" || n == "max" || n == "avg";
}

bool ContainsAggregate(const Expr& e) {
  if (e.kind == ExprKind::kFunc && IsAggregateName(e.name)) return true;
  for (const auto& a : e.args) {
    if (a && ContainsAggregate(*a)) return true;
  }
  if (e.operand && ContainsAggregate(*e.operand)) return true;
  if (e.else_expr && ContainsAggregate(*e.else_expr)) return true;
  return false;
}

class Binder {
 public:
  Binder(const Source& src, const SqlOptions& opt, const std::vector<OpenSeg>& segs)
      : src_(src), opt_(opt) {
    for (const auto& s : segs) {
      for (size_t i = 0; i < s.seg->num_columns(); ++i) {
        const std::string& n = s.seg->column(i).name;
        if (n.rfind(col::kTagPrefix, 0) == 0) {
          auto& v = tags_[CanonicalTag(std::string_view(n).substr(col::kTagPrefix.size()))];
          if (std::find(v.begin(), v.end(), n) == v.end()) v.push_back(n);
        }
      }
    }
  }

  const std::map<std::string, std::vector<std::string>>& tags() const { return tags_; }
  std::vector<ScanCol>& cols() { return cols_; }
  std::vector<AggSpec>& aggs() { return aggs_; }
  std::vector<KeySpec>& keys() { return keys_; }
  int memo_slots() const { return memo_slots_; }
  Days today() const { return today_; }
  void set_today(Days d) { today_ = d; }

  Status Err(const Expr& e, const std::string& msg) const {
    return SqlError(src_, e.line, e.col, msg);
  }

  // Resolves a column name to a scan column index (adding it on first use).
  StatusOr<int> Column(const Expr& e) {
    for (size_t i = 0; i < cols_.size(); ++i) {
      if (cols_[i].name == e.name) return static_cast<int>(i);
    }
    ScanCol sc;
    sc.name = e.name;
    bool found = false;
    for (const auto& c : kCatalog) {
      if (c.name == e.name) {
        sc.src = c.src;
        sc.store = std::string(c.store);
        sc.late = c.late;
        sc.type = TypeOfSrc(c.src);
        found = true;
        break;
      }
    }
    if (!found) {
      std::string key = TagKeyOfColumn(e.name);
      if (!key.empty()) {
        auto it = tags_.find(key);
        if (it == tags_.end()) {
          std::string have;
          for (const auto& [k, v] : tags_) have += (have.empty() ? "" : ", ") + TagColumnName(k);
          return Err(e, "no tag column '" + e.name +
                            "' in the store (tag columns: " + (have.empty() ? "none" : have) + ")");
        }
        sc.src = Src::kTag;
        sc.tag_stores = it->second;
        sc.type = {Kind::kVarchar};
        found = true;
      }
    }
    if (!found) {
      return Err(e, "column '" + e.name +
                        "' is not in the billing table (the store keeps the CUR columns listed "
                        "by 'sagebox cost sql --columns')");
    }
    cols_.push_back(std::move(sc));
    return static_cast<int>(cols_.size() - 1);
  }

  // Binds an expression evaluated per input row (WHERE, GROUP BY, aggregate
  // arguments, SELECT of a non-aggregate query).
  StatusOr<BPtr> BindRow(const Expr& e) { return Bind(e, false); }
  // Binds an expression evaluated per group: group keys and aggregates are
  // leaves; any other column is an error.
  StatusOr<BPtr> BindGroup(const Expr& e) { return Bind(e, true); }

  // Assigns memo slots to the largest subtrees over one column worth
  // caching: any computation over a string column (evaluated once per
  // dictionary entry), or a call, cast, CASE, LIKE or IN over a timestamp
  // (once per distinct time).
  void AssignMemo(BExpr* e, bool parent_same) {
    bool mine = false;
    if (e->dep >= 0 && e->op != Op::kConst && e->op != Op::kCol) {
      Src s = cols_[static_cast<size_t>(e->dep)].src;
      mine = s == Src::kString || s == Src::kTag || (s == Src::kTime && e->worth_memo);
    }
    if (mine && !parent_same) e->memo = memo_slots_++;
    for (auto& k : e->kids) AssignMemo(k.get(), mine && (parent_same || e->memo >= 0));
  }

 private:
  StatusOr<BPtr> Node(const Expr& e, Op op, SqlType t) {
    auto b = std::make_unique<BExpr>();
    b->op = op;
    b->type = t;
    b->line = e.line;
    b->col = e.col;
    return b;
  }

  // Folds a subtree without columns or aggregates into a constant.
  Status Fold(BPtr* b) {
    BExpr& e = **b;
    if (e.op == Op::kConst || e.dep != -2) return Status::Ok();
    EvalCtx c;
    c.src = &src_;
    Value v;
    RETURN_IF_ERROR(Eval(e, c, &v));
    auto k = std::make_unique<BExpr>();
    k->op = Op::kConst;
    k->type = e.type;
    k->line = e.line;
    k->col = e.col;
    k->value = std::move(v);
    *b = std::move(k);
    return Status::Ok();
  }

  void Deps(BExpr* b) {
    int d = -2;
    bool w = b->op == Op::kFunc || b->op == Op::kCast || b->op == Op::kCase || b->op == Op::kLike ||
             b->op == Op::kIn;
    for (auto& k : b->kids) {
      d = MergeDep(d, k->dep);
      w = w || k->worth_memo;
    }
    if (b->op == Op::kCol) d = b->index;
    if (b->op == Op::kKey || b->op == Op::kAgg) d = -1;
    b->dep = d;
    b->worth_memo = w;
  }

  StatusOr<SqlType> CommonType(const Expr& at, SqlType a, SqlType b) {
    if (a.kind == Kind::kNull) return b;
    if (b.kind == Kind::kNull) return a;
    if (a.kind == b.kind) {
      if (a.kind == Kind::kDecimal) {
        int s = std::max(a.scale, b.scale);
        int ip = std::max(a.precision - a.scale, b.precision - b.scale);
        return SqlType{Kind::kDecimal, std::min(38, ip + s), s};
      }
      return a;
    }
    if (IsNumeric(a.kind) && IsNumeric(b.kind)) {
      if (a.kind == Kind::kDouble || b.kind == Kind::kDouble) return SqlType{Kind::kDouble};
      SqlType d = a.kind == Kind::kDecimal ? a : b;
      int ip = std::max(d.precision - d.scale, 19);
      return SqlType{Kind::kDecimal, std::min(38, ip + d.scale), d.scale};
    }
    if ((a.kind == Kind::kDate && b.kind == Kind::kTimestamp) ||
        (a.kind == Kind::kTimestamp && b.kind == Kind::kDate)) {
      return SqlType{Kind::kTimestamp};
    }
    return Err(at, "cannot combine " + a.Name() + " and " + b.Name() +
                       " (add a CAST; Athena does not convert them implicitly)");
  }

  StatusOr<BPtr> Bind(const Expr& e, bool group) {
    if (group) {
      std::string k = ExprKey(e);
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i].key == k) {
          ASSIGN_OR_RETURN(auto b, Node(e, Op::kKey, keys_[i].expr->type));
          b->index = static_cast<int>(i);
          b->dep = -1;
          return b;
        }
      }
      if (e.kind == ExprKind::kFunc && IsAggregateName(e.name)) return BindAggregate(e, k);
      if (e.kind == ExprKind::kColumn) {
        return Err(e, "column '" + e.name +
                          "' must appear in GROUP BY or be used in an aggregate function");
      }
    } else if (e.kind == ExprKind::kFunc && IsAggregateName(e.name)) {
      return Err(e, "aggregate function " + e.name + "() is not allowed here");
    }
    ASSIGN_OR_RETURN(auto b, BindInner(e, group));
    Deps(b.get());
    RETURN_IF_ERROR(Fold(&b));
    return b;
  }

  StatusOr<BPtr> BindAggregate(const Expr& e, const std::string& k) {
    for (size_t i = 0; i < aggs_.size(); ++i) {
      if (aggs_[i].key == k) {
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kAgg, aggs_[i].result));
        b->index = static_cast<int>(i);
        b->dep = -1;
        return b;
      }
    }
    AggSpec a;
    a.fn = e.name;
    a.distinct = e.distinct;
    a.star = e.star;
    a.key = k;
    if (e.star) {
      if (e.name != "count") return Err(e, e.name + "(*) is not valid; only count(*)");
      a.result = {Kind::kBigint};
    } else {
      if (e.args.size() != 1) return Err(e, e.name + "() takes one argument");
      if (ContainsAggregate(*e.args[0])) {
        return Err(*e.args[0], "aggregate functions cannot be nested");
      }
      ASSIGN_OR_RETURN(a.arg, BindRow(*e.args[0]));
      if ((e.name == "sum" || e.name == "avg") && !e.distinct && a.arg->op == Op::kCast &&
          !a.arg->try_cast && a.arg->type.kind == Kind::kDouble &&
          a.arg->kids[0]->type.kind == Kind::kDecimal) {
        a.exact_double = true;
        a.exact_scale = a.arg->kids[0]->type.scale;
        BPtr inner = std::move(a.arg->kids[0]);
        a.arg = std::move(inner);
      }
      AssignMemo(a.arg.get(), false);
      const SqlType t = a.exact_double ? SqlType{Kind::kDouble} : a.arg->type;
      if (e.name == "count") {
        a.result = {Kind::kBigint};
      } else if (e.name == "sum" || e.name == "avg") {
        if (t.kind == Kind::kBigint) {
          a.result = {e.name == "sum" ? Kind::kBigint : Kind::kDouble};
        } else if (t.kind == Kind::kDouble) {
          a.result = {Kind::kDouble};
        } else if (t.kind == Kind::kDecimal) {
          a.result = e.name == "sum" ? SqlType{Kind::kDecimal, 38, t.scale} : t;
        } else if (t.kind == Kind::kNull) {
          a.result = {Kind::kNull};
        } else {
          return Err(*e.args[0], e.name + "() needs a number, found " + t.Name() +
                                     " (CAST it, e.g. CAST(x AS DECIMAL(16,8)))");
        }
        if (a.distinct && a.result.kind == Kind::kBigint) a.result = {Kind::kBigint};
      } else {
        if (t.kind == Kind::kInterval) return Err(*e.args[0], e.name + "() of an interval");
        a.result = t;
      }
    }
    aggs_.push_back(std::move(a));
    ASSIGN_OR_RETURN(auto b, Node(e, Op::kAgg, aggs_.back().result));
    b->index = static_cast<int>(aggs_.size() - 1);
    b->dep = -1;
    return b;
  }

  StatusOr<BPtr> BindInner(const Expr& e, bool group) {
    auto kid = [&](const Expr& x) { return Bind(x, group); };
    switch (e.kind) {
      case ExprKind::kColumn: {
        ASSIGN_OR_RETURN(int idx, Column(e));
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kCol, cols_[static_cast<size_t>(idx)].type));
        b->index = idx;
        return b;
      }
      case ExprKind::kString: {
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kVarchar}));
        b->value = Value::Varchar(e.text);
        return b;
      }
      case ExprKind::kNumber: {
        std::string err;
        Value v;
        if (!ParseNumberLiteral(e.text, &v, &err)) return Err(e, err);
        SqlType t{v.kind};
        if (v.kind == Kind::kDecimal)
          t = {Kind::kDecimal, std::max(DigitCount(v.x), v.scale), v.scale};
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, t));
        b->value = v;
        return b;
      }
      case ExprKind::kBool: {
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kBool}));
        b->value = Value::Bool(e.name == "true");
        return b;
      }
      case ExprKind::kNull:
        return Node(e, Op::kConst, {Kind::kNull});
      case ExprKind::kDate: {
        auto d = ParseDate(e.text);
        if (!d) return Err(e, "'" + e.text + "' is not a date (expected YYYY-MM-DD)");
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kDate}));
        b->value = Value::Date(*d);
        return b;
      }
      case ExprKind::kTimestamp: {
        auto t = ParseTimestamp(e.text);
        if (!t) return Err(e, "'" + e.text + "' is not a timestamp (expected YYYY-MM-DD HH:MM:SS)");
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kTimestamp}));
        b->value = Value::Timestamp(*t);
        return b;
      }
      case ExprKind::kInterval: {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(e.text.data(), e.text.data() + e.text.size(), n);
        if (ec != std::errc() || p != e.text.data() + e.text.size() || n > 1000000 ||
            n < -1000000) {
          return Err(e, "interval '" + e.text + "' is not a whole number");
        }
        if (e.negated) n = -n;
        Value v;
        v.kind = Kind::kInterval;
        std::string u = e.name;
        if (u.size() > 1 && u.back() == 's') u.pop_back();
        if (u == "year") {
          v.i = n * 12;
        } else if (u == "month") {
          v.i = n;
        } else if (u == "day") {
          v.j = n * 86400;
        } else if (u == "hour") {
          v.j = n * 3600;
        } else if (u == "minute") {
          v.j = n * 60;
        } else if (u == "second") {
          v.j = n;
        } else {
          return Err(e, "unknown interval unit '" + e.name +
                            "' (expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND)");
        }
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kInterval}));
        b->value = v;
        return b;
      }
      case ExprKind::kUnary: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        if (e.name == "not") {
          if (a->type.kind != Kind::kBool && a->type.kind != Kind::kNull) {
            return Err(e, "NOT needs a boolean, found " + a->type.Name());
          }
          ASSIGN_OR_RETURN(auto b, Node(e, Op::kNot, {Kind::kBool}));
          b->kids.push_back(std::move(a));
          return b;
        }
        if (!IsNumeric(a->type.kind) && a->type.kind != Kind::kInterval &&
            a->type.kind != Kind::kNull) {
          return Err(e, "cannot negate " + a->type.Name());
        }
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kNeg, a->type));
        b->kids.push_back(std::move(a));
        return b;
      }
      case ExprKind::kBinary:
        return BindBinary(e, group);
      case ExprKind::kIn: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        SqlType t = a->type;
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kIn, {Kind::kBool}));
        b->negated = e.negated;
        b->kids.push_back(std::move(a));
        for (size_t i = 1; i < e.args.size(); ++i) {
          ASSIGN_OR_RETURN(auto v, kid(*e.args[i]));
          ASSIGN_OR_RETURN(t, CommonType(*e.args[i], t, v->type));
          b->kids.push_back(std::move(v));
        }
        return b;
      }
      case ExprKind::kLike: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        ASSIGN_OR_RETURN(auto p, kid(*e.args[1]));
        if (a->type.kind != Kind::kVarchar && a->type.kind != Kind::kNull) {
          return Err(*e.args[0], "LIKE needs a varchar, found " + a->type.Name());
        }
        if (p->type.kind != Kind::kVarchar && p->type.kind != Kind::kNull) {
          return Err(*e.args[1], "a LIKE pattern is a varchar, found " + p->type.Name());
        }
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kLike, {Kind::kBool}));
        b->negated = e.negated;
        BPtr esc;
        if (e.args.size() > 2) {
          ASSIGN_OR_RETURN(esc, kid(*e.args[2]));
          if (esc->type.kind != Kind::kVarchar) return Err(*e.args[2], "ESCAPE needs a varchar");
        }
        if (p->op == Op::kConst && !p->value.null() && (!esc || esc->op == Op::kConst)) {
          std::string err;
          if (esc && esc->value.null()) return Err(*e.args[2], "ESCAPE is NULL");
          if (!CompileLike(p->value.s, esc != nullptr, esc ? esc->value.s : "", &b->like, &err)) {
            return Err(*e.args[1], err);
          }
          b->like_const = true;
        }
        b->kids.push_back(std::move(a));
        b->kids.push_back(std::move(p));
        if (esc) b->kids.push_back(std::move(esc));
        return b;
      }
      case ExprKind::kBetween: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        ASSIGN_OR_RETURN(auto lo, kid(*e.args[1]));
        ASSIGN_OR_RETURN(auto hi, kid(*e.args[2]));
        ASSIGN_OR_RETURN(auto t, CommonType(*e.args[1], a->type, lo->type));
        RETURN_IF_ERROR(CommonType(*e.args[2], t, hi->type).status());
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kBetween, {Kind::kBool}));
        b->negated = e.negated;
        b->kids.push_back(std::move(a));
        b->kids.push_back(std::move(lo));
        b->kids.push_back(std::move(hi));
        return b;
      }
      case ExprKind::kIsNull: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kIsNull, {Kind::kBool}));
        b->negated = e.negated;
        b->kids.push_back(std::move(a));
        return b;
      }
      case ExprKind::kCase: {
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kCase, {Kind::kNull}));
        SqlType op_t{Kind::kNull};
        if (e.operand) {
          ASSIGN_OR_RETURN(auto o, kid(*e.operand));
          op_t = o->type;
          b->kids.push_back(std::move(o));
          b->has_operand = true;
        }
        SqlType rt{Kind::kNull};
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          ASSIGN_OR_RETURN(auto w, kid(*e.args[i]));
          if (e.operand) {
            RETURN_IF_ERROR(CommonType(*e.args[i], op_t, w->type).status());
          } else if (w->type.kind != Kind::kBool && w->type.kind != Kind::kNull) {
            return Err(*e.args[i], "WHEN needs a boolean condition, found " + w->type.Name());
          }
          ASSIGN_OR_RETURN(auto th, kid(*e.args[i + 1]));
          ASSIGN_OR_RETURN(rt, CommonType(*e.args[i + 1], rt, th->type));
          b->kids.push_back(std::move(w));
          b->kids.push_back(std::move(th));
        }
        if (e.else_expr) {
          ASSIGN_OR_RETURN(auto el, kid(*e.else_expr));
          ASSIGN_OR_RETURN(rt, CommonType(*e.else_expr, rt, el->type));
          b->kids.push_back(std::move(el));
          b->has_else = true;
        }
        b->type = rt;
        return b;
      }
      case ExprKind::kCast: {
        ASSIGN_OR_RETURN(auto a, kid(*e.args[0]));
        std::string err;
        SqlType t;
        if (!CastTarget(e.type_name, e.precision, e.scale, &t, &err)) return Err(e, err);
        if (!CastAllowed(a->type, t)) {
          return Err(e, "cannot cast " + a->type.Name() + " to " + t.Name());
        }
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kCast, t));
        b->try_cast = e.try_cast;
        b->kids.push_back(std::move(a));
        return b;
      }
      case ExprKind::kFunc: {
        if (e.name == "current_date") {
          ASSIGN_OR_RETURN(auto b, Node(e, Op::kConst, {Kind::kDate}));
          b->value = Value::Date(today_);
          return b;
        }
        if (!KnownFunction(e.name)) {
          std::string err;
          Fn fn0 = Fn::kNone;
          SqlType rt0;
          int bad0 = -1;
          (void)BindFunction(e.name, {}, {}, &fn0, &rt0, &err, &bad0);
          return Err(e, err);
        }
        std::vector<BPtr> args;
        std::vector<SqlType> types;
        std::vector<const Value*> consts;
        if (e.star || e.distinct) {
          return Err(e, std::string(e.star ? "*" : "DISTINCT") + " is only for aggregates");
        }
        for (const auto& a : e.args) {
          ASSIGN_OR_RETURN(auto b, kid(*a));
          types.push_back(b->type);
          args.push_back(std::move(b));
        }
        consts.reserve(args.size());
        for (const auto& a : args) consts.push_back(a->op == Op::kConst ? &a->value : nullptr);
        Fn fn = Fn::kNone;
        SqlType rt;
        std::string err;
        int bad_arg = -1;
        if (!BindFunction(e.name, types, consts, &fn, &rt, &err, &bad_arg)) {
          if (bad_arg >= 0 && static_cast<size_t>(bad_arg) < e.args.size()) {
            return Err(*e.args[static_cast<size_t>(bad_arg)], err);
          }
          return Err(e, err);
        }
        ASSIGN_OR_RETURN(auto b, Node(e, Op::kFunc, rt));
        b->fn = fn;
        b->kids = std::move(args);
        return b;
      }
    }
    return Err(e, "unsupported expression");
  }

  StatusOr<BPtr> BindBinary(const Expr& e, bool group) {
    ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], group));
    ASSIGN_OR_RETURN(auto c, Bind(*e.args[1], group));
    const SqlType ta = a->type, tc = c->type;
    const std::string& op = e.name;
    auto make = [&](Op o, SqlType t) -> StatusOr<BPtr> {
      ASSIGN_OR_RETURN(auto b, Node(e, o, t));
      b->kids.push_back(std::move(a));
      b->kids.push_back(std::move(c));
      return b;
    };
    if (op == "and" || op == "or") {
      for (const auto* t : {&ta, &tc}) {
        if (t->kind != Kind::kBool && t->kind != Kind::kNull) {
          return Err(e, AsciiLowerChar(op[0]) == 'a' ? "AND needs booleans, found " + t->Name()
                                                     : "OR needs booleans, found " + t->Name());
        }
      }
      return make(op == "and" ? Op::kAnd : Op::kOr, {Kind::kBool});
    }
    if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      if (ta.kind == Kind::kInterval || tc.kind == Kind::kInterval) {
        return Err(e, "cannot compare intervals");
      }
      if ((ta.kind == Kind::kTimestamp || ta.kind == Kind::kDate) && tc.kind == Kind::kVarchar) {
        return Err(e, "cannot compare " + ta.Name() +
                          " with varchar (write TIMESTAMP '2024-01-01 00:00:00' or DATE "
                          "'2024-01-01')");
      }
      RETURN_IF_ERROR(CommonType(e, ta, tc).status());
      ASSIGN_OR_RETURN(auto b, make(Op::kCmp, {Kind::kBool}));
      b->cmp = op == "="    ? Cmp::kEq
               : op == "<>" ? Cmp::kNe
               : op == "<"  ? Cmp::kLt
               : op == "<=" ? Cmp::kLe
               : op == ">"  ? Cmp::kGt
                            : Cmp::kGe;
      return b;
    }
    if (op == "||") {
      if ((ta.kind != Kind::kVarchar && ta.kind != Kind::kNull) ||
          (tc.kind != Kind::kVarchar && tc.kind != Kind::kNull)) {
        return Err(e, "|| needs varchar operands, found " + ta.Name() + " and " + tc.Name());
      }
      return make(Op::kConcat, {Kind::kVarchar});
    }
    // + - * / %
    const char aop = op[0];
    const bool ta_time = ta.kind == Kind::kTimestamp || ta.kind == Kind::kDate;
    const bool tc_time = tc.kind == Kind::kTimestamp || tc.kind == Kind::kDate;
    if ((ta_time && tc.kind == Kind::kInterval && (aop == '+' || aop == '-')) ||
        (tc_time && ta.kind == Kind::kInterval && aop == '+')) {
      SqlType t = ta_time ? ta : tc;
      ASSIGN_OR_RETURN(auto b, make(Op::kArith, t));
      b->aop = aop;
      b->amode = t.kind == Kind::kDate ? Arith::kDateInterval : Arith::kTimeInterval;
      return b;
    }
    if (ta.kind == Kind::kNull || tc.kind == Kind::kNull) {
      SqlType t = ta.kind == Kind::kNull ? tc : ta;
      if (t.kind == Kind::kNull) t = {Kind::kBigint};
      if (!IsNumeric(t.kind)) return Err(e, "cannot apply " + op + " to " + t.Name());
      ASSIGN_OR_RETURN(auto b, make(Op::kConst, t));
      b->kids.clear();
      return b;  // NULL of the result type
    }
    if (!IsNumeric(ta.kind) || !IsNumeric(tc.kind)) {
      return Err(e, "cannot apply " + op + " to " + ta.Name() + " and " + tc.Name());
    }
    SqlType t;
    Arith mode = Arith::kDbl;
    if (ta.kind == Kind::kDouble || tc.kind == Kind::kDouble) {
      t = {Kind::kDouble};
      mode = Arith::kDbl;
    } else if (ta.kind == Kind::kBigint && tc.kind == Kind::kBigint) {
      t = {Kind::kBigint};
      mode = Arith::kBig;
    } else {
      auto dec = [](SqlType x) {
        return x.kind == Kind::kBigint ? SqlType{Kind::kDecimal, 19, 0} : x;
      };
      SqlType x = dec(ta), y = dec(tc);
      int s = 0, p = 38;
      switch (aop) {
        case '+':
        case '-':
          s = std::max(x.scale, y.scale);
          p = std::min(38, std::max(x.precision - x.scale, y.precision - y.scale) + s + 1);
          break;
        case '*':
          s = x.scale + y.scale;
          p = std::min(38, x.precision + y.precision);
          break;
        default:
          s = std::max(x.scale, y.scale);
          p = 38;
          break;
      }
      if (s > 38) return Err(e, "decimal scale over 38 in " + op);
      t = {Kind::kDecimal, std::max(p, s), s};
      mode = Arith::kDec;
    }
    ASSIGN_OR_RETURN(auto b, make(Op::kArith, t));
    b->aop = aop;
    b->amode = mode;
    return b;
  }

  const Source& src_;
  const SqlOptions& opt_;
  std::map<std::string, std::vector<std::string>> tags_;
  std::vector<ScanCol> cols_;
  std::vector<AggSpec> aggs_;
  std::vector<KeySpec> keys_;
  int memo_slots_ = 0;
  Days today_ = 0;
};

// ---------------------------------------------------------------------------
// Execution helpers.

Status LoadColumn(const OpenSeg& s, size_t rg, SegCol* sc) {
  if (sc->constant || sc->loaded) return Status::Ok();
  switch (sc->src) {
    case Src::kTime:
      RETURN_IF_ERROR(s.seg->ReadInt64(rg, sc->idx, &sc->ints));
      break;
    case Src::kDecimal:
      RETURN_IF_ERROR(s.seg->ReadDecimal(rg, sc->idx, &sc->decs));
      break;
    default:
      RETURN_IF_ERROR(s.seg->ReadCodes(rg, sc->idx, &sc->codes));
      break;
  }
  sc->loaded = true;
  return Status::Ok();
}

void CollectDeps(const BExpr& e, std::vector<int>* out) {
  if (e.op == Op::kCol && std::find(out->begin(), out->end(), e.index) == out->end()) {
    out->push_back(e.index);
  }
  for (const auto& k : e.kids) CollectDeps(*k, out);
}

void SplitAnd(const Expr* e, std::vector<const Expr*>* out) {
  if (e->kind == ExprKind::kBinary && e->name == "and") {
    SplitAnd(e->args[0].get(), out);
    SplitAnd(e->args[1].get(), out);
  } else {
    out->push_back(e);
  }
}

struct OutRow {
  std::vector<Value> out;
  std::vector<Value> hidden;
};

int CompareNullable(const Value& a, const Value& b, bool nulls_first) {
  if (a.null() || b.null()) {
    if (a.null() && b.null()) return 0;
    return (a.null() == nulls_first) ? -1 : 1;
  }
  return Compare(a, b);
}

Days TodayUtc() {
  std::time_t t = std::time(nullptr);
  return DayOf(static_cast<UnixSeconds>(t));
}

ExprPtr ColumnExpr(const std::string& name, int line, int col) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kColumn;
  e->name = name;
  e->line = line;
  e->col = col;
  return e;
}

bool PositionOf(const Expr& e, size_t n, size_t* pos) {
  if (e.kind != ExprKind::kNumber) return false;
  size_t v = 0;
  auto [p, ec] = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
  if (ec != std::errc() || p != e.text.data() + e.text.size()) return false;
  *pos = v;
  return v >= 1 && v <= n;
}

std::vector<std::string> StarColumns(const std::map<std::string, std::vector<std::string>>& tags) {
  std::vector<std::string> names;
  for (const auto& c : kCatalog) {
    if (c.src == Src::kYear) {
      for (const auto& [k, v] : tags) names.push_back(TagColumnName(k));
    }
    names.emplace_back(c.name);
  }
  return names;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CurColumns(const store::Store& st) {
  std::map<std::string, std::vector<std::string>> tags;
  for (const auto& info : st.segments()) {
    auto seg = st.OpenSegment(info);
    if (!seg.ok()) continue;
    for (size_t i = 0; i < (*seg)->num_columns(); ++i) {
      const std::string& n = (*seg)->column(i).name;
      if (n.rfind(col::kTagPrefix, 0) == 0) {
        tags[CanonicalTag(std::string_view(n).substr(col::kTagPrefix.size()))].push_back(n);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : StarColumns(tags)) {
    std::string type = "varchar";
    for (const auto& c : kCatalog) {
      if (c.name == name) type = TypeOfSrc(c.src).Name();
    }
    out.emplace_back(name, type);
  }
  return out;
}

StatusOr<ResultSet> RunSql(const store::Store& st, const Source& src, const SqlOptions& opt) {
  ASSIGN_OR_RETURN(Select q, Parse(src));

  // The table.
  {
    std::string t = q.table_is_placeholder ? q.table : AsciiLower(q.table);
    bool ok = false;
    if (q.table_is_placeholder) {
      std::string n = AsciiLower(t);
      ok = n == "table_name" || n == "tablename";
    } else {
      ok = t == "customer_all" || (!opt.table_name.empty() && EqualsIgnoreCase(t, opt.table_name));
    }
    if (!ok) {
      return SqlError(src, q.table_line, q.table_col,
                      "unknown table '" + q.table +
                          "' (the billing table is {$table_name}, ${table_name}, customer_all" +
                          (opt.table_name.empty() ? std::string(" or --table-name NAME")
                                                  : " or " + opt.table_name) +
                          ")");
    }
  }

  std::vector<OpenSeg> segs;
  for (const auto& info : st.segments()) {
    if (info.rows == 0) continue;
    ASSIGN_OR_RETURN(auto seg, st.OpenSegment(info));
    segs.push_back({&info, std::move(seg)});
  }
  if (segs.empty()) {
    return NotFound("the store " + st.dir() + " is empty; run 'sagebox cost ingest PATH' first");
  }

  Binder b(src, opt, segs);
  b.set_today(opt.as_of != 0 ? opt.as_of : TodayUtc());

  // Expand *.
  std::vector<SelectItem> items;
  for (auto& it : q.items) {
    if (it.expr) {
      items.push_back(std::move(it));
      continue;
    }
    for (const auto& n : StarColumns(b.tags())) {
      SelectItem s;
      s.expr = ColumnExpr(n, it.line, it.col);
      s.line = it.line;
      s.col = it.col;
      items.push_back(std::move(s));
    }
  }
  ResultSet rs;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    if (!it.alias.empty()) {
      rs.names.push_back(it.alias);
    } else if (it.expr->kind == ExprKind::kColumn) {
      rs.names.push_back(it.expr->name);
    } else {
      rs.names.push_back("_col" + std::to_string(i));
    }
  }

  bool aggregate = !q.group_by.empty() || q.having;
  for (const auto& it : items) aggregate = aggregate || ContainsAggregate(*it.expr);
  for (const auto& o : q.order_by) {
    size_t pos = 0;
    if (!PositionOf(*o.expr, items.size(), &pos))
      aggregate = aggregate || ContainsAggregate(*o.expr);
  }

  // WHERE, split into conjuncts.
  struct Conj {
    BPtr expr;
    std::vector<int> deps;
  };
  std::vector<Conj> conjs;
  if (q.where) {
    if (ContainsAggregate(*q.where)) {
      std::vector<const Expr*> parts;
      SplitAnd(q.where.get(), &parts);
      for (const Expr* p : parts) {
        if (ContainsAggregate(*p)) {
          // Find the aggregate call to point at.
          const Expr* at = p;
          while (!(at->kind == ExprKind::kFunc && IsAggregateName(at->name))) {
            const Expr* next = nullptr;
            for (const auto& a : at->args) {
              if (a && ContainsAggregate(*a)) next = a.get();
            }
            if (!next) break;
            at = next;
          }
          return b.Err(*at, "aggregate functions are not allowed in WHERE (use HAVING)");
        }
      }
    }
    std::vector<const Expr*> parts;
    SplitAnd(q.where.get(), &parts);
    for (const Expr* p : parts) {
      ASSIGN_OR_RETURN(auto x, b.BindRow(*p));
      if (x->type.kind != Kind::kBool && x->type.kind != Kind::kNull) {
        return b.Err(*p, "WHERE needs a boolean condition, found " + x->type.Name());
      }
      b.AssignMemo(x.get(), false);
      Conj c;
      CollectDeps(*x, &c.deps);
      c.expr = std::move(x);
      conjs.push_back(std::move(c));
    }
    // Dictionary-decided terms first: they cost one lookup per row.
    std::stable_sort(conjs.begin(), conjs.end(), [](const Conj& x, const Conj& y) {
      return (x.expr->memo >= 0) > (y.expr->memo >= 0);
    });
  }

  // GROUP BY keys.
  for (const auto& g : q.group_by) {
    const Expr* e = g.get();
    size_t pos = 0;
    if (PositionOf(*e, items.size(), &pos)) {
      e = items[pos - 1].expr.get();
      if (ContainsAggregate(*e)) {
        return b.Err(*g, "GROUP BY " + g->text + " refers to an aggregate");
      }
    } else if (g->kind == ExprKind::kNumber) {
      return b.Err(*g, "GROUP BY position " + g->text + " is not in the select list (1.." +
                           std::to_string(items.size()) + ")");
    } else if (g->kind == ExprKind::kColumn) {
      bool known = false;
      for (const auto& c : kCatalog) known = known || c.name == g->name;
      if (!known && TagKeyOfColumn(g->name).empty()) {
        for (const auto& it : items) {
          if (it.alias == g->name && !ContainsAggregate(*it.expr)) {
            e = it.expr.get();
            break;
          }
        }
      }
    }
    if (ContainsAggregate(*e)) return b.Err(*e, "aggregate functions are not allowed in GROUP BY");
    KeySpec k;
    k.key = ExprKey(*e);
    ASSIGN_OR_RETURN(k.expr, b.BindRow(*e));
    b.AssignMemo(k.expr.get(), false);
    b.keys().push_back(std::move(k));
  }

  // SELECT items.
  std::vector<BPtr> outs;
  for (const auto& it : items) {
    ASSIGN_OR_RETURN(auto x, aggregate ? b.BindGroup(*it.expr) : b.BindRow(*it.expr));
    if (x->type.kind == Kind::kInterval) return b.Err(*it.expr, "cannot output an interval");
    if (!aggregate) b.AssignMemo(x.get(), false);
    rs.types.push_back(x->type);
    outs.push_back(std::move(x));
  }
  BPtr having;
  if (q.having) {
    ASSIGN_OR_RETURN(having, b.BindGroup(*q.having));
    if (having->type.kind != Kind::kBool && having->type.kind != Kind::kNull) {
      return b.Err(*q.having, "HAVING needs a boolean condition");
    }
  }
  // ORDER BY: positions, output aliases, select items, else hidden expressions.
  std::vector<OrderSpec> order;
  std::vector<BPtr> hidden;
  for (const auto& o : q.order_by) {
    OrderSpec os;
    os.desc = o.desc;
    os.nulls_first = o.nulls_first.value_or(false);
    size_t pos = 0;
    if (PositionOf(*o.expr, items.size(), &pos)) {
      os.out = static_cast<int>(pos - 1);
    } else if (o.expr->kind == ExprKind::kNumber) {
      return b.Err(*o.expr, "ORDER BY position " + o.expr->text +
                                " is not in the select list (1.." + std::to_string(items.size()) +
                                ")");
    } else {
      std::string k = ExprKey(*o.expr);
      if (o.expr->kind == ExprKind::kColumn) {
        for (size_t i = 0; i < rs.names.size() && os.out < 0; ++i) {
          if (!items[i].alias.empty() && items[i].alias == o.expr->name)
            os.out = static_cast<int>(i);
        }
      }
      for (size_t i = 0; i < items.size() && os.out < 0; ++i) {
        if (ExprKey(*items[i].expr) == k) os.out = static_cast<int>(i);
      }
      if (os.out < 0) {
        ASSIGN_OR_RETURN(auto x, aggregate ? b.BindGroup(*o.expr) : b.BindRow(*o.expr));
        if (x->type.kind == Kind::kInterval) return b.Err(*o.expr, "cannot order by an interval");
        if (!aggregate) b.AssignMemo(x.get(), false);
        os.hidden = static_cast<int>(hidden.size());
        hidden.push_back(std::move(x));
      }
    }
    order.push_back(os);
  }

  // ---- Scan.
  auto& cols = b.cols();
  auto& aggs = b.aggs();
  auto& keys = b.keys();
  const size_t nk = keys.size(), na = aggs.size();
  std::vector<StrMemo> str_memo(static_cast<size_t>(b.memo_slots()));
  std::vector<std::unordered_map<int64_t, Value>> int_memo(static_cast<size_t>(b.memo_slots()));

  struct Group {
    std::vector<Value> keys;
    std::vector<AggState> st;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, size_t> group_index;
  std::vector<OutRow> rows;
  const bool early_stop = !aggregate && order.empty() && q.limit.has_value();
  // Rows that need no sorting go straight to the caller's sink, if any, so a
  // SELECT * over millions of rows is not held in memory.
  const bool stream = !aggregate && order.empty() && opt.row_sink != nullptr;
  rs.streamed = stream;
  int64_t emitted = 0;
  bool done = early_stop && *q.limit == 0;

  // Key ids: per key, how a row's id is found.
  //   kCode: a plain string column, the row's dictionary code;
  //   kCodeValue: a computation over one string column, its value per code
  //     (several codes may give one value, e.g. a CASE);
  //   kTime: a computation over a timestamp, its value per distinct time
  //     (DATE_FORMAT of hourly rows: 24 times, one day);
  //   kIntern: anything else, its value.
  // Ids stand for distinct values, so a segment has one local group per
  // result group.
  enum class KeyMode { kCode, kCodeValue, kTime, kIntern };
  std::vector<std::unordered_map<int64_t, uint32_t>> time_ids(nk);
  std::vector<std::unordered_map<std::string, uint32_t>> time_val_index(nk);
  std::vector<std::vector<Value>> time_vals(nk);

  std::vector<SegCol> sc(cols.size());
  for (const auto& s : segs) {
    if (done) break;
    const auto& info = *s.info;
    // Bind scan columns to this segment.
    for (size_t i = 0; i < cols.size(); ++i) {
      SegCol& c = sc[i];
      c = SegCol();
      c.src = cols[i].src;
      const ScanCol& k = cols[i];
      int y = 0;
      unsigned m = 0, d = 0;
      Days period = 0;
      if (k.src == Src::kYear || k.src == Src::kMonth || k.src == Src::kBillStart ||
          k.src == Src::kBillEnd) {
        auto pd = ParseDate(info.partition + "-01");
        if (!pd)
          return Corruption(info.file + ": partition '" + info.partition + "' is not a month");
        period = *pd;
        CivilFromDays(period, &y, &m, &d);
        c.constant = true;
      }
      switch (k.src) {
        case Src::kYear:
          c.value = Value::Varchar(std::to_string(y));
          continue;
        case Src::kMonth:
          c.value = Value::Varchar(std::to_string(m));
          continue;
        case Src::kBillStart:
          c.value = Value::Timestamp(static_cast<int64_t>(period) * 86400);
          continue;
        case Src::kBillEnd:
          c.value = Value::Timestamp(static_cast<int64_t>(NextMonthStart(period)) * 86400);
          continue;
        case Src::kTag:
          for (const auto& n : k.tag_stores) {
            c.idx = s.seg->FindColumn(n);
            if (c.idx >= 0) break;
          }
          break;
        default:
          c.idx = s.seg->FindColumn(k.store);
          break;
      }
      if (c.idx < 0) {
        if (k.src == Src::kTag) {
          c.constant = true;
          c.value = Value::Varchar("");
          continue;
        }
        return NotFound(info.file + " (billing period " + info.partition + ") has no column for '" +
                        k.name +
                        "': it was ingested by an older sagebox; ingest that export again");
      }
      if (c.src == Src::kString || c.src == Src::kTag) c.dict = &s.seg->Dictionary(c.idx);
    }
    for (size_t m = 0; m < str_memo.size(); ++m) str_memo[m].vals.clear();
    // Memo tables sized to the dictionary of their column.
    auto size_memo = [&](const BExpr& e, auto&& self) -> void {
      if (e.memo >= 0 && e.dep >= 0) {
        const SegCol& c = sc[static_cast<size_t>(e.dep)];
        if (!c.constant && c.dict) {
          auto& m = str_memo[static_cast<size_t>(e.memo)];
          m.vals.assign(c.dict->size(), Value());
          m.done.assign(c.dict->size(), 0);
        }
      }
      for (const auto& k : e.kids) self(*k, self);
    };
    for (const auto& c : conjs) size_memo(*c.expr, size_memo);
    for (const auto& k : keys) size_memo(*k.expr, size_memo);
    for (const auto& a : aggs) {
      if (a.arg) size_memo(*a.arg, size_memo);
    }
    if (!aggregate) {
      for (const auto& o : outs) size_memo(*o, size_memo);
      for (const auto& h : hidden) size_memo(*h, size_memo);
    }

    EvalCtx ctx;
    ctx.src = &src;
    ctx.cols = &sc;
    ctx.str_memo = &str_memo;
    ctx.int_memo = &int_memo;

    // Terms over per-segment constants (year, month, a tag this segment
    // lacks) are decided once here.
    std::vector<const Conj*> row_conjs;
    bool skip = false;
    for (const auto& c : conjs) {
      bool all_const = true;
      for (int d : c.deps) all_const = all_const && sc[static_cast<size_t>(d)].constant;
      if (!all_const) {
        row_conjs.push_back(&c);
        continue;
      }
      Value v;
      RETURN_IF_ERROR(Eval(*c.expr, ctx, &v));
      if (v.null() || v.i == 0) {
        skip = true;
        break;
      }
    }
    if (skip) continue;

    // SUM/AVG of a decimal column, or of CAST(column AS DECIMAL(p,s)), read
    // the column's unscaled values directly (no Value per row).
    struct FastAgg {
      int col = -1;
      int scale = Decimal::kScale;  // target scale of the cast
      int precision = 38;
    };
    std::vector<FastAgg> fast(na);
    for (size_t a = 0; a < na; ++a) {
      const AggSpec& A = aggs[a];
      if (A.star || A.distinct || (A.fn != "sum" && A.fn != "avg") || !A.arg) continue;
      const BExpr* e = A.arg.get();
      FastAgg f;
      if (e->op == Op::kCast && !e->try_cast && e->type.kind == Kind::kDecimal) {
        f.scale = e->type.scale;
        f.precision = e->type.precision;
        e = e->kids[0].get();
      }
      if (e->op != Op::kCol) continue;
      const SegCol& c = sc[static_cast<size_t>(e->index)];
      if (c.constant || c.src != Src::kDecimal) continue;
      // The sum's scale must be the one Update would use.
      int want = A.exact_double ? A.exact_scale : A.result.scale;
      if (A.result.kind != Kind::kDecimal && !A.exact_double) continue;
      if (f.scale != want) continue;
      f.col = e->index;
      fast[a] = f;
    }
    std::vector<KeyMode> kmode(nk, KeyMode::kIntern);
    for (size_t k = 0; k < nk; ++k) {
      int d = keys[k].expr->dep;
      if (d >= 0 && !sc[static_cast<size_t>(d)].constant) {
        Src sr = sc[static_cast<size_t>(d)].src;
        if (sr == Src::kString || sr == Src::kTag) {
          kmode[k] = keys[k].expr->op == Op::kCol ? KeyMode::kCode : KeyMode::kCodeValue;
        }
        if (sr == Src::kTime) kmode[k] = KeyMode::kTime;
      }
    }
    std::vector<std::unordered_map<std::string, uint32_t>> intern_ids(nk);
    std::vector<std::vector<Value>> intern_vals(nk);
    std::string kbuf, vbuf;
    std::vector<std::vector<uint32_t>> code_ids(nk);
    for (size_t k = 0; k < nk; ++k) {
      if (kmode[k] == KeyMode::kCodeValue) {
        code_ids[k].assign(sc[static_cast<size_t>(keys[k].expr->dep)].dict->size(), UINT32_MAX);
      }
    }
    // The id of `v` among key k's values in this segment.
    auto intern = [&](size_t k, const Value& v) {
      vbuf.clear();
      AppendKey(v, &vbuf);
      auto it = intern_ids[k].find(vbuf);
      if (it != intern_ids[k].end()) return it->second;
      auto id = static_cast<uint32_t>(intern_vals[k].size());
      intern_vals[k].push_back(v);
      intern_ids[k].emplace(vbuf, id);
      return id;
    };
    struct Local {
      std::vector<uint32_t> ids;
      std::vector<AggState> st;
    };
    std::vector<Local> locals;
    std::unordered_map<std::string, uint32_t> local_index;
    std::vector<uint32_t> ids(nk);
    std::vector<uint32_t> sel;
    Value v;

    for (size_t rg = 0; rg < s.seg->num_row_groups() && !done; ++rg) {
      const size_t n = s.seg->row_group_rows(rg);
      for (auto& c : sc) c.loaded = false;
      sel.resize(n);
      for (size_t i = 0; i < n; ++i) sel[i] = static_cast<uint32_t>(i);
      for (const Conj* c : row_conjs) {
        for (int d : c->deps) RETURN_IF_ERROR(LoadColumn(s, rg, &sc[static_cast<size_t>(d)]));
        size_t w = 0;
        for (uint32_t r : sel) {
          ctx.row = r;
          RETURN_IF_ERROR(Eval(*c->expr, ctx, &v));
          if (!v.null() && v.i != 0) sel[w++] = r;
        }
        sel.resize(w);
        if (sel.empty()) break;
      }
      if (sel.empty()) continue;
      for (auto& c : sc) RETURN_IF_ERROR(LoadColumn(s, rg, &c));

      if (!aggregate) {
        for (uint32_t r : sel) {
          ctx.row = r;
          OutRow row;
          row.out.resize(outs.size());
          for (size_t i = 0; i < outs.size(); ++i)
            RETURN_IF_ERROR(Eval(*outs[i], ctx, &row.out[i]));
          row.hidden.resize(hidden.size());
          for (size_t i = 0; i < hidden.size(); ++i) {
            RETURN_IF_ERROR(Eval(*hidden[i], ctx, &row.hidden[i]));
          }
          if (stream) {
            RETURN_IF_ERROR(opt.row_sink(rs, row.out));
          } else {
            rows.push_back(std::move(row));
          }
          ++emitted;
          if (early_stop && emitted >= *q.limit) {
            done = true;
            break;
          }
        }
        continue;
      }

      for (uint32_t r : sel) {
        ctx.row = r;
        kbuf.clear();
        for (size_t k = 0; k < nk; ++k) {
          const BExpr& ke = *keys[k].expr;
          uint32_t id = 0;
          switch (kmode[k]) {
            case KeyMode::kCode:
              id = sc[static_cast<size_t>(ke.dep)].codes[r];
              break;
            case KeyMode::kCodeValue: {
              uint32_t code = sc[static_cast<size_t>(ke.dep)].codes[r];
              id = code_ids[k][code];
              if (id == UINT32_MAX) {
                RETURN_IF_ERROR(Eval(ke, ctx, &v));
                id = intern(k, v);
                code_ids[k][code] = id;
              }
              break;
            }
            case KeyMode::kTime: {
              int64_t t = sc[static_cast<size_t>(ke.dep)].ints[r];
              auto it = time_ids[k].find(t);
              if (it != time_ids[k].end()) {
                id = it->second;
              } else {
                RETURN_IF_ERROR(Eval(ke, ctx, &v));
                vbuf.clear();
                AppendKey(v, &vbuf);
                auto vi = time_val_index[k].find(vbuf);
                if (vi != time_val_index[k].end()) {
                  id = vi->second;
                } else {
                  id = static_cast<uint32_t>(time_vals[k].size());
                  time_vals[k].push_back(v);
                  time_val_index[k].emplace(vbuf, id);
                }
                time_ids[k].emplace(t, id);
              }
              break;
            }
            case KeyMode::kIntern:
              RETURN_IF_ERROR(Eval(ke, ctx, &v));
              id = intern(k, v);
              break;
          }
          ids[k] = id;
          kbuf.append(reinterpret_cast<const char*>(&id), sizeof id);
        }
        auto it = local_index.find(kbuf);
        uint32_t li = 0;
        if (it == local_index.end()) {
          li = static_cast<uint32_t>(locals.size());
          locals.push_back({ids, std::vector<AggState>(na)});
          local_index.emplace(kbuf, li);
        } else {
          li = it->second;
        }
        Local& L = locals[li];
        for (size_t a = 0; a < na; ++a) {
          if (aggs[a].star) {
            ++L.st[a].n;
            continue;
          }
          if (fast[a].col >= 0) {
            int128 x = sc[static_cast<size_t>(fast[a].col)].decs[r];
            const int128 lim = Pow10(fast[a].precision);
            if (Rescale(x, Decimal::kScale, fast[a].scale, &x) && x < lim && x > -lim) {
              AggState& S = L.st[a];
              ++S.n;
              if (__builtin_add_overflow(S.x, x, &S.x)) S.overflow = true;
              continue;
            }
            // Out of range: the general path reports the CAST error.
          }
          RETURN_IF_ERROR(Eval(*aggs[a].arg, ctx, &v));
          Update(aggs[a], &L.st[a], v);
        }
      }
    }
    if (!aggregate) continue;
    // Merge this segment's groups by value.
    for (auto& L : locals) {
      std::vector<Value> kv(nk);
      kbuf.clear();
      for (size_t k = 0; k < nk; ++k) {
        switch (kmode[k]) {
          case KeyMode::kCode:
            ctx.dict_col = keys[k].expr->dep;
            ctx.dict_code = L.ids[k];
            RETURN_IF_ERROR(Eval(*keys[k].expr, ctx, &kv[k]));
            ctx.dict_col = -1;
            break;
          case KeyMode::kTime:
            kv[k] = time_vals[k][L.ids[k]];
            break;
          case KeyMode::kCodeValue:
          case KeyMode::kIntern:
            kv[k] = intern_vals[k][L.ids[k]];
            break;
        }
        AppendKey(kv[k], &kbuf);
      }
      auto it = group_index.find(kbuf);
      if (it == group_index.end()) {
        group_index.emplace(kbuf, groups.size());
        groups.push_back({std::move(kv), std::move(L.st)});
      } else {
        Group& G = groups[it->second];
        for (size_t a = 0; a < na; ++a) Merge(aggs[a], &G.st[a], &L.st[a]);
      }
    }
  }

  // ---- Finish.
  if (aggregate) {
    if (nk == 0 && groups.empty()) groups.push_back({{}, std::vector<AggState>(na)});
    EvalCtx ctx;
    ctx.src = &src;
    for (auto& G : groups) {
      std::vector<Value> av(na);
      for (size_t a = 0; a < na; ++a) {
        std::string err;
        if (!Finish(aggs[a], &G.st[a], &av[a], &err)) return BadInput(src.name + ": " + err);
      }
      ctx.keys = &G.keys;
      ctx.aggs = &av;
      if (having) {
        Value hv;
        RETURN_IF_ERROR(Eval(*having, ctx, &hv));
        if (hv.null() || hv.i == 0) continue;
      }
      OutRow row;
      row.out.resize(outs.size());
      for (size_t i = 0; i < outs.size(); ++i) RETURN_IF_ERROR(Eval(*outs[i], ctx, &row.out[i]));
      row.hidden.resize(hidden.size());
      for (size_t i = 0; i < hidden.size(); ++i)
        RETURN_IF_ERROR(Eval(*hidden[i], ctx, &row.hidden[i]));
      rows.push_back(std::move(row));
    }
  }
  // Ties (and aggregate queries without ORDER BY) are ordered by the output
  // columns, so the same query always prints the same rows in the same order.
  if (!order.empty() || aggregate) {
    auto less = [&](const OutRow& x, const OutRow& y) {
      for (const auto& o : order) {
        const Value& a = o.out >= 0 ? x.out[static_cast<size_t>(o.out)]
                                    : x.hidden[static_cast<size_t>(o.hidden)];
        const Value& c = o.out >= 0 ? y.out[static_cast<size_t>(o.out)]
                                    : y.hidden[static_cast<size_t>(o.hidden)];
        int r = 0;
        if (a.null() || c.null()) {
          r = CompareNullable(a, c, o.nulls_first);
        } else {
          r = Compare(a, c);
          if (o.desc) r = -r;
        }
        if (r != 0) return r < 0;
      }
      for (size_t i = 0; i < x.out.size(); ++i) {
        int r = CompareNullable(x.out[i], y.out[i], false);
        if (r != 0) return r < 0;
      }
      return false;
    };
    std::stable_sort(rows.begin(), rows.end(), less);
  }
  if (q.limit && static_cast<int64_t>(rows.size()) > *q.limit) {
    rows.resize(static_cast<size_t>(*q.limit));
  }
  rs.rows.reserve(rows.size());
  for (auto& r : rows) rs.rows.push_back(std::move(r.out));
  return rs;
}

}  // namespace sagebox::sql
