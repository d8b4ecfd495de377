#include "core/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sagebox {
namespace {

constexpr int128 Pow10For(int n) {
  int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// Parses `text`, failing the test if it is rejected.
Decimal P(std::string_view text) {
  Decimal d = Decimal::FromRaw(12345);  // sentinel: must be overwritten
  EXPECT_TRUE(Decimal::Parse(text, &d)) << "rejected: \"" << text << "\"";
  return d;
}

// True if Parse rejects `text` and leaves the output untouched.
bool Rejects(std::string_view text) {
  const Decimal sentinel = Decimal::FromRaw(987654321);
  Decimal d = sentinel;
  if (Decimal::Parse(text, &d)) return false;
  EXPECT_EQ(d, sentinel) << "Parse changed *out on failure for \"" << text << "\"";
  return true;
}

TEST(DecimalParse, Integer) {
  EXPECT_EQ(P("12").raw(), int128{12} * Decimal::kOne);
  EXPECT_EQ(P("12"), Decimal::FromInt(12));
  EXPECT_EQ(P("0"), Decimal());
  EXPECT_EQ(P("-7"), Decimal::FromInt(-7));
  EXPECT_EQ(P("+7"), Decimal::FromInt(7));
  EXPECT_EQ(P("007"), Decimal::FromInt(7));
}

TEST(DecimalParse, Fractions) {
  EXPECT_EQ(P("-0.25").raw(), -2'500'000'000);
  EXPECT_EQ(P("+.5").raw(), 5'000'000'000);
  EXPECT_EQ(P(".5").raw(), 5'000'000'000);
  EXPECT_EQ(P("5.").raw(), 5 * Decimal::kOne);
  EXPECT_EQ(P("0.0464").raw(), 464'000'000);
  EXPECT_EQ(P("0.0000000001").raw(), 1);
  EXPECT_EQ(P("-0.0000000001").raw(), -1);
  EXPECT_EQ(P("1234567.8901234567").raw(), int128{12'345'678'901'234'567});
}

TEST(DecimalParse, Exponents) {
  EXPECT_EQ(P("4.32E-8").raw(), 432);
  EXPECT_EQ(P("4.32e-8").raw(), 432);
  EXPECT_EQ(P("1e3"), Decimal::FromInt(1000));
  EXPECT_EQ(P("1E+3"), Decimal::FromInt(1000));
  EXPECT_EQ(P("-2.5e1"), Decimal::FromInt(-25));
  EXPECT_EQ(P("1e-10").raw(), 1);
  EXPECT_EQ(P("1e-11").raw(), 0);
  EXPECT_EQ(P("5e-11").raw(), 1);  // rounds half away from zero
  EXPECT_EQ(P("-5e-11").raw(), -1);
  EXPECT_EQ(P("0e999999"), Decimal());
  EXPECT_EQ(P("1e-99999"), Decimal());
  EXPECT_EQ(P("12345e-4").raw(), 12'345'000'000);
}

TEST(DecimalParse, RoundsHalfAwayFromZeroAtTheEleventhDecimal) {
  EXPECT_EQ(P("0.00000000005").raw(), 1);
  EXPECT_EQ(P("-0.00000000005").raw(), -1);
  EXPECT_EQ(P("0.00000000004").raw(), 0);
  EXPECT_EQ(P("-0.00000000004").raw(), 0);
  EXPECT_EQ(P("0.000000000049999").raw(), 0);
  EXPECT_EQ(P("0.00000000015").raw(), 2);
  EXPECT_EQ(P("0.00000000025").raw(), 3);  // not banker's rounding
  EXPECT_EQ(P("1.99999999995").raw(), 2 * Decimal::kOne);
  EXPECT_EQ(P("-1.99999999995").raw(), -2 * Decimal::kOne);
  EXPECT_EQ(P("-1.99999999994").raw(), -19'999'999'999);
}

TEST(DecimalParse, RejectsNonNumbers) {
  for (std::string_view s :
       {".",   "",    "1e",   "abc", "1.2.3", "+",   "-",    "+-1", "--1", "e5",   ".e5", "1e+",
        "1e-", "1ex", "1e5x", " 1",  "1 ",    "1,5", "0x10", "NaN", "inf", "1..2", "1-",  "١"}) {
    EXPECT_TRUE(Rejects(s)) << "accepted: \"" << s << "\"";
  }
}

TEST(DecimalParse, RejectsOutOfRange) {
  EXPECT_TRUE(Rejects("1" + std::string(1000, '0')));
  EXPECT_TRUE(Rejects("1e30"));
  EXPECT_TRUE(Rejects("-1e30"));
  EXPECT_TRUE(Rejects("1e99999999999"));
  // 2^120 raw units is the documented ceiling: about 1.329e26.
  EXPECT_TRUE(Rejects("200000000000000000000000000"));
  EXPECT_EQ(P("100000000000000000000000000"), Decimal::FromRaw(Pow10For(36)));
}

TEST(DecimalParse, VeryLongDigitStrings) {
  // Many leading zeros are not significant.
  EXPECT_EQ(P(std::string(1000, '0') + "1.5").raw(), 15'000'000'000);
  // Far-away fractional digits round to zero.
  EXPECT_EQ(P("0." + std::string(1000, '0') + "9"), Decimal());
  // Long fractions are rounded at the 10th decimal.
  EXPECT_EQ(P("0." + std::string(1000, '1')).raw(), 1'111'111'111);
  EXPECT_EQ(P("0." + std::string(1000, '9')), Decimal::FromInt(1));
  EXPECT_EQ(P("-0." + std::string(1000, '9')), Decimal::FromInt(-1));
  EXPECT_EQ(P("0.4" + std::string(1000, '9')).raw(), 5'000'000'000);
  // 38 significant digits just below the 10th decimal round up to it.
  EXPECT_EQ(P("0.0000000000" + std::string(38, '9')).raw(), 1);
  EXPECT_EQ(P("-0.0000000000" + std::string(38, '9')).raw(), -1);
  EXPECT_EQ(P("0.0000000000" + std::string(38, '4')).raw(), 0);
  // 20 integer digits and 10 decimals stay exact.
  EXPECT_EQ(P("12345678901234567890.1234567891").ToString(), "12345678901234567890.1234567891");
  EXPECT_EQ(P("-12345678901234567890.1234567891").ToString(), "-12345678901234567890.1234567891");
}

// Values up to the documented range keep all 10 decimals: 1e26 + 1e-10 is
// raw 10^36 + 1, which fits (the ceiling is 2^120 ~ 1.33e36).
TEST(DecimalParse, LargeValuesKeepAllTenDecimals) {
  EXPECT_EQ(P("100000000000000000000000000.0000000001").raw(), Pow10For(36) + 1);
  EXPECT_EQ(P("123456789012345678901234567.1234567891").ToString(),
            "123456789012345678901234567.1234567891");
  // The 11th decimal still rounds.
  EXPECT_EQ(P("100000000000000000000000000.00000000005").raw(), Pow10For(36) + 1);
}

TEST(DecimalToString, TrimsTrailingZeros) {
  EXPECT_EQ(P("1.1136").ToString(), "1.1136");
  EXPECT_EQ(P("1.1136000").ToString(), "1.1136");
  EXPECT_EQ(Decimal().ToString(), "0");
  EXPECT_EQ(P("-0").ToString(), "0");
  EXPECT_EQ(P("-0.0000000000").ToString(), "0");
  EXPECT_EQ(P("-0.0000000432").ToString(), "-0.0000000432");
  EXPECT_EQ(P("4.32E-8").ToString(), "0.0000000432");
  EXPECT_EQ(P("12").ToString(), "12");
  EXPECT_EQ(P("1e3").ToString(), "1000");
  EXPECT_EQ(P("-0.25").ToString(), "-0.25");
  EXPECT_EQ(P("10.5").ToString(), "10.5");
  EXPECT_EQ(Decimal::FromRaw(1).ToString(), "0.0000000001");
  EXPECT_EQ(Decimal::FromRaw(int128{1} << 100).ToString(), "126765060022822940149.6703205376");
  EXPECT_EQ(Decimal::FromRaw(-(int128{1} << 100)).ToString(), "-126765060022822940149.6703205376");
}

TEST(DecimalToFixed, RoundsHalfAwayFromZero) {
  EXPECT_EQ(P("22.128").ToFixed(2), "22.13");
  EXPECT_EQ(P("1.1136").ToFixed(2), "1.11");
  EXPECT_EQ(P("0.005").ToFixed(2), "0.01");
  EXPECT_EQ(P("0.0049999999").ToFixed(2), "0.00");
  EXPECT_EQ(P("-0.005").ToFixed(2), "-0.01");
  EXPECT_EQ(P("-0.0049999999").ToFixed(2), "0.00");  // no "-0.00"
  EXPECT_EQ(P("-22.128").ToFixed(2), "-22.13");
  EXPECT_EQ(P("-22.124").ToFixed(2), "-22.12");
  EXPECT_EQ(P("9.995").ToFixed(2), "10.00");
  EXPECT_EQ(P("-9.995").ToFixed(2), "-10.00");
  EXPECT_EQ(P("2.5").ToFixed(0), "3");
  EXPECT_EQ(P("-2.5").ToFixed(0), "-3");
  EXPECT_EQ(P("-0.4").ToFixed(0), "0");
  EXPECT_EQ(Decimal().ToFixed(2), "0.00");
  EXPECT_EQ(P("7").ToFixed(2), "7.00");
  EXPECT_EQ(P("-0.5").ToFixed(3), "-0.500");
}

TEST(DecimalToFixed, ClampsDecimals) {
  EXPECT_EQ(P("1").ToFixed(10), "1.0000000000");
  EXPECT_EQ(P("0.0000000001").ToFixed(10), "0.0000000001");
  EXPECT_EQ(P("1.25").ToFixed(20), "1.2500000000");
  EXPECT_EQ(P("1.5").ToFixed(-3), "2");
}

TEST(DecimalArithmetic, SumsAreExact) {
  Decimal tenth = P("0.1");
  Decimal sum;
  for (int i = 0; i < 10; ++i) sum += tenth;
  EXPECT_EQ(sum, Decimal::FromInt(1));
  EXPECT_EQ(sum.ToString(), "1");

  Decimal big;
  for (int i = 0; i < 1'000'000; ++i) big += tenth;
  EXPECT_EQ(big, Decimal::FromInt(100'000));
}

TEST(DecimalArithmetic, ArticleNumbers) {
  // ml.t3.medium notebook: $0.0464/hour for a day.
  Decimal notebook;
  for (int h = 0; h < 24; ++h) notebook += P("0.0464");
  EXPECT_EQ(notebook, P("1.1136"));
  EXPECT_EQ(notebook.ToString(), "1.1136");
  EXPECT_EQ(notebook.ToFixed(2), "1.11");

  Decimal endpoint;
  for (int h = 0; h < 24; ++h) endpoint += P("0.922");
  EXPECT_EQ(endpoint, P("22.128"));
  EXPECT_EQ(endpoint.ToString(), "22.128");
  EXPECT_EQ(endpoint.ToFixed(2), "22.13");
}

TEST(DecimalArithmetic, OperatorsAndPredicates) {
  Decimal a = P("1.5"), b = P("0.25");
  EXPECT_EQ(a + b, P("1.75"));
  EXPECT_EQ(a - b, P("1.25"));
  EXPECT_EQ(b - a, P("-1.25"));
  EXPECT_EQ(-a, P("-1.5"));
  Decimal c = a;
  c -= b;
  EXPECT_EQ(c, P("1.25"));
  EXPECT_LT(b, a);
  EXPECT_GT(a, -a);
  EXPECT_TRUE(Decimal().is_zero());
  EXPECT_FALSE(b.is_zero());
  EXPECT_DOUBLE_EQ(P("-2.75").ToDouble(), -2.75);

  EXPECT_TRUE(Decimal::FromRaw(INT64_MAX).fits_int64());
  EXPECT_TRUE(Decimal::FromRaw(INT64_MIN).fits_int64());
  EXPECT_FALSE(Decimal::FromRaw(int128{INT64_MAX} + 1).fits_int64());
  EXPECT_FALSE(Decimal::FromRaw(int128{INT64_MIN} - 1).fits_int64());
}

TEST(DecimalRoundTrip, ToStringParsesBack) {
  // A deterministic spread of raw values, small and wide.
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 5000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int128 raw = static_cast<int128>(x >> (i % 64));
    if (i % 3 == 0) raw *= 1'000'000'000;  // wider than int64
    if (i % 2) raw = -raw;
    Decimal d = Decimal::FromRaw(raw);
    Decimal back;
    ASSERT_TRUE(Decimal::Parse(d.ToString(), &back)) << d.ToString();
    EXPECT_EQ(back, d) << d.ToString();
  }
}

TEST(DecimalMulDiv, ArticleWorkedNumbers) {
  auto D = [](const char* t) {
    Decimal d;
    EXPECT_TRUE(Decimal::Parse(t, &d)) << t;
    return d;
  };
  // Part 2: ml.t2.medium, Studio ml.t3.medium, Data Wrangler ml.m5.4xlarge.
  EXPECT_EQ(Decimal::Mul(D("0.0464"), D("24")).ToString(), "1.1136");
  EXPECT_EQ(Decimal::Mul(D("0.05"), D("24")).ToString(), "1.2");
  EXPECT_EQ(Decimal::Mul(D("0.922"), D("24")).ToString(), "22.128");
  EXPECT_EQ(Decimal::Mul(D("-0.922"), D("24")).ToString(), "-22.128");
  EXPECT_EQ((D("0.922") * 730).ToString(), "673.06");
}

TEST(DecimalMulDiv, RoundsHalfAwayFromZero) {
  Decimal a = Decimal::FromRaw(5), half;  // 5e-10
  ASSERT_TRUE(Decimal::Parse("0.5", &half));
  EXPECT_EQ(Decimal::Mul(a, half).raw(), 3);    // 2.5e-10 -> 3e-10
  EXPECT_EQ(Decimal::Mul(-a, half).raw(), -3);  // symmetric
  Decimal one = Decimal::FromInt(1), three = Decimal::FromInt(3);
  EXPECT_EQ(Decimal::Div(one, three).ToString(), "0.3333333333");
  EXPECT_EQ(Decimal::Div(Decimal::FromInt(2), three).ToString(), "0.6666666667");
  EXPECT_EQ(Decimal::Div(-Decimal::FromInt(2), three).ToString(), "-0.6666666667");
  EXPECT_EQ(Decimal::Div(Decimal::FromInt(1113), Decimal::FromInt(24)).ToString(), "46.375");
}

TEST(DecimalMulDiv, DivideByZeroIsZeroAndOverflowSaturates) {
  EXPECT_TRUE(Decimal::Div(Decimal::FromInt(7), Decimal()).is_zero());
  Decimal big = Decimal::FromRaw(static_cast<int128>(1) << 100);
  EXPECT_GT(Decimal::Mul(big, big), Decimal::FromInt(1));
  EXPECT_LT(Decimal::Mul(big, -big), Decimal::FromInt(-1));
}

}  // namespace
}  // namespace sagebox
