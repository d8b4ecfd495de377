// decimal.h: exact fixed-point money and quantities.
//
// Every amount sagebox sums is a Decimal: a 128-bit integer count of
// 10^-10 units. AWS writes up to 10 decimals in its billing exports, so this
// scale holds every input value exactly, and 128 bits hold the sum of any
// realistic bill (about 1.7e28 dollars) without overflow. Floating point is
// never used for anything that is summed.
//
// Thread-safety: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace sagebox {

// GCC and Clang spell 128-bit integers as an extension; name them once.
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

class Decimal {
 public:
  static constexpr int kScale = 10;
  static constexpr int64_t kOne = 10'000'000'000;  // 10^kScale

  constexpr Decimal() = default;
  static constexpr Decimal FromRaw(int128 raw) {
    Decimal d;
    d.raw_ = raw;
    return d;
  }
  static constexpr Decimal FromInt(int64_t units) {
    return FromRaw(static_cast<int128>(units) * kOne);
  }

  // Parses "12", "-0.25", "4.32E-8", "1e3", "+.5". Digits beyond the 10th
  // decimal are rounded half away from zero (as a DECIMAL(38,10) cast does).
  // Returns false, leaving *out unchanged, if `text` is not a number or is
  // out of range; an empty string is not a number (callers decide what
  // empty means).
  static bool Parse(std::string_view text, Decimal* out);

  constexpr int128 raw() const { return raw_; }
  constexpr bool is_zero() const { return raw_ == 0; }
  // True when the value fits in an int64 count of 10^-10 units; the store
  // uses this to choose a column's width.
  constexpr bool fits_int64() const { return raw_ >= INT64_MIN && raw_ <= INT64_MAX; }

  constexpr Decimal operator+(Decimal o) const { return FromRaw(raw_ + o.raw_); }
  constexpr Decimal operator-(Decimal o) const { return FromRaw(raw_ - o.raw_); }
  constexpr Decimal operator-() const { return FromRaw(-raw_); }
  constexpr Decimal& operator+=(Decimal o) {
    raw_ += o.raw_;
    return *this;
  }
  constexpr Decimal& operator-=(Decimal o) {
    raw_ -= o.raw_;
    return *this;
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>.
  constexpr auto operator<=>(const Decimal&) const = default;

  // Products and quotients rounded half away from zero to 10^-10, for
  // rate x hours and savings arithmetic. Exact whenever the true result has
  // at most 10 decimals (0.0464 * 24 = 1.1136). The intermediate is 128-bit:
  // |a*b| must stay below ~1.7e18 (units), far above any bill; beyond that
  // the result saturates rather than wrapping. Division by zero returns 0
  // (callers check the divisor when zero means something).
  static Decimal Mul(Decimal a, Decimal b);
  static Decimal Div(Decimal a, Decimal b);
  constexpr Decimal operator*(int64_t k) const { return FromRaw(raw_ * k); }

  // Exact decimal text without trailing zeros: "0", "1.1136", "-0.0000000432".
  std::string ToString() const;
  // Rounded half away from zero to `decimals` places, always that many: "22.13".
  std::string ToFixed(int decimals) const;
  // For display and statistics only (never summed).
  double ToDouble() const;

 private:
  int128 raw_ = 0;
};

}  // namespace sagebox
