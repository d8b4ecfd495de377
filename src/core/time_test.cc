#include "core/time.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace sagebox {
namespace {

constexpr UnixSeconds kJan1 = 1'704'067'200;  // 2024-01-01T00:00:00Z

TEST(ParseTimestamp, AcceptsBillingForms) {
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00Z"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00Z"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.000Z"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00.123456Z"), kJan1);  // fraction dropped
  EXPECT_EQ(ParseTimestamp("20240101T000000.000Z"), kJan1);
  EXPECT_EQ(ParseTimestamp("20240101T000000Z"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00+00:00"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00-00:00"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01 00:00:00"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:00:00"), kJan1);
  EXPECT_EQ(ParseTimestamp("2024-09-18 23:00:00"), 1'726'700'400);
  EXPECT_EQ(ParseTimestamp("2024-01-01T05:30:07Z"), kJan1 + 5 * 3600 + 30 * 60 + 7);
  EXPECT_EQ(ParseTimestamp("20240101T053007.5Z"), kJan1 + 5 * 3600 + 30 * 60 + 7);
  EXPECT_EQ(ParseTimestamp("2024-01-01T23:59:59Z"), kJan1 + 86399);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -1);
}

TEST(ParseTimestamp, RejectsImpossibleDatesAndTimes) {
  for (std::string_view s :
       {"2024-02-30", "2024-02-30T00:00:00Z", "2024-13-01", "2024-00-10", "2024-01-00",
        "2024-01-32", "2024-04-31", "2023-02-29", "2024-01-01T25:00:00Z", "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z", "2024-01-01T23:59:61Z", "20241301T000000Z", "20240230"}) {
    EXPECT_EQ(ParseTimestamp(s), std::nullopt) << s;
  }
}

TEST(ParseTimestamp, RejectsJunk) {
  for (std::string_view s :
       std::initializer_list<std::string_view>{"",
                                               "junk",
                                               "2024",
                                               "2024-",
                                               "2024-01",
                                               "2024-1-01",
                                               "2024-01-1",
                                               "2024/01/01",
                                               "2024-01-01T",
                                               "2024-01-01T00",
                                               "2024-01-01T00:",
                                               "2024-01-01T0:00:00Z",
                                               "2024-01-01T00:00:00.Z",
                                               "2024-01-01T00:00:00ZZ",
                                               "2024-01-01T00:00:00Zjunk",
                                               "2024-01-01T00:00:00+01:00",
                                               "2024-01-01T00:00:00+0000",
                                               "2024-01-01T00:00:00+00:00Z",
                                               "2024-01-01X00:00:00Z",
                                               "2024-01-01 ",
                                               " 2024-01-01",
                                               "2024-01-01T00:00:00 Z",
                                               "2024-01-01+00:00",
                                               "2024-0101",
                                               "202401-01",
                                               "2024-01-01T0000",
                                               "abcd-ef-gh",
                                               "2024-01-01T00:00:00\n",
                                               std::string_view("2024-01-01\0", 11)}) {
    EXPECT_EQ(ParseTimestamp(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(ParseTimestamp, LeapYears) {
  EXPECT_EQ(ParseTimestamp("2024-02-29T12:00:00Z"),
            static_cast<UnixSeconds>(DaysFromCivil(2024, 2, 29)) * 86400 + 12 * 3600);
  EXPECT_TRUE(ParseTimestamp("2000-02-29").has_value());   // divisible by 400
  EXPECT_FALSE(ParseTimestamp("1900-02-29").has_value());  // divisible by 100
  EXPECT_FALSE(ParseTimestamp("2100-02-29").has_value());
  EXPECT_FALSE(ParseTimestamp("2023-02-29").has_value());
  EXPECT_EQ(*ParseTimestamp("2024-03-01") - *ParseTimestamp("2024-02-28"), 2 * 86400);
  EXPECT_EQ(*ParseTimestamp("2023-03-01") - *ParseTimestamp("2023-02-28"), 86400);
}

TEST(ParseDate, Strict) {
  EXPECT_EQ(ParseDate("2024-01-01"), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(ParseDate("1970-01-01"), 0);
  EXPECT_EQ(ParseDate("1969-12-31"), -1);
  EXPECT_EQ(ParseDate("2024-02-29"), DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(ParseDate("2024-01-01"), 19723);
  for (std::string_view s :
       {"", "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "20240101", "2024-1-01", "2024-01-1",
        "2024-1-1", " 2024-01-01", "2024-01-01 ", "2024-02-30", "2023-02-29", "2024-13-01",
        "2024-00-01", "2024-01-00", "2024/01/01", "2024-01", "junk", "+024-01-01", "2024-01-01Z"}) {
    EXPECT_EQ(ParseDate(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(Civil, RoundTripsThroughDays) {
  for (Days d = DaysFromCivil(1960, 1, 1); d <= DaysFromCivil(2060, 12, 31); ++d) {
    int y;
    unsigned m, dd;
    CivilFromDays(d, &y, &m, &dd);
    ASSERT_EQ(DaysFromCivil(y, m, dd), d);
  }
}

TEST(DayOf, FloorsTowardMinusInfinity) {
  EXPECT_EQ(DayOf(0), 0);
  EXPECT_EQ(DayOf(86399), 0);
  EXPECT_EQ(DayOf(86400), 1);
  EXPECT_EQ(DayOf(-1), -1);
  EXPECT_EQ(DayOf(-86400), -1);
  EXPECT_EQ(DayOf(-86401), -2);
  EXPECT_EQ(DayOf(kJan1 + 3600), DaysFromCivil(2024, 1, 1));
}

TEST(Months, MonthStartAndNextMonthStart) {
  EXPECT_EQ(MonthStart(DaysFromCivil(2023, 12, 15)), DaysFromCivil(2023, 12, 1));
  EXPECT_EQ(NextMonthStart(DaysFromCivil(2023, 12, 15)), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(MonthStart(DaysFromCivil(2023, 12, 31)), DaysFromCivil(2023, 12, 1));
  EXPECT_EQ(NextMonthStart(DaysFromCivil(2023, 12, 31)), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(MonthStart(DaysFromCivil(2024, 1, 1)), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(NextMonthStart(DaysFromCivil(2024, 1, 1)), DaysFromCivil(2024, 2, 1));
  EXPECT_EQ(NextMonthStart(DaysFromCivil(2024, 1, 31)), DaysFromCivil(2024, 2, 1));
  EXPECT_EQ(NextMonthStart(DaysFromCivil(2024, 2, 29)), DaysFromCivil(2024, 3, 1));
  EXPECT_EQ(MonthStart(DaysFromCivil(2024, 2, 29)), DaysFromCivil(2024, 2, 1));
  EXPECT_EQ(MonthStart(-1), DaysFromCivil(1969, 12, 1));
  EXPECT_EQ(NextMonthStart(-1), 0);
  // Every day of a few years maps into [MonthStart, NextMonthStart).
  for (Days d = DaysFromCivil(2022, 12, 1); d < DaysFromCivil(2025, 2, 1); ++d) {
    Days a = MonthStart(d), b = NextMonthStart(d);
    ASSERT_LE(a, d);
    ASSERT_GT(b, d);
    ASSERT_EQ(MonthStart(b - 1), a);
    ASSERT_EQ(FormatDate(a).substr(8), "01");
    ASSERT_EQ(FormatDate(b).substr(8), "01");
    ASSERT_TRUE(b - a >= 28 && b - a <= 31) << FormatDate(d);
  }
}

TEST(Format, Values) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(DaysFromCivil(2024, 1, 31)), "2024-01-31");
  EXPECT_EQ(FormatMonth(DaysFromCivil(2024, 1, 31)), "2024-01");
  EXPECT_EQ(FormatMonth(DaysFromCivil(2023, 12, 1)), "2023-12");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(kJan1 + 30 * 86400 + 5 * 3600), "2024-01-31T05:00:00Z");
  EXPECT_EQ(FormatTimestamp(1'726'700'400), "2024-09-18T23:00:00Z");
}

TEST(Format, RoundTrips) {
  for (Days d = DaysFromCivil(1999, 12, 1); d <= DaysFromCivil(2031, 1, 1); ++d) {
    std::string s = FormatDate(d);
    ASSERT_EQ(ParseDate(s), d) << s;
    ASSERT_EQ(ParseTimestamp(s), static_cast<UnixSeconds>(d) * 86400) << s;
    std::string month = FormatMonth(d);
    ASSERT_EQ(ParseDate(month + "-01"), MonthStart(d)) << month;
  }
  // Timestamps, including before the epoch, in steps that hit every field.
  for (UnixSeconds t = -200'000'000; t < 2'000'000'000; t += 997'331) {
    std::string s = FormatTimestamp(t);
    ASSERT_EQ(ParseTimestamp(s), t) << s;
    std::string basic = s;  // 2024-01-31T05:00:00Z -> 20240131T050000Z
    std::erase(basic, '-');
    std::erase(basic, ':');
    ASSERT_EQ(ParseTimestamp(basic), t) << basic;
  }
  for (std::string_view s : {"2024-02-29T23:59:59Z", "2000-01-01T00:00:00Z", "2023-12-31T12:34:56Z",
                             "1969-07-20T20:17:40Z"}) {
    auto t = ParseTimestamp(s);
    ASSERT_TRUE(t.has_value()) << s;
    EXPECT_EQ(FormatTimestamp(*t), s);
  }
}

}  // namespace
}  // namespace sagebox
