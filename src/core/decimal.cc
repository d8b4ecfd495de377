#include "core/decimal.h"

#include <algorithm>

namespace sagebox {

namespace {
constexpr int128 kMaxRaw = static_cast<int128>(1) << 120;  // far below overflow

int128 Pow10(int n) {
  int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}
}  // namespace

bool Decimal::Parse(std::string_view s, Decimal* out) {
  size_t i = 0;
  const size_t n = s.size();
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  // Collect the significant digits as an integer mantissa and a decimal
  // exponent: value = mantissa * 10^exp10.
  int128 mant = 0;
  int exp10 = 0;
  int digits = 0;
  bool dropped_nonzero = false;  // digits beyond 38 significant (never in AWS data)
  bool any = false;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
    any = true;
    if (digits < 38) {
      mant = mant * 10 + (s[i] - '0');
      if (mant) ++digits;
    } else {
      ++exp10;
      dropped_nonzero |= s[i] != '0';
    }
  }
  if (i < n && s[i] == '.') {
    ++i;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
      any = true;
      if (digits < 38) {
        mant = mant * 10 + (s[i] - '0');
        if (mant) ++digits;
        --exp10;
      } else {
        dropped_nonzero |= s[i] != '0';
      }
    }
  }
  if (!any) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= n) return false;
    int e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (e < 10000) e = e * 10 + (s[i] - '0');
    }
    exp10 += eneg ? -e : e;
  }
  if (i != n) return false;
  (void)dropped_nonzero;
  // Rescale to kScale decimals.
  int shift = exp10 + kScale;
  int128 raw = 0;
  if (mant == 0) {
    raw = 0;
  } else if (shift >= 0) {
    if (shift > 38 - digits) return false;  // out of range
    raw = mant * Pow10(shift);
    if (raw > kMaxRaw) return false;
  } else {
    int cut = -shift;
    if (cut > 38) {
      raw = 0;
    } else {
      int128 p = Pow10(cut);
      raw = mant / p;
      int128 rem = mant % p;
      if (rem >= p - rem) ++raw;  // half away from zero (sign applied below); no overflow
    }
  }
  *out = FromRaw(neg ? -raw : raw);
  return true;
}

namespace {
std::string U128ToString(uint128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

std::string Format(int128 raw, int scale, bool trim) {
  bool neg = raw < 0;
  uint128 mag = neg ? static_cast<uint128>(-raw) : static_cast<uint128>(raw);
  std::string digits = U128ToString(mag);
  if (static_cast<int>(digits.size()) <= scale)
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  std::string ip = digits.substr(0, digits.size() - static_cast<size_t>(scale));
  std::string fp = digits.substr(digits.size() - static_cast<size_t>(scale));
  if (trim) {
    while (!fp.empty() && fp.back() == '0') fp.pop_back();
  }
  std::string out;
  bool zero = mag == 0;
  if (neg && !zero) out.push_back('-');
  out += ip;
  if (!fp.empty()) out += "." + fp;
  return out;
}
}  // namespace

std::string Decimal::ToString() const { return Format(raw_, kScale, /*trim=*/true); }

std::string Decimal::ToFixed(int decimals) const {
  decimals = std::clamp(decimals, 0, kScale);
  int128 p = Pow10(kScale - decimals);
  int128 q = raw_ / p, r = raw_ % p;
  if (r * 2 >= p) ++q;
  if (r * 2 <= -p) --q;
  return Format(q, decimals, /*trim=*/false);
}

namespace {
// q = n / d rounded half away from zero; d != 0.
int128 DivRound(int128 n, int128 d) {
  int128 q = n / d, r = n % d;
  int128 twice = r < 0 ? -r * 2 : r * 2;
  int128 ad = d < 0 ? -d : d;
  if (twice >= ad) q += ((n < 0) != (d < 0)) ? -1 : 1;
  return q;
}
constexpr int128 kSat = (static_cast<int128>(1) << 126);
}  // namespace

Decimal Decimal::Mul(Decimal a, Decimal b) {
  int128 p = 0;
  if (__builtin_mul_overflow(a.raw_, b.raw_, &p)) {
    return FromRaw(((a.raw_ < 0) != (b.raw_ < 0)) ? -kSat : kSat);
  }
  return FromRaw(DivRound(p, kOne));
}

Decimal Decimal::Div(Decimal a, Decimal b) {
  if (b.raw_ == 0) return Decimal();
  int128 n = 0;
  if (__builtin_mul_overflow(a.raw_, static_cast<int128>(kOne), &n)) {
    return FromRaw(((a.raw_ < 0) != (b.raw_ < 0)) ? -kSat : kSat);
  }
  return FromRaw(DivRound(n, b.raw_));
}

double Decimal::ToDouble() const { return static_cast<double>(raw_) / static_cast<double>(kOne); }

}  // namespace sagebox
