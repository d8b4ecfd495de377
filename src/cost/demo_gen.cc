#include "cost/demo_gen.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "core/time.h"

namespace sagebox::cost {
namespace {

constexpr int64_t kOne = Decimal::kOne;  // 1.0 in 10^-10 units
constexpr int64_t kMilli = kOne / 1000;  // 0.001
constexpr int64_t kCent = kOne / 100;    // 0.01

// ---------------------------------------------------------------------------
// Deterministic randomness.

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t Mix(uint64_t a, uint64_t b) { return SplitMix(a ^ SplitMix(b + 0x632be59bd9b4e019ULL)); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return SplitMix(state_);
  }
  // Uniform in [lo, hi].
  int Uniform(int lo, int hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(Next() % span);
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& a) {
    return a[static_cast<size_t>(Uniform(0, static_cast<int>(N) - 1))];
  }

 private:
  uint64_t state_;
};

uint64_t HashText(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return SplitMix(h);
}

std::string Hex(uint64_t key, int digits) {
  std::string s;
  uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    if (i % 16 == 0) v = SplitMix(key + static_cast<uint64_t>(i));
    s.push_back("0123456789abcdef"[v & 15]);
    v >>= 4;
  }
  return s;
}

std::string Uuid(uint64_t key) {
  const std::string h = Hex(key, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
         "-" + h.substr(20, 12);
}

// ---------------------------------------------------------------------------
// Exact money arithmetic on int64 counts of 10^-10.

int64_t ParseMoney(std::string_view text) {
  Decimal d;
  const bool ok = Decimal::Parse(text, &d);
  (void)ok;
  return static_cast<int64_t>(d.raw());
}

// a / b rounded half away from zero (b > 0).
int64_t RoundDiv(int128 a, int128 b) {
  const int128 q = (a < 0 ? a - b / 2 : a + b / 2) / b;
  return static_cast<int64_t>(q);
}
// a * b for two raw amounts, rounded to 10 decimals.
int64_t MulRaw(int64_t a, int64_t b) { return RoundDiv(static_cast<int128>(a) * b, kOne); }
// Rounds a raw amount to a multiple of `unit`.
int64_t RoundTo(int64_t raw, int64_t unit) { return RoundDiv(raw, unit) * unit; }

// ---------------------------------------------------------------------------
// Text formatting into a raw buffer (the hot path of the writers). Callers
// guarantee room: a row never exceeds OutFile::kSlack bytes.

inline void Put(char*& p, char c) { *p++ = c; }
inline void Cat(char*& p, std::string_view s) {
  if (s.empty()) return;  // a default string_view's data() is null
  std::memcpy(p, s.data(), s.size());
  p += s.size();
}
template <size_t N>
inline void Lit(char*& p, const char (&s)[N]) {
  std::memcpy(p, s, N - 1);
  p += N - 1;
}

void PutU64(char*& p, uint64_t v) {
  char b[20];
  int n = 20;
  do {
    b[--n] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  std::memcpy(p, b + n, static_cast<size_t>(20 - n));
  p += 20 - n;
}

void PutI64(char*& p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    PutU64(p, 0 - static_cast<uint64_t>(v));
  } else {
    PutU64(p, static_cast<uint64_t>(v));
  }
}

uint64_t Abs(int64_t raw, char*& p) {
  if (raw < 0) {
    *p++ = '-';
    return 0 - static_cast<uint64_t>(raw);
  }
  return static_cast<uint64_t>(raw);
}

// The 10 fractional digits of `f` (< kOne), zero padded; returns the count
// without trailing zeros.
int Frac10(uint64_t f, char* b) {
  for (int i = 9; i >= 0; --i) {
    b[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  int n = 10;
  while (n > 0 && b[n - 1] == '0') --n;
  return n;
}

// Shortest exact decimal: "0", "1", "0.0464", "-0.0000000432".
void PutPlain(char*& p, int64_t raw) {
  const uint64_t u = Abs(raw, p);
  PutU64(p, u / kOne);
  char b[10];
  const int n = Frac10(u % kOne, b);
  if (n > 0) {
    *p++ = '.';
    std::memcpy(p, b, static_cast<size_t>(n));
    p += n;
  }
}

// As Java's Double.toString writes the value, which is how AWS writes the
// numbers of its CUR CSVs: "0.0", "1.0", "0.0464", and scientific notation
// below 10^-3 or from 10^7: "4.32E-8", "-7.0E-10", "1.25E7".
void PutJava(char*& p, int64_t raw) {
  if (raw == 0) {
    Lit(p, "0.0");
    return;
  }
  const uint64_t u = Abs(raw, p);
  if (u >= 10'000'000ULL && u < 100'000'000'000'000'000ULL) {
    PutU64(p, u / kOne);
    *p++ = '.';
    char b[10];
    const int n = Frac10(u % kOne, b);
    if (n == 0) {
      *p++ = '0';
    } else {
      std::memcpy(p, b, static_cast<size_t>(n));
      p += n;
    }
    return;
  }
  char b[20];
  int k = 20;
  uint64_t v = u;
  do {
    b[--k] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  const char* digits = b + k;
  const int n = 20 - k;
  int last = n;
  while (last > 1 && digits[last - 1] == '0') --last;
  *p++ = digits[0];
  *p++ = '.';
  if (last == 1) {
    *p++ = '0';
  } else {
    std::memcpy(p, digits + 1, static_cast<size_t>(last - 1));
    p += last - 1;
  }
  *p++ = 'E';
  PutI64(p, n - 1 - Decimal::kScale);
}

// Exactly `decimals` (>= 10) decimals: "0.0464000000".
void PutFixed(char*& p, int64_t raw, int decimals) {
  const uint64_t u = Abs(raw, p);
  PutU64(p, u / kOne);
  *p++ = '.';
  Frac10(u % kOne, p);
  p += 10;
  for (int i = 10; i < decimals; ++i) *p++ = '0';
}
void PutFixed10(char*& p, int64_t raw) { PutFixed(p, raw, 10); }
void PutFixed11(char*& p, int64_t raw) { PutFixed(p, raw, 11); }
void PutFixed15(char*& p, int64_t raw) { PutFixed(p, raw, 15); }

std::string Plain(int64_t raw) {
  char b[48];
  char* p = b;
  PutPlain(p, raw);
  return std::string(b, p);
}

// Remembers the text of recently formatted values: rates, `1.0` and the
// costs of hourly lines repeat on most rows.
class NumCache {
 public:
  using Fn = void (*)(char*&, int64_t);
  explicit NumCache(Fn fn) : fn_(fn) {
    for (Entry& e : entries_) e.len = kEmpty;
  }
  void Put(char*& p, int64_t v) {
    Entry& e = entries_[(static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ULL) >> 56];
    if (e.len == kEmpty || e.value != v) {
      char* q = e.text;
      fn_(q, v);
      e.len = static_cast<uint8_t>(q - e.text);
      e.value = v;
    }
    std::memcpy(p, e.text, e.len);
    p += e.len;
  }

 private:
  static constexpr uint8_t kEmpty = 0xff;
  struct Entry {
    int64_t value = 0;
    uint8_t len = kEmpty;
    char text[47];
  };
  Fn fn_;
  std::array<Entry, 256> entries_;
};

std::string CsvEscape(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o.push_back('"');
    o.push_back(c);
  }
  o.push_back('"');
  return o;
}

// FOCUS sample style: every string quoted.
std::string FocusQuote(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o.push_back('"');
    o.push_back(c);
  }
  o.push_back('"');
  return o;
}

enum class TsStyle {
  kSeconds,  // 2024-01-01T00:00:00Z       legacy CUR, identity/TimeInterval
  kMillis,   // 2024-01-01T00:00:00.000Z   CUR 2.0
  kMinutes,  // 2024-01-01T00:00Z          CUR 1.0 (Athena) CSV
  kSpace,    // 2024-01-01 00:00:00        FOCUS
  kCompact,  // 20240101T000000.000Z       legacy manifest billingPeriod
};

std::string FormatTs(UnixSeconds t, TsStyle style) {
  const Days day = DayOf(t);
  const int64_t sod = t - static_cast<int64_t>(day) * 86400;
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  const int64_t hh = sod / 3600, mm = sod / 60 % 60, ss = sod % 60;
  switch (style) {
    case TsStyle::kSeconds:
      return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", y, m, d, hh, mm, ss);
    case TsStyle::kMillis:
      return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.000Z", y, m, d, hh, mm, ss);
    case TsStyle::kMinutes:
      return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}Z", y, m, d, hh, mm);
    case TsStyle::kSpace:
      return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", y, m, d, hh, mm, ss);
    case TsStyle::kCompact:
      return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}.000Z", y, m, d, hh, mm, ss);
  }
  return {};
}

std::string Ymd(Days day) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  return fmt::format("{:04d}{:02d}{:02d}", y, m, d);
}

// ---------------------------------------------------------------------------
// The world: regions, prices, products, accounts.

struct RegionInfo {
  std::string_view code;
  std::string_view prefix;  // usage type region code
  std::string_view name;
  int permille;  // price relative to us-east-1; 0 = explicit EU price list
};
constexpr std::array<RegionInfo, 8> kRegions = {{
    {"us-east-1", "USE1", "US East (N. Virginia)", 1000},
    {"us-west-2", "USW2", "US West (Oregon)", 1000},
    {"eu-west-1", "EU", "EU (Ireland)", 0},
    {"us-east-2", "USE2", "US East (Ohio)", 1000},
    {"eu-central-1", "EUC1", "EU (Frankfurt)", 1200},
    {"ap-northeast-1", "APN1", "Asia Pacific (Tokyo)", 1290},
    {"ap-southeast-2", "APS2", "Asia Pacific (Sydney)", 1250},
    {"ca-central-1", "CAN1", "Canada (Central)", 1110},
}};

// SageMaker on-demand prices (us-east-1 and eu-west-1, $/hour; storage $/GB-Mo),
// from the seed articles and the public price list.
struct Price {
  const char* key;
  const char* us;
  const char* eu;
};
constexpr std::array<Price, 13> kPrices = {{
    {"ml.t2.medium", "0.0464", "0.051"},
    {"ml.t3.medium", "0.05", "0.055"},
    {"ml.m5.large", "0.115", "0.128"},
    {"ml.m5.xlarge", "0.23", "0.257"},
    {"ml.m5.4xlarge", "0.922", "1.028"},
    {"ml.c5.xlarge", "0.204", "0.228"},
    {"ml.g4dn.xlarge", "0.7364", "0.8218"},
    {"ml.p3.2xlarge", "3.825", "4.131"},
    {"gp2", "0.14", "0.154"},
    {"s3", "0.023", "0.023"},
    {"s3-get", "0.0000004", "0.0000004"},
    {"ec2-transfer", "0.01", "0.01"},
    {"cloudtrail", "0.00002", "0.00002"},
}};

int64_t PriceOf(std::string_view key, int region) {
  for (const Price& p : kPrices) {
    if (key != p.key) continue;
    const RegionInfo& r = kRegions[static_cast<size_t>(region)];
    if (r.permille == 0) return ParseMoney(p.eu);
    const int64_t us = ParseMoney(p.us);
    // Other regions: scaled instance prices with 4 decimals, like AWS's list
    // prices; tiny per-request prices are the same everywhere.
    if (r.permille == 1000 || us < kCent) return us;
    return RoundTo(us * r.permille / 1000, kOne / 10000);
  }
  assert(false && "unknown price key");
  return 0;
}

enum ProductId { kSageMaker, kSmSavingsPlans, kS3, kEc2, kCloudTrail, kNumProducts };
struct ProductInfo {
  std::string_view code;
  std::string_view name;
  std::string_view focus_service;
  std::string_view focus_category;
};
constexpr std::array<ProductInfo, kNumProducts> kProducts = {{
    {"AmazonSageMaker", "Amazon SageMaker", "Amazon SageMaker", "AI and Machine Learning"},
    {"MachineLearningSavingsPlans", "SageMaker Savings Plans", "SageMaker Savings Plans",
     "AI and Machine Learning"},
    {"AmazonS3", "Amazon Simple Storage Service", "Amazon Simple Storage Service", "Storage"},
    {"AmazonEC2", "Amazon Elastic Compute Cloud", "Amazon Elastic Compute Cloud", "Compute"},
    {"AWSCloudTrail", "AWS CloudTrail", "AWS CloudTrail", "Management and Governance"},
}};

constexpr std::array<const char*, 8> kAccountNames = {"ml-platform", "data-science", "analytics",
                                                      "research",    "forecasting",  "vision",
                                                      "nlp",         "sandbox"};
constexpr std::array<int, 3> kTaxBasisPoints = {825, 600, 0};
constexpr std::array<const char*, 4> kTeams = {"ml", "data-science", "analytics", "research"};
constexpr std::array<const char*, 6> kProjects = {"churn", "forecast", "recsys",
                                                  "fraud", "vision",   "search"};

constexpr std::string_view kEntity = "Amazon Web Services, Inc.";

// ---------------------------------------------------------------------------
// Line items and the resources that produce them.

enum class LineType : uint8_t {
  kUsage,
  kSpCovered,
  kSpNegation,
  kSpRecurringFee,
  kSpUpfrontFee,
  kCredit,
  kTax,
};
constexpr std::array<std::string_view, 7> kLineTypeNames = {"Usage",
                                                            "SavingsPlanCoveredUsage",
                                                            "SavingsPlanNegation",
                                                            "SavingsPlanRecurringFee",
                                                            "SavingsPlanUpfrontFee",
                                                            "Credit",
                                                            "Tax"};

bool IsSavingsPlanLine(LineType t) {
  return t == LineType::kSpCovered || t == LineType::kSpNegation ||
         t == LineType::kSpRecurringFee || t == LineType::kSpUpfrontFee;
}

enum class Sched : uint8_t {
  kNone,          // emits nothing by itself (job volumes, tax, fees)
  kAlwaysOn,      // every hour
  kWorkHours,     // Mon-Fri, [start_hour, end_hour) UTC
  kBurst,         // 24 h on days [burst_first, burst_last] of each month
  kStorageDaily,  // one GB-Mo line a day
  kJobDaily,      // one run a day, numbered from `epoch`
  kJobWeekly,     // one run a week on `weekday`, numbered from `epoch`
  kJobAdHoc,      // runs on `chance` percent of weekdays, named by start time
  kMiscDaily,     // small non-SageMaker lines, one a day
};

enum class Misc : uint8_t { kNone, kS3Storage, kS3Requests, kEc2Transfer, kCloudTrail };

struct Resource {
  int product = kSageMaker;
  int account = 0;
  int region = -1;  // -1: no region (fees, tax, credit)
  Sched sched = Sched::kNone;
  Misc misc = Misc::kNone;
  bool spot = false;
  std::string usage_type, operation, resource_id, resource_type, instance_type, instance_family,
      product_family, pricing_unit, focus_unit, az, sku, rate_code, rate_id;
  std::string desc_csv, desc_focus, negation_desc_csv;
  std::string team, project;
  std::string cur2_product, cur2_resource_tags, cur2_tags, focus_tags;
  int64_t rate = 0;     // unblended rate
  int64_t od_rate = 0;  // public on-demand rate
  int64_t sp_rate = 0;  // Savings Plan rate; 0 = not eligible
  int start_hour = 0, end_hour = 0;
  int burst_first = 0, burst_last = 0;
  int min_mh = 0, max_mh = 0;  // job duration range in 1/1000 hour
  int weekday = 1;
  int chance = 100;
  int64_t gb = 0;
  Days epoch = 0;
  std::string job_prefix, job_base;
  int storage = -1;       // index of the job's volume resource
  int sp_candidate = -1;  // index in SavingsPlan::candidates
  uint64_t key = 0;
};

struct Item {
  LineType type = LineType::kUsage;
  const Resource* res = nullptr;
  std::string_view resource_id;
  UnixSeconds start = 0, end = 0;
  int64_t amount = 0;
  bool has_rate = true;
  int64_t rate = 0;
  int64_t cost = 0;  // unblended
  bool has_od = true;
  int64_t od_rate = 0, od_cost = 0;
  int64_t sp_rate = 0, sp_effective = 0, sp_total = 0, sp_used = 0, sp_amort_upfront = 0,
          sp_recurring = 0;
  int64_t amortized = 0;  // Cost Explorer amortized cost of this line
  uint64_t id = 0;
};

struct Account {
  std::string id, name, subscription_id;
  int tax_bp = 0;
};

struct SavingsPlan {
  bool active = false;
  std::string arn, id, start_text, end_text;
  UnixSeconds start = 0, end = 0;
  int64_t hourly_commitment = 0;
  int64_t recurring_hourly = 0;
  int64_t upfront = 0;
  int fee_res = -1, upfront_res = -1;
  std::vector<int> candidates;  // resource indices, in coverage order
};

struct Period {
  int year = 0;
  unsigned month = 0;
  Days first_day = 0;
  int days = 0;
  int hours = 0;
  UnixSeconds start = 0, end = 0;
  std::string label;  // 2024-01
  bool last = false;
  int index = 0;
};

int Weekday(Days d) { return static_cast<int>(((d % 7) + 7 + 4) % 7); }  // 0 = Sunday

// ---------------------------------------------------------------------------
// Sinks receive the line items of one period at a time.

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void BeginPeriod(const Period& p) = 0;
  virtual void Add(const Item& it) = 0;
  virtual void EndPeriod(const Period& p) = 0;
  const Status& status() const { return status_; }

 protected:
  Status status_;
};

class NullSink : public Sink {
 public:
  void BeginPeriod(const Period&) override {}
  void Add(const Item&) override {}
  void EndPeriod(const Period&) override {}
};

// ---------------------------------------------------------------------------
// The generator: builds the resources once, then streams each period.

class Generator {
 public:
  // `workspaces` (>= accounts * regions) team workspaces are spread round
  // robin over the accounts and regions; each holds a set of resources.
  Generator(const DemoOptions& opt, int first_year, unsigned first_month, int64_t workspaces);

  void Run(Sink& sink);
  const std::vector<DemoPeriodTotals>& totals() const { return totals_; }
  const std::vector<Period>& periods() const { return periods_; }
  const std::vector<Account>& accounts() const { return accounts_; }
  const SavingsPlan& savings_plan() const { return sp_; }
  uint64_t seed() const { return opt_.seed; }

 private:
  struct Ws {  // one team workspace in one account and region
    int a, r, k;
    bool canon;
    std::string sfx, team, project;
    Rng rng;
  };

  void BuildWorkspace(int a, int r, int k);
  Resource& AddResource(const Ws& w, int product, Sched sched);
  void AddInstance(Ws& w, Sched sched, std::string_view kind, std::string_view label,
                   std::string_view op, std::string_view instance, std::string_view arn_tail,
                   std::string_view rtype, bool tagged, int volume_gb);
  void AddJob(Ws& w, Sched sched, std::string_view kind, std::string_view label,
              std::string_view op, std::string_view instance, std::string_view rtype,
              std::string base, int start_hour, int min_mh, int max_mh, int volume_gb,
              std::string_view volume_kind, std::string_view volume_label, bool spot, bool tagged);
  void AddMisc(Ws& w);
  void BuildSavingsPlan();
  void Finish(Resource& r);

  bool RunningAt(const Resource& r, UnixSeconds t, const Period& p) const;
  void EmitPeriod(const Period& p, Sink& sink);
  void ComputeCoverage(const Period& p);
  void EmitSavingsPlanFees(const Period& p, Sink& sink);
  void EmitResource(const Resource& r, const Period& p, Sink& sink);
  void EmitJobs(const Resource& r, const Period& p, Sink& sink);
  void EmitMisc(const Resource& r, const Period& p, Sink& sink);
  void EmitCreditAndTax(const Period& p, Sink& sink);
  void Out(Item& it, Sink& sink);

  DemoOptions opt_;
  int64_t workspaces_;
  std::vector<Period> periods_;
  std::vector<Account> accounts_;
  std::vector<Resource> res_;
  SavingsPlan sp_;
  std::vector<int> tax_res_;  // account * kNumProducts + product
  int credit_res_ = -1;

  // Per-period state.
  std::vector<uint8_t> covered_;  // hour * candidates + candidate
  std::vector<int64_t> used_;     // used commitment per hour
  std::vector<int64_t> pretax_;   // account * kNumProducts + product
  std::vector<int64_t> lines_;    // account * kNumProducts + product
  uint64_t period_key_ = 0;
  uint64_t counter_ = 0;
  DemoPeriodTotals cur_;
  std::vector<DemoPeriodTotals> totals_;
  std::string run_arn_;
};

Generator::Generator(const DemoOptions& opt, int first_year, unsigned first_month,
                     int64_t workspaces)
    : opt_(opt), workspaces_(workspaces) {
  int y = first_year;
  unsigned m = first_month;
  for (int i = 0; i < opt.months; ++i) {
    Period p;
    p.year = y;
    p.month = m;
    p.index = i;
    p.first_day = DaysFromCivil(y, m, 1);
    const Days next = NextMonthStart(p.first_day);
    p.days = next - p.first_day;
    p.hours = p.days * 24;
    p.start = static_cast<UnixSeconds>(p.first_day) * 86400;
    p.end = static_cast<UnixSeconds>(next) * 86400;
    p.label = fmt::format("{:04d}-{:02d}", y, m);
    p.last = i + 1 == opt.months;
    periods_.push_back(p);
    if (++m == 13) {
      m = 1;
      ++y;
    }
  }

  for (int a = 0; a < opt.accounts; ++a) {
    Account acct;
    if (a < 9) {
      acct.id = std::string(12, static_cast<char>('1' + a));
    } else {
      Rng rng(Mix(opt.seed, 1000 + static_cast<uint64_t>(a)));
      acct.id = std::to_string(rng.Uniform(1, 9));
      while (acct.id.size() < 12) acct.id.push_back(static_cast<char>('0' + rng.Uniform(0, 9)));
    }
    acct.name = kAccountNames[static_cast<size_t>(a) % kAccountNames.size()];
    if (a >= static_cast<int>(kAccountNames.size())) acct.name += fmt::format("-{}", a);
    acct.subscription_id = std::to_string(1000000000ULL + Mix(opt.seed, 77 + a) % 9000000000ULL);
    acct.tax_bp = kTaxBasisPoints[static_cast<size_t>(a) % kTaxBasisPoints.size()];
    accounts_.push_back(acct);
  }

  const int64_t units = static_cast<int64_t>(opt.accounts) * opt.regions;
  for (int a = 0; a < opt.accounts; ++a) {
    for (int r = 0; r < opt.regions; ++r) {
      const int64_t unit = static_cast<int64_t>(a) * opt.regions + r;
      const int64_t n = std::max<int64_t>(1, workspaces_ / units + (unit < workspaces_ % units));
      for (int64_t k = 0; k < n; ++k) BuildWorkspace(a, r, static_cast<int>(k));
    }
  }
  BuildSavingsPlan();

  // Pseudo-resources of the lines that belong to no resource.
  for (int a = 0; a < opt.accounts; ++a) {
    for (int prod = 0; prod < kNumProducts; ++prod) {
      Resource t;
      t.product = prod;
      t.account = a;
      const std::string desc =
          fmt::format("Tax for product code {}", kProducts[static_cast<size_t>(prod)].code);
      t.desc_csv = CsvEscape(desc);
      t.desc_focus = FocusQuote(desc);
      Finish(t);
      t.sku.clear();
      t.rate_code.clear();
      t.rate_id.clear();
      tax_res_.push_back(static_cast<int>(res_.size()));
      res_.push_back(std::move(t));
    }
  }
  Resource c;
  c.product = kSageMaker;
  c.account = 0;
  c.desc_csv = "AWS Promotional Credit";
  c.desc_focus = FocusQuote(c.desc_csv);
  Finish(c);
  c.sku.clear();
  c.rate_code.clear();
  c.rate_id.clear();
  credit_res_ = static_cast<int>(res_.size());
  res_.push_back(std::move(c));
}

Resource& Generator::AddResource(const Ws& w, int product, Sched sched) {
  Resource r;
  r.product = product;
  r.account = w.a;
  r.region = w.r;
  r.sched = sched;
  r.team = w.team;
  r.project = w.project;
  r.key = Mix(opt_.seed, res_.size() * 7919 + 17);
  res_.push_back(std::move(r));
  return res_.back();
}

std::string RegionalUsageType(int region, std::string_view kind, bool prefix_us_east_1) {
  if (region == 0 && !prefix_us_east_1) return std::string(kind);
  return fmt::format("{}-{}", kRegions[static_cast<size_t>(region)].prefix, kind);
}

std::string SageMakerArn(int region, const Account& a, std::string_view tail) {
  return fmt::format("arn:aws:sagemaker:{}:{}:{}", kRegions[static_cast<size_t>(region)].code, a.id,
                     tail);
}

std::string InstanceFamily(std::string_view instance) {
  // ml.m5.xlarge -> m5
  const size_t a = instance.find('.');
  const size_t b = instance.find('.', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return {};
  return std::string(instance.substr(a + 1, b - a - 1));
}

void Generator::AddInstance(Ws& w, Sched sched, std::string_view kind, std::string_view label,
                            std::string_view op, std::string_view instance,
                            std::string_view arn_tail, std::string_view rtype, bool tagged,
                            int volume_gb) {
  const RegionInfo& reg = kRegions[static_cast<size_t>(w.r)];
  const Account& acct = accounts_[static_cast<size_t>(w.a)];
  Resource& r = AddResource(w, kSageMaker, sched);
  r.usage_type = RegionalUsageType(w.r, fmt::format("{}{}", kind, instance), true);
  r.operation = std::string(op);
  r.resource_id = SageMakerArn(w.r, acct, arn_tail);
  r.resource_type = std::string(rtype);
  r.instance_type = std::string(instance);
  r.instance_family = InstanceFamily(instance);
  r.product_family = "ML Instance";
  r.pricing_unit = "Hrs";
  r.focus_unit = "Hours";
  r.rate = r.od_rate = PriceOf(instance, w.r);
  r.sp_rate = RoundTo(r.rate * 64 / 100, kOne / 1000000);  // 36% off, 1-year partial upfront
  const std::string desc =
      fmt::format("${} per {} {} hour in {}", Plain(r.rate), label, instance, reg.name);
  r.desc_csv = CsvEscape(desc);
  r.desc_focus = FocusQuote(desc);
  if (!tagged) r.team.clear(), r.project.clear();
  Finish(r);
  if (volume_gb > 0) {
    const std::string id = r.resource_id;
    const bool keep_tags = tagged;
    Resource& v = AddResource(w, kSageMaker, Sched::kStorageDaily);
    v.usage_type = RegionalUsageType(w.r, "Notebk:VolumeUsage.gp2", true);
    v.operation = "CreateVolume-Gp2";
    v.resource_id = id;
    v.resource_type = "notebook-instance";
    v.product_family = "ML Storage";
    v.pricing_unit = "GB-Mo";
    v.focus_unit = "GB-Mo";
    v.rate = v.od_rate = PriceOf("gp2", w.r);
    v.gb = volume_gb;
    const std::string vdesc =
        fmt::format("${} per GB-Mo of Notebook Instance ML storage in {}", Plain(v.rate), reg.name);
    v.desc_csv = CsvEscape(vdesc);
    v.desc_focus = FocusQuote(vdesc);
    if (!keep_tags) v.team.clear(), v.project.clear();
    Finish(v);
  }
}

void Generator::AddJob(Ws& w, Sched sched, std::string_view kind, std::string_view label,
                       std::string_view op, std::string_view instance, std::string_view rtype,
                       std::string base, int start_hour, int min_mh, int max_mh, int volume_gb,
                       std::string_view volume_kind, std::string_view volume_label, bool spot,
                       bool tagged) {
  const RegionInfo& reg = kRegions[static_cast<size_t>(w.r)];
  const Account& acct = accounts_[static_cast<size_t>(w.a)];
  const size_t index = res_.size();
  {
    Resource& r = AddResource(w, kSageMaker, sched);
    r.usage_type = RegionalUsageType(w.r, fmt::format("{}:{}", kind, instance), true);
    r.operation = std::string(op);
    r.resource_type = std::string(rtype);
    r.job_prefix = SageMakerArn(w.r, acct, fmt::format("{}/", rtype));
    r.job_base = std::move(base);
    r.instance_type = std::string(instance);
    r.instance_family = InstanceFamily(instance);
    r.product_family = "ML Instance";
    r.pricing_unit = "Hrs";
    r.focus_unit = "Hours";
    r.od_rate = PriceOf(instance, w.r);
    r.rate = spot ? RoundTo(r.od_rate * 3 / 10, kOne / 10000) : r.od_rate;
    r.spot = spot;
    r.start_hour = start_hour;
    r.min_mh = min_mh;
    r.max_mh = max_mh;
    const std::string desc =
        fmt::format("${} per {} {} hour in {}", Plain(r.rate), label, instance, reg.name);
    r.desc_csv = CsvEscape(desc);
    r.desc_focus = FocusQuote(desc);
    if (!tagged) r.team.clear(), r.project.clear();
    // Families start on the second day of the first period (so the first
    // daily run, `<family>-001`, is on 2024-01-02 for the defaults); weekly
    // ones on the first matching weekday after that.
    Days epoch = periods_.front().first_day + 1 + (w.canon ? 0 : w.rng.Uniform(0, 4));
    if (sched == Sched::kJobWeekly) {
      r.weekday = 1;  // Monday
      while (Weekday(epoch) != r.weekday) ++epoch;
    }
    if (sched == Sched::kJobAdHoc) r.chance = w.canon ? 40 : w.rng.Uniform(15, 45);
    r.epoch = epoch;
    Finish(r);
  }
  if (volume_gb > 0) {
    Resource& v = AddResource(w, kSageMaker, Sched::kNone);
    v.usage_type = RegionalUsageType(w.r, fmt::format("{}:VolumeUsage.gp2", volume_kind), true);
    v.operation = std::string(op);
    v.resource_type = std::string(rtype);
    v.product_family = "ML Storage";
    v.pricing_unit = "GB-Mo";
    v.focus_unit = "GB-Mo";
    v.rate = v.od_rate = PriceOf("gp2", w.r);
    v.gb = volume_gb;
    const std::string vdesc =
        fmt::format("${} per GB-Mo of {} ML storage in {}", Plain(v.rate), volume_label, reg.name);
    v.desc_csv = CsvEscape(vdesc);
    v.desc_focus = FocusQuote(vdesc);
    if (!tagged) v.team.clear(), v.project.clear();
    Finish(v);
    res_[index].storage = static_cast<int>(res_.size()) - 1;
  }
}

void Generator::AddMisc(Ws& w) {
  const RegionInfo& reg = kRegions[static_cast<size_t>(w.r)];
  const Account& acct = accounts_[static_cast<size_t>(w.a)];
  const std::string bucket = fmt::format("sagemaker-{}-{}{}", reg.code, acct.id, w.sfx);
  {
    Resource& r = AddResource(w, kS3, Sched::kMiscDaily);
    r.misc = Misc::kS3Storage;
    r.usage_type = RegionalUsageType(w.r, "TimedStorage-ByteHrs", false);
    r.operation = "StandardStorage";
    r.resource_id = bucket;
    r.resource_type = "bucket";
    r.product_family = "Storage";
    r.pricing_unit = "GB-Mo";
    r.focus_unit = "GB-Mo";
    r.rate = r.od_rate = PriceOf("s3", w.r);
    r.gb = w.rng.Uniform(20, 800);
    const std::string desc =
        fmt::format("${} per GB - first 50 TB / month of storage used", Plain(r.rate));
    r.desc_csv = CsvEscape(desc);
    r.desc_focus = FocusQuote(desc);
    Finish(r);
  }
  {
    Resource& r = AddResource(w, kS3, Sched::kMiscDaily);
    r.misc = Misc::kS3Requests;
    r.usage_type = RegionalUsageType(w.r, "Requests-Tier2", false);
    r.operation = "GetObject";
    r.resource_id = bucket;
    r.resource_type = "bucket";
    r.product_family = "API Request";
    r.pricing_unit = "Requests";
    r.focus_unit = "Requests";
    r.rate = r.od_rate = PriceOf("s3-get", w.r);
    const std::string desc =
        fmt::format("${} per 1,000 GET and all other requests", Plain(r.rate * 1000));
    r.desc_csv = CsvEscape(desc);
    r.desc_focus = FocusQuote(desc);
    if (w.rng.Chance(50)) r.team.clear(), r.project.clear();
    Finish(r);
  }
  {
    Resource& r = AddResource(w, kEc2, Sched::kMiscDaily);
    r.misc = Misc::kEc2Transfer;
    r.usage_type = RegionalUsageType(w.r, "DataTransfer-Regional-Bytes", true);
    r.operation = "InterZone-In";
    r.resource_id = "i-0" + Hex(Mix(r.key, 3), 16);
    r.resource_type = "instance";
    r.az = fmt::format("{}a", reg.code);
    r.product_family = "Data Transfer";
    r.pricing_unit = "GB";
    r.focus_unit = "GB";
    r.rate = r.od_rate = PriceOf("ec2-transfer", w.r);
    const std::string desc = fmt::format(
        "${} per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs or ELB",
        Plain(r.rate));
    r.desc_csv = CsvEscape(desc);
    r.desc_focus = FocusQuote(desc);
    r.team.clear();
    r.project.clear();
    Finish(r);
  }
  if (w.r == 0 && w.k == 0) {
    Resource& r = AddResource(w, kCloudTrail, Sched::kMiscDaily);
    r.misc = Misc::kCloudTrail;
    r.usage_type = RegionalUsageType(w.r, "PaidEventsRecorded", true);
    r.operation = "None";
    r.resource_id =
        fmt::format("arn:aws:cloudtrail:{}:{}:trail/management-events", reg.code, acct.id);
    r.resource_type = "trail";
    r.product_family = "Management Tools - AWS CloudTrail Paid Events Recorded";
    r.pricing_unit = "Events";
    r.focus_unit = "Events";
    r.rate = r.od_rate = PriceOf("cloudtrail", w.r);
    const std::string desc = fmt::format("{} per 100000 events recorded", Plain(r.rate * 100000));
    r.desc_csv = CsvEscape(desc);
    r.desc_focus = FocusQuote(desc);
    r.team.clear();
    r.project.clear();
    Finish(r);
  }
}

void Generator::BuildWorkspace(int a, int r, int k) {
  Ws w{a,
       r,
       k,
       a == 0 && r == 0 && k == 0,
       k == 0 ? "" : fmt::format("-{:03d}", k),
       "",
       "",
       Rng(Mix(opt_.seed, (static_cast<uint64_t>(a) << 40) ^ (static_cast<uint64_t>(r) << 32) ^
                              static_cast<uint64_t>(k)))};
  w.team = w.canon ? "ml" : w.rng.Pick(kTeams);
  w.project = w.canon ? "churn" : w.rng.Pick(kProjects);
  const auto tag = [&w](int untagged_percent) { return !w.rng.Chance(untagged_percent); };
  const auto hex28 = [&w]() { return Hex(w.rng.Next(), 28); };
  const std::string domain = w.canon ? "d-domain1234" : "d-" + Hex(w.rng.Next(), 12);
  const std::string user = w.canon ? "user1" : fmt::format("user{}", w.rng.Uniform(2, 99));

  // Notebook instances (seed part 2): one always on, one in working hours,
  // a GPU one, and a stopped one whose storage is still billed.
  if (w.canon || w.rng.Chance(70)) {
    static constexpr std::array<const char*, 3> kTypes = {"ml.t2.medium", "ml.t3.medium",
                                                          "ml.m5.xlarge"};
    const std::string type = w.canon ? "ml.t2.medium" : w.rng.Pick(kTypes);
    const std::string name = "dev-notebook" + w.sfx;
    AddInstance(w, Sched::kAlwaysOn, "Notebk:", "Notebook", "RunInstance", type,
                "notebook-instance/" + name, "notebook-instance", w.canon || tag(20), 5);
  }
  if (w.canon || w.rng.Chance(80)) {
    static constexpr std::array<const char*, 2> kTypes = {"ml.t3.medium", "ml.m5.xlarge"};
    const std::string type = w.canon ? "ml.t3.medium" : w.rng.Pick(kTypes);
    const std::string name = "analyst-notebook" + w.sfx;
    size_t i = res_.size();
    AddInstance(w, Sched::kWorkHours, "Notebk:", "Notebook", "RunInstance", type,
                "notebook-instance/" + name, "notebook-instance", w.canon || tag(20), 10);
    res_[i].start_hour = 13;
    res_[i].end_hour = 22;
  }
  if (w.canon || w.rng.Chance(5)) {
    const std::string name = "gpu-notebook" + w.sfx;
    size_t i = res_.size();
    AddInstance(w, Sched::kWorkHours, "Notebk:", "Notebook", "RunInstance", "ml.p3.2xlarge",
                "notebook-instance/" + name, "notebook-instance", true, 50);
    res_[i].start_hour = 14;
    res_[i].end_hour = 23;
  }
  if (w.canon || w.rng.Chance(30)) {
    // Stopped: only its volume is billed.
    const std::string name = "old-notebook" + w.sfx;
    const std::string id =
        SageMakerArn(w.r, accounts_[static_cast<size_t>(a)], "notebook-instance/" + name);
    const bool tagged = !w.canon && tag(20);
    Resource& v = AddResource(w, kSageMaker, Sched::kStorageDaily);
    v.usage_type = RegionalUsageType(w.r, "Notebk:VolumeUsage.gp2", true);
    v.operation = "CreateVolume-Gp2";
    v.resource_id = id;
    v.resource_type = "notebook-instance";
    v.product_family = "ML Storage";
    v.pricing_unit = "GB-Mo";
    v.focus_unit = "GB-Mo";
    v.rate = v.od_rate = PriceOf("gp2", w.r);
    v.gb = 20;
    const std::string vdesc = fmt::format("${} per GB-Mo of Notebook Instance ML storage in {}",
                                          Plain(v.rate), kRegions[static_cast<size_t>(r)].name);
    v.desc_csv = CsvEscape(vdesc);
    v.desc_focus = FocusQuote(vdesc);
    if (!tagged) v.team.clear(), v.project.clear();
    Finish(v);
  }

  // Studio apps (seed part 2): a KernelGateway app left on, one used in
  // working hours, and a Data Wrangler app left running for days.
  if (w.canon || w.rng.Chance(50)) {
    const std::string app = w.canon ? "datascience-1-0-ml-t3-medium-1abf3407f667f989be9d86559395"
                                    : "datascience-1-0-ml-t3-medium-" + hex28();
    AddInstance(w, Sched::kAlwaysOn, "Studio:KernelGateway-", "Studio-Notebook", "CreateApp",
                "ml.t3.medium", fmt::format("app/{}/{}/KernelGateway/{}", domain, user, app), "app",
                w.canon || tag(20), 0);
  }
  if (w.canon || w.rng.Chance(70)) {
    const std::string app = "datascience-1-0-ml-m5-large-" + hex28();
    size_t i = res_.size();
    AddInstance(w, Sched::kWorkHours, "Studio:KernelGateway-", "Studio-Notebook", "CreateApp",
                "ml.m5.large", fmt::format("app/{}/{}/KernelGateway/{}", domain, user, app), "app",
                w.canon || tag(20), 0);
    res_[i].start_hour = 14;
    res_[i].end_hour = 22;
  }
  if (w.canon || w.rng.Chance(40)) {
    const std::string app = "sagemaker-data-wrang-ml-m5-4xlarge-" +
                            (w.canon ? std::string("b741c1a025d542c78bb538373f2d") : hex28());
    size_t i = res_.size();
    AddInstance(w, Sched::kBurst, "Studio_DW:KernelGateway-", "Studio-DataWrangler", "CreateApp",
                "ml.m5.4xlarge", fmt::format("app/{}/{}/KernelGateway/{}", domain, user, app),
                "app", !w.canon && tag(20), 0);
    res_[i].burst_first = w.canon ? 3 : w.rng.Uniform(1, 20);
    res_[i].burst_last = res_[i].burst_first + (w.canon ? 6 : w.rng.Uniform(1, 5));
  }

  // Jobs (seed part 3).
  if (w.canon || w.rng.Chance(90)) {
    static constexpr std::array<const char*, 2> kTypes = {"ml.m5.xlarge", "ml.c5.xlarge"};
    AddJob(w, Sched::kJobDaily, "Processing", "Processing", "RunProcessingJob",
           w.canon ? "ml.m5.xlarge" : w.rng.Pick(kTypes), "processing-job",
           "features-daily" + w.sfx, 2, 800, 1600, 30, "Processing", "Processing", false,
           w.canon || tag(20));
  }
  if (w.canon || w.rng.Chance(50)) {
    AddJob(w, Sched::kJobWeekly, "processing_DW", "DataWrangler Processing", "RunProcessingJob",
           "ml.m5.4xlarge", "processing-job", "dw-flow-weekly" + w.sfx, 4, 1500, 3000, 50,
           "processing_DW", "Data Wrangler Processing", false, w.canon || tag(20));
  }
  if (w.canon || w.rng.Chance(70)) {
    AddJob(w, Sched::kJobAdHoc, "Train", "Training", "RunTrainingJob", "ml.m5.xlarge",
           "training-job", "churn-xgb" + w.sfx, 10, 500, 2000, 20, "Train", "Training Job", false,
           w.canon || tag(20));
  }
  if (w.canon || w.rng.Chance(30)) {
    AddJob(w, Sched::kJobAdHoc, "Train", "Training", "RunTrainingJob", "ml.p3.2xlarge",
           "training-job", "resnet-finetune" + w.sfx, 11, 3000, 6000, 100, "Train", "Training Job",
           false, !w.canon && tag(20));
    AddJob(w, Sched::kJobAdHoc, "Train-Spot", "Training Spot", "RunTrainingJob", "ml.p3.2xlarge",
           "training-job", "resnet-finetune-spot" + w.sfx, 12, 3000, 6000, 100, "Train",
           "Training Job", true, !w.canon && tag(20));
  }

  // Endpoints (seeds 5, 6, 9): one serving, one idle; both billed every hour.
  if (w.canon || w.rng.Chance(60)) {
    AddInstance(w, Sched::kAlwaysOn, "Host:", "Hosting", "RunInstance", "ml.m5.large",
                "endpoint/churn-endpoint" + w.sfx, "endpoint", w.canon || tag(20), 0);
  }
  if (w.canon || w.rng.Chance(20)) {
    AddInstance(w, Sched::kAlwaysOn, "Host:", "Hosting", "RunInstance", "ml.g4dn.xlarge",
                "endpoint/idle-endpoint" + w.sfx, "endpoint", w.canon || tag(20), 0);
  }

  AddMisc(w);
}

void Generator::Finish(Resource& r) {
  const uint64_t h =
      HashText(fmt::format("{}|{}|{}|{}", r.product, r.usage_type, r.operation, r.region));
  static constexpr char kSkuChars[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  uint64_t v = h;
  r.sku.clear();
  for (int i = 0; i < 16; ++i) {
    r.sku.push_back(kSkuChars[v % 31]);
    v = i == 8 ? SplitMix(h) : v / 31;
  }
  r.rate_code = r.sku + ".JRTCKXETXF.6YS6EN2CT7";
  r.rate_id = std::to_string(10000000000ULL + SplitMix(h + 1) % 90000000000ULL);
  const ProductInfo& prod = kProducts[static_cast<size_t>(r.product)];
  if (r.region >= 0) {
    r.cur2_product =
        CsvEscape(fmt::format(R"({{"product_name":"{}","region":"{}","servicename":"{}"}})",
                              prod.name, kRegions[static_cast<size_t>(r.region)].code, prod.name));
  } else {
    r.cur2_product = CsvEscape(fmt::format(R"({{"product_name":"{}"}})", prod.name));
  }
  const bool tagged = !r.team.empty() || !r.project.empty();
  if (tagged) {
    r.cur2_resource_tags =
        CsvEscape(fmt::format(R"({{"user_project":"{}","user_team":"{}"}})", r.project, r.team));
    r.cur2_tags = CsvEscape(
        fmt::format(R"({{"resourceTags/user:project":"{}","resourceTags/user:team":"{}"}})",
                    r.project, r.team));
    r.focus_tags = FocusQuote(
        fmt::format(R"({{"user:project": "{}", "user:team": "{}"}})", r.project, r.team));
  } else {
    r.cur2_resource_tags = "{}";
    r.cur2_tags = "{}";
    r.focus_tags = "NULL";
  }
}

void Generator::BuildSavingsPlan() {
  // A 1-year partial upfront SageMaker Savings Plan bought by the payer at the
  // start of the first period. It covers payer-account instance hours (always
  // on first, then working hours), hour by hour, up to the commitment.
  std::vector<int> always, work;
  int64_t always_sum = 0, work_sum = 0;
  for (size_t i = 0; i < res_.size(); ++i) {
    const Resource& r = res_[i];
    if (r.account != 0 || r.product != kSageMaker || r.sp_rate <= 0 || r.spot) continue;
    if (r.sched == Sched::kAlwaysOn) {
      always.push_back(static_cast<int>(i));
      always_sum += r.sp_rate;
    } else if (r.sched == Sched::kWorkHours) {
      work.push_back(static_cast<int>(i));
      work_sum += r.sp_rate;
    }
  }
  if (always.empty() && work.empty()) return;
  sp_.active = true;
  sp_.candidates = always;
  sp_.candidates.insert(sp_.candidates.end(), work.begin(), work.end());
  for (size_t c = 0; c < sp_.candidates.size(); ++c) {
    res_[static_cast<size_t>(sp_.candidates[c])].sp_candidate = static_cast<int>(c);
  }
  const int64_t step = 2 * kMilli;  // so that half the commitment has 3 decimals
  sp_.hourly_commitment = (always_sum + work_sum / 4 + step - 1) / step * step;
  sp_.recurring_hourly = sp_.hourly_commitment / 2;
  sp_.upfront = sp_.recurring_hourly * 8760;  // half of a year's commitment
  sp_.start = periods_.front().start;
  sp_.end = static_cast<UnixSeconds>(
                DaysFromCivil(periods_.front().year + 1, periods_.front().month, 1)) *
            86400;  // a 1-year term
  sp_.start_text = FormatTs(sp_.start, TsStyle::kMillis);
  sp_.end_text = FormatTs(sp_.end, TsStyle::kMillis);
  sp_.id = Uuid(Mix(opt_.seed, 0x5a5a));
  sp_.arn = fmt::format("arn:aws:savingsplans::{}:savingsplan/{}", accounts_[0].id, sp_.id);

  Resource fee;
  fee.product = kSmSavingsPlans;
  fee.account = 0;
  fee.usage_type = "MachineLearningSP:1yrPartialUpfront";
  fee.resource_id = sp_.arn;
  fee.resource_type = "savingsplan";
  fee.pricing_unit = "Hrs";
  fee.focus_unit = "Hours";
  fee.rate = fee.od_rate = sp_.recurring_hourly;
  const std::string desc = fmt::format(
      "USD {} hourly fee per SageMaker Savings Plans (1 year, "
      "Partial Upfront)",
      Plain(sp_.recurring_hourly));
  fee.desc_csv = CsvEscape(desc);
  fee.desc_focus = FocusQuote(desc);
  Finish(fee);
  sp_.fee_res = static_cast<int>(res_.size());
  res_.push_back(fee);

  Resource up = fee;
  const std::string udesc =
      fmt::format("USD {} one-time fee for 1-year Partial Upfront SageMaker Savings Plan ID: {}",
                  Plain(sp_.upfront), sp_.id);
  up.desc_csv = CsvEscape(udesc);
  up.desc_focus = FocusQuote(udesc);
  up.rate = up.od_rate = sp_.upfront;
  sp_.upfront_res = static_cast<int>(res_.size());
  res_.push_back(up);

  for (int i : sp_.candidates) {
    Resource& r = res_[static_cast<size_t>(i)];
    r.negation_desc_csv =
        CsvEscape(fmt::format("SavingsPlanNegation used by AccountId : {} and "
                              "UsageSku : {}",
                              accounts_[0].id, r.sku));
  }
}

bool Generator::RunningAt(const Resource& r, UnixSeconds t, const Period& p) const {
  switch (r.sched) {
    case Sched::kAlwaysOn:
      return true;
    case Sched::kWorkHours: {
      const Days day = DayOf(t);
      const int wd = Weekday(day);
      const int hour = static_cast<int>((t - static_cast<int64_t>(day) * 86400) / 3600);
      return wd >= 1 && wd <= 5 && hour >= r.start_hour && hour < r.end_hour;
    }
    case Sched::kBurst: {
      const int dom = static_cast<int>((t - p.start) / 86400) + 1;
      return dom >= r.burst_first && dom <= r.burst_last;
    }
    default:
      return false;
  }
}

void Generator::Run(Sink& sink) {
  totals_.clear();
  pretax_.assign(accounts_.size() * kNumProducts, 0);
  lines_.assign(accounts_.size() * kNumProducts, 0);
  for (const Period& p : periods_) {
    EmitPeriod(p, sink);
    if (!sink.status().ok()) return;
  }
}

void Generator::Out(Item& it, Sink& sink) {
  it.id = Mix(period_key_, ++counter_);
  const Decimal cost = Decimal::FromRaw(it.cost);
  ++cur_.line_items;
  cur_.unblended_cost += cost;
  cur_.amortized_cost += Decimal::FromRaw(it.amortized);
  switch (it.type) {
    case LineType::kSpCovered:
      cur_.sp_covered_cost += cost;
      ++cur_.focus_rows;
      break;
    case LineType::kSpNegation:
      cur_.sp_negation_cost += cost;
      break;
    case LineType::kSpRecurringFee:
      cur_.focus_rows += it.sp_total > it.sp_used ? 2 : 1;
      break;
    case LineType::kTax:
      cur_.tax_cost += cost;
      ++cur_.focus_rows;
      break;
    case LineType::kCredit:
      cur_.credit_cost += cost;
      ++cur_.focus_rows;
      break;
    default:
      ++cur_.focus_rows;
  }
  if (it.type != LineType::kTax && it.type != LineType::kCredit) {
    const size_t slot =
        static_cast<size_t>(it.res->account) * kNumProducts + static_cast<size_t>(it.res->product);
    pretax_[slot] += it.cost;
    ++lines_[slot];
  }
  sink.Add(it);
}

void Generator::EmitPeriod(const Period& p, Sink& sink) {
  cur_ = DemoPeriodTotals{};
  cur_.billing_period = p.label;
  std::fill(pretax_.begin(), pretax_.end(), 0);
  std::fill(lines_.begin(), lines_.end(), 0);
  period_key_ = Mix(opt_.seed, 0x1d00000000ULL + static_cast<uint64_t>(p.first_day));
  counter_ = 0;
  sink.BeginPeriod(p);
  if (!sink.status().ok()) return;
  ComputeCoverage(p);
  EmitSavingsPlanFees(p, sink);
  for (const Resource& r : res_) {
    EmitResource(r, p, sink);
    if (!sink.status().ok()) return;
  }
  EmitCreditAndTax(p, sink);
  sink.EndPeriod(p);
  totals_.push_back(cur_);
}

void Generator::ComputeCoverage(const Period& p) {
  const size_t nc = sp_.candidates.size();
  covered_.assign(static_cast<size_t>(p.hours) * nc, 0);
  used_.assign(static_cast<size_t>(p.hours), 0);
  if (!sp_.active) return;
  for (int h = 0; h < p.hours; ++h) {
    const UnixSeconds t = p.start + h * 3600LL;
    if (t < sp_.start || t >= sp_.end) continue;
    int64_t used = 0;
    for (size_t c = 0; c < nc; ++c) {
      const Resource& r = res_[static_cast<size_t>(sp_.candidates[c])];
      if (!RunningAt(r, t, p)) continue;
      if (used + r.sp_rate > sp_.hourly_commitment) continue;
      covered_[static_cast<size_t>(h) * nc + c] = 1;
      used += r.sp_rate;
    }
    used_[static_cast<size_t>(h)] = used;
  }
}

void Generator::EmitSavingsPlanFees(const Period& p, Sink& sink) {
  if (!sp_.active) return;
  if (sp_.start >= p.start && sp_.start < p.end) {
    Item it;
    it.type = LineType::kSpUpfrontFee;
    it.res = &res_[static_cast<size_t>(sp_.upfront_res)];
    it.resource_id = sp_.arn;
    it.start = sp_.start;
    it.end = sp_.start + 3600;
    it.amount = kOne;
    it.rate = it.cost = sp_.upfront;
    it.has_od = false;
    it.amortized = 0;  // spread over the covered usage's effective cost
    Out(it, sink);
  }
  const Resource& fee = res_[static_cast<size_t>(sp_.fee_res)];
  const int64_t hours_active = std::clamp<int64_t>(
      (std::min(p.end, sp_.end) - std::max(p.start, sp_.start)) / 3600, 0, p.hours);
  for (int h = 0; h < p.hours; ++h) {
    const UnixSeconds t = p.start + h * 3600LL;
    if (t < sp_.start || t >= sp_.end) continue;
    Item it;
    it.type = LineType::kSpRecurringFee;
    it.res = &fee;
    it.resource_id = sp_.arn;
    it.start = t;
    it.end = t + 3600;
    it.amount = kOne;
    it.rate = it.cost = sp_.recurring_hourly;
    it.has_od = false;
    it.sp_total = sp_.hourly_commitment;
    it.sp_used = used_[static_cast<size_t>(h)];
    it.sp_amort_upfront = sp_.recurring_hourly * hours_active;
    it.sp_recurring = sp_.recurring_hourly * hours_active;
    it.amortized = it.sp_total - it.sp_used;  // the unused commitment
    Out(it, sink);
    if (!sink.status().ok()) return;
  }
}

void Generator::EmitResource(const Resource& r, const Period& p, Sink& sink) {
  switch (r.sched) {
    case Sched::kAlwaysOn:
    case Sched::kWorkHours:
    case Sched::kBurst: {
      const size_t nc = sp_.candidates.size();
      for (int h = 0; h < p.hours; ++h) {
        const UnixSeconds t = p.start + h * 3600LL;
        if (!RunningAt(r, t, p)) continue;
        Item it;
        it.res = &r;
        it.resource_id = r.resource_id;
        it.start = t;
        it.end = t + 3600;
        it.amount = kOne;
        it.rate = r.rate;
        it.cost = r.rate;
        it.od_rate = r.od_rate;
        it.od_cost = r.od_rate;
        if (r.sp_candidate >= 0 &&
            covered_[static_cast<size_t>(h) * nc + static_cast<size_t>(r.sp_candidate)]) {
          it.type = LineType::kSpCovered;
          it.sp_rate = r.sp_rate;
          it.sp_effective = r.sp_rate;
          it.amortized = r.sp_rate;
          Out(it, sink);
          Item neg = it;
          neg.type = LineType::kSpNegation;
          neg.rate = -it.rate;
          neg.cost = -it.cost;
          neg.has_od = false;
          neg.sp_effective = 0;
          neg.amortized = 0;
          Out(neg, sink);
        } else {
          it.type = LineType::kUsage;
          it.amortized = it.cost;
          Out(it, sink);
        }
      }
      break;
    }
    case Sched::kStorageDaily:
      for (int d = 0; d < p.days; ++d) {
        Item it;
        it.res = &r;
        it.resource_id = r.resource_id;
        it.start = p.start + d * 86400LL;
        it.end = it.start + 86400;
        it.amount = RoundDiv(static_cast<int128>(r.gb) * kOne, p.days);  // GB-Mo of one day
        it.rate = it.od_rate = r.rate;
        it.cost = it.od_cost = it.amortized = MulRaw(it.amount, r.rate);
        Out(it, sink);
      }
      break;
    case Sched::kJobDaily:
    case Sched::kJobWeekly:
    case Sched::kJobAdHoc:
      EmitJobs(r, p, sink);
      break;
    case Sched::kMiscDaily:
      EmitMisc(r, p, sink);
      break;
    case Sched::kNone:
      break;
  }
}

void Generator::EmitJobs(const Resource& r, const Period& p, Sink& sink) {
  for (int d = 0; d < p.days; ++d) {
    const Days day = p.first_day + d;
    if (day < r.epoch) continue;
    const int wd = Weekday(day);
    int64_t run_no = 0;
    if (r.sched == Sched::kJobDaily) {
      run_no = day - r.epoch + 1;
    } else if (r.sched == Sched::kJobWeekly) {
      if (wd != r.weekday) continue;
      run_no = (day - r.epoch) / 7 + 1;
    } else {
      if (wd < 1 || wd > 5) continue;
      if (!Rng(Mix(r.key, static_cast<uint64_t>(day))).Chance(r.chance)) continue;
    }
    Rng rr(Mix(r.key ^ 0x5151, static_cast<uint64_t>(day)));
    const int start_mh = r.start_hour * 1000 + rr.Uniform(0, 12) * 50;  // 3-minute steps
    const int dur_mh = rr.Uniform(r.min_mh, r.max_mh);
    const int end_mh = std::min(start_mh + dur_mh, 24000);
    const UnixSeconds day_start = static_cast<UnixSeconds>(day) * 86400;
    run_arn_ = r.job_prefix;
    if (run_no > 0) {
      fmt::format_to(std::back_inserter(run_arn_), "{}-{:03d}", r.job_base, run_no);
    } else {
      const int64_t secs = start_mh * 36LL / 10;
      int y = 0;
      unsigned m = 0, dd = 0;
      CivilFromDays(day, &y, &m, &dd);
      fmt::format_to(std::back_inserter(run_arn_),
                     "{}-{:04d}-{:02d}-{:02d}-{:02d}-{:02d}-{:02d}-{:03d}", r.job_base, y, m, dd,
                     secs / 3600, secs / 60 % 60, secs % 60, rr.Uniform(0, 999));
    }
    for (int hr = start_mh / 1000; hr * 1000 < end_mh; ++hr) {
      const int lo = std::max(start_mh, hr * 1000);
      const int hi = std::min(end_mh, (hr + 1) * 1000);
      if (hi <= lo) continue;
      Item it;
      it.res = &r;
      it.resource_id = run_arn_;
      it.start = day_start + hr * 3600LL;
      it.end = it.start + 3600;
      it.amount = (hi - lo) * kMilli;
      it.rate = r.rate;
      it.cost = it.amortized = MulRaw(it.amount, r.rate);  // exact: 3 x 6 decimals
      it.od_rate = r.od_rate;
      it.od_cost = MulRaw(it.amount, r.od_rate);
      Out(it, sink);
    }
    if (r.storage >= 0) {
      const Resource& v = res_[static_cast<size_t>(r.storage)];
      Item it;
      it.res = &v;
      it.resource_id = run_arn_;
      it.start = day_start + (start_mh / 1000) * 3600LL;
      it.end = it.start + 3600;
      it.amount = RoundDiv(static_cast<int128>(v.gb) * (end_mh - start_mh) * kMilli,
                           static_cast<int128>(p.hours));
      it.rate = it.od_rate = v.rate;
      it.cost = it.od_cost = it.amortized = MulRaw(it.amount, v.rate);
      Out(it, sink);
    }
  }
}

void Generator::EmitMisc(const Resource& r, const Period& p, Sink& sink) {
  for (int d = 0; d < p.days; ++d) {
    const Days day = p.first_day + d;
    Rng rr(Mix(r.key, static_cast<uint64_t>(day)));
    Item it;
    it.res = &r;
    it.resource_id = r.resource_id;
    it.start = static_cast<UnixSeconds>(day) * 86400;
    it.end = it.start + 86400;
    switch (r.misc) {
      case Misc::kS3Storage:
        it.amount = RoundDiv(static_cast<int128>(r.gb) * kOne, p.days);
        break;
      case Misc::kS3Requests:
        it.amount = rr.Uniform(1, 3000) * kOne;
        break;
      case Misc::kEc2Transfer:
        it.amount = rr.Uniform(100, 9'999'999);  // 1e-8 .. 1e-3 GB
        break;
      case Misc::kCloudTrail:
        it.amount = rr.Uniform(2000, 60000) * kOne;
        break;
      case Misc::kNone:
        break;
    }
    it.rate = it.od_rate = r.rate;
    it.cost = it.od_cost = it.amortized = MulRaw(it.amount, r.rate);
    Out(it, sink);
  }
}

void Generator::EmitCreditAndTax(const Period& p, Sink& sink) {
  // A promotional credit on the payer's SageMaker spend: 5%, at most $500.
  const int64_t sm = pretax_[kSageMaker];
  if (sm > 0) {
    Item it;
    it.type = LineType::kCredit;
    it.res = &res_[static_cast<size_t>(credit_res_)];
    it.start = p.start;
    it.end = p.end;
    it.amount = 0;
    it.has_rate = false;
    it.has_od = false;
    it.cost = it.amortized = -RoundTo(std::min<int64_t>(sm / 20, 500 * kOne), kCent);
    Out(it, sink);
  }
  // Tax per account and product code, on the pre-credit amount, in cents.
  for (size_t a = 0; a < accounts_.size(); ++a) {
    for (size_t prod = 0; prod < kNumProducts; ++prod) {
      const size_t slot = a * kNumProducts + prod;
      if (lines_[slot] == 0) continue;
      Item it;
      it.type = LineType::kTax;
      it.res = &res_[static_cast<size_t>(tax_res_[slot])];
      it.start = p.start;
      it.end = p.end;
      it.amount = kOne;
      it.has_rate = false;
      it.has_od = false;
      it.cost = it.amortized =
          RoundTo(RoundDiv(static_cast<int128>(pretax_[slot]) * accounts_[a].tax_bp, 10000), kCent);
      Out(it, sink);
    }
  }
}

// ---------------------------------------------------------------------------
// Column layouts.

enum class Fld : uint8_t {
  kEmpty,
  kZero,         // 0.0
  kQuotedEmpty,  // ""
  kEmptyMap,     // {}
  kLineItemId,
  kTimeInterval,
  kInvoiceId,
  kInvoicingEntity,
  kBillingEntity,
  kBillType,
  kPayerAccountId,
  kPayerAccountName,
  kBillStart,
  kBillEnd,
  kUsageAccountId,
  kUsageAccountName,
  kLineItemType,
  kUsageStart,
  kUsageEnd,
  kProductCode,
  kUsageType,
  kOperation,
  kAz,
  kResourceId,
  kUsageAmount,
  kNormFactor,
  kNormUsage,
  kCurrency,
  kUnblendedRate,
  kUnblendedCost,
  kBlendedRate,
  kBlendedCost,
  kDescription,
  kTaxType,
  kLegalEntity,
  kProductName,
  kInstanceType,
  kInstanceFamily,
  kLocation,
  kLocationType,
  kProductFamily,
  kRegionCode,
  kSku,
  kRateCode,
  kRateId,
  kPricingCurrency,
  kOdCost,
  kOdRate,
  kPricingTerm,
  kPricingUnit,
  kSubscriptionId,
  kSpTotal,
  kSpArn,
  kSpRate,
  kSpUsed,
  kSpEffective,
  kSpAmortUpfront,
  kSpRecurring,
  kSpStart,
  kSpEnd,
  kSpOfferingType,
  kSpPaymentOption,
  kSpPurchaseTerm,
  kTagTeam,
  kTagProject,
  kProductJson,
  kResourceTagsJson,
  kTagsJson,
};

struct Column {
  const char* name;
  Fld field;
  const char* type;  // manifest type
};

// Legacy CUR columns: a subset of the real report's columns (the names of
// focus-converters' anonymized AWS export) plus lineItem/ResourceId,
// product/instanceType and the two cost allocation tags, which real reports
// add when resource ids and tags are enabled.
constexpr std::array<Column, 58> kLegacyColumns = {{
    {"identity/LineItemId", Fld::kLineItemId, "String"},
    {"identity/TimeInterval", Fld::kTimeInterval, "Interval"},
    {"bill/InvoiceId", Fld::kInvoiceId, "OptionalString"},
    {"bill/InvoicingEntity", Fld::kInvoicingEntity, "OptionalString"},
    {"bill/BillingEntity", Fld::kBillingEntity, "OptionalString"},
    {"bill/BillType", Fld::kBillType, "OptionalString"},
    {"bill/PayerAccountId", Fld::kPayerAccountId, "String"},
    {"bill/BillingPeriodStartDate", Fld::kBillStart, "DateTime"},
    {"bill/BillingPeriodEndDate", Fld::kBillEnd, "DateTime"},
    {"lineItem/UsageAccountId", Fld::kUsageAccountId, "String"},
    {"lineItem/LineItemType", Fld::kLineItemType, "String"},
    {"lineItem/UsageStartDate", Fld::kUsageStart, "DateTime"},
    {"lineItem/UsageEndDate", Fld::kUsageEnd, "DateTime"},
    {"lineItem/ProductCode", Fld::kProductCode, "String"},
    {"lineItem/UsageType", Fld::kUsageType, "OptionalString"},
    {"lineItem/Operation", Fld::kOperation, "OptionalString"},
    {"lineItem/AvailabilityZone", Fld::kAz, "OptionalString"},
    {"lineItem/ResourceId", Fld::kResourceId, "OptionalString"},
    {"lineItem/UsageAmount", Fld::kUsageAmount, "OptionalBigDecimal"},
    {"lineItem/NormalizationFactor", Fld::kNormFactor, "OptionalBigDecimal"},
    {"lineItem/NormalizedUsageAmount", Fld::kNormUsage, "OptionalBigDecimal"},
    {"lineItem/CurrencyCode", Fld::kCurrency, "String"},
    {"lineItem/UnblendedRate", Fld::kUnblendedRate, "OptionalBigDecimal"},
    {"lineItem/UnblendedCost", Fld::kUnblendedCost, "OptionalBigDecimal"},
    {"lineItem/BlendedRate", Fld::kBlendedRate, "OptionalBigDecimal"},
    {"lineItem/BlendedCost", Fld::kBlendedCost, "OptionalBigDecimal"},
    {"lineItem/LineItemDescription", Fld::kDescription, "String"},
    {"lineItem/TaxType", Fld::kTaxType, "OptionalString"},
    {"lineItem/LegalEntity", Fld::kLegalEntity, "OptionalString"},
    {"product/ProductName", Fld::kProductName, "OptionalString"},
    {"product/instanceType", Fld::kInstanceType, "OptionalString"},
    {"product/location", Fld::kLocation, "OptionalString"},
    {"product/locationType", Fld::kLocationType, "OptionalString"},
    {"product/operation", Fld::kOperation, "OptionalString"},
    {"product/productFamily", Fld::kProductFamily, "OptionalString"},
    {"product/region", Fld::kRegionCode, "OptionalString"},
    {"product/regionCode", Fld::kRegionCode, "OptionalString"},
    {"product/servicecode", Fld::kProductCode, "OptionalString"},
    {"product/servicename", Fld::kProductName, "OptionalString"},
    {"product/sku", Fld::kSku, "OptionalString"},
    {"product/usagetype", Fld::kUsageType, "OptionalString"},
    {"pricing/RateCode", Fld::kRateCode, "OptionalString"},
    {"pricing/RateId", Fld::kRateId, "OptionalString"},
    {"pricing/currency", Fld::kPricingCurrency, "OptionalString"},
    {"pricing/publicOnDemandCost", Fld::kOdCost, "OptionalBigDecimal"},
    {"pricing/publicOnDemandRate", Fld::kOdRate, "OptionalBigDecimal"},
    {"pricing/term", Fld::kPricingTerm, "OptionalString"},
    {"pricing/unit", Fld::kPricingUnit, "OptionalString"},
    {"reservation/SubscriptionId", Fld::kSubscriptionId, "OptionalString"},
    {"savingsPlan/TotalCommitmentToDate", Fld::kSpTotal, "OptionalBigDecimal"},
    {"savingsPlan/SavingsPlanARN", Fld::kSpArn, "OptionalString"},
    {"savingsPlan/SavingsPlanRate", Fld::kSpRate, "OptionalBigDecimal"},
    {"savingsPlan/UsedCommitment", Fld::kSpUsed, "OptionalBigDecimal"},
    {"savingsPlan/SavingsPlanEffectiveCost", Fld::kSpEffective, "OptionalBigDecimal"},
    {"savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod", Fld::kSpAmortUpfront,
     "OptionalBigDecimal"},
    {"savingsPlan/RecurringCommitmentForBillingPeriod", Fld::kSpRecurring, "OptionalBigDecimal"},
    {"resourceTags/user:project", Fld::kTagProject, "OptionalString"},
    {"resourceTags/user:team", Fld::kTagTeam, "OptionalString"},
}};

// CUR 2.0: the fixed schema, in the order and with the types of a real export
// (ola-raji-cur2 manifest).
constexpr std::array<Column, 127> kCur2Columns = {{
    {"bill_bill_type", Fld::kBillType, "string"},
    {"bill_billing_entity", Fld::kBillingEntity, "string"},
    {"bill_billing_period_end_date", Fld::kBillEnd, "timestamp"},
    {"bill_billing_period_start_date", Fld::kBillStart, "timestamp"},
    {"bill_invoice_id", Fld::kInvoiceId, "string"},
    {"bill_invoicing_entity", Fld::kInvoicingEntity, "string"},
    {"bill_payer_account_id", Fld::kPayerAccountId, "string"},
    {"bill_payer_account_name", Fld::kPayerAccountName, "string"},
    {"cost_category", Fld::kEmptyMap, "string"},
    {"discount", Fld::kEmptyMap, "string"},
    {"discount_bundled_discount", Fld::kEmpty, "double"},
    {"discount_total_discount", Fld::kEmpty, "double"},
    {"identity_line_item_id", Fld::kLineItemId, "string"},
    {"identity_time_interval", Fld::kTimeInterval, "string"},
    {"line_item_availability_zone", Fld::kAz, "string"},
    {"line_item_blended_cost", Fld::kBlendedCost, "double"},
    {"line_item_blended_rate", Fld::kBlendedRate, "string"},
    {"line_item_currency_code", Fld::kCurrency, "string"},
    {"line_item_legal_entity", Fld::kLegalEntity, "string"},
    {"line_item_line_item_description", Fld::kDescription, "string"},
    {"line_item_line_item_type", Fld::kLineItemType, "string"},
    {"line_item_net_unblended_cost", Fld::kEmpty, "double"},
    {"line_item_net_unblended_rate", Fld::kEmpty, "string"},
    {"line_item_normalization_factor", Fld::kNormFactor, "double"},
    {"line_item_normalized_usage_amount", Fld::kNormUsage, "double"},
    {"line_item_operation", Fld::kOperation, "string"},
    {"line_item_product_code", Fld::kProductCode, "string"},
    {"line_item_resource_id", Fld::kResourceId, "string"},
    {"line_item_tax_type", Fld::kTaxType, "string"},
    {"line_item_unblended_cost", Fld::kUnblendedCost, "double"},
    {"line_item_unblended_rate", Fld::kUnblendedRate, "string"},
    {"line_item_usage_account_id", Fld::kUsageAccountId, "string"},
    {"line_item_usage_account_name", Fld::kUsageAccountName, "string"},
    {"line_item_usage_amount", Fld::kUsageAmount, "double"},
    {"line_item_usage_end_date", Fld::kUsageEnd, "timestamp"},
    {"line_item_usage_start_date", Fld::kUsageStart, "timestamp"},
    {"line_item_usage_type", Fld::kUsageType, "string"},
    {"line_item_user_identifier", Fld::kEmpty, "string"},
    {"pricing_currency", Fld::kPricingCurrency, "string"},
    {"pricing_lease_contract_length", Fld::kEmpty, "string"},
    {"pricing_offering_class", Fld::kEmpty, "string"},
    {"pricing_public_on_demand_cost", Fld::kOdCost, "double"},
    {"pricing_public_on_demand_rate", Fld::kOdRate, "string"},
    {"pricing_purchase_option", Fld::kEmpty, "string"},
    {"pricing_rate_code", Fld::kRateCode, "string"},
    {"pricing_rate_id", Fld::kRateId, "string"},
    {"pricing_term", Fld::kPricingTerm, "string"},
    {"pricing_unit", Fld::kPricingUnit, "string"},
    {"product", Fld::kProductJson, "string"},
    {"product_comment", Fld::kEmpty, "string"},
    {"product_fee_code", Fld::kEmpty, "string"},
    {"product_fee_description", Fld::kEmpty, "string"},
    {"product_from_location", Fld::kEmpty, "string"},
    {"product_from_location_type", Fld::kEmpty, "string"},
    {"product_from_region_code", Fld::kEmpty, "string"},
    {"product_instance_family", Fld::kInstanceFamily, "string"},
    {"product_instance_type", Fld::kInstanceType, "string"},
    {"product_instancesku", Fld::kEmpty, "string"},
    {"product_location", Fld::kLocation, "string"},
    {"product_location_type", Fld::kLocationType, "string"},
    {"product_operation", Fld::kOperation, "string"},
    {"product_pricing_unit", Fld::kEmpty, "string"},
    {"product_product_family", Fld::kProductFamily, "string"},
    {"product_region_code", Fld::kRegionCode, "string"},
    {"product_servicecode", Fld::kProductCode, "string"},
    {"product_sku", Fld::kSku, "string"},
    {"product_to_location", Fld::kEmpty, "string"},
    {"product_to_location_type", Fld::kEmpty, "string"},
    {"product_to_region_code", Fld::kEmpty, "string"},
    {"product_usagetype", Fld::kUsageType, "string"},
    {"reservation_amortized_upfront_cost_for_usage", Fld::kZero, "double"},
    {"reservation_amortized_upfront_fee_for_billing_period", Fld::kZero, "double"},
    {"reservation_availability_zone", Fld::kEmpty, "string"},
    {"reservation_effective_cost", Fld::kZero, "double"},
    {"reservation_end_time", Fld::kEmpty, "string"},
    {"reservation_modification_status", Fld::kEmpty, "string"},
    {"reservation_net_amortized_upfront_cost_for_usage", Fld::kEmpty, "double"},
    {"reservation_net_amortized_upfront_fee_for_billing_period", Fld::kEmpty, "double"},
    {"reservation_net_effective_cost", Fld::kEmpty, "double"},
    {"reservation_net_recurring_fee_for_usage", Fld::kEmpty, "double"},
    {"reservation_net_unused_amortized_upfront_fee_for_billing_period", Fld::kEmpty, "double"},
    {"reservation_net_unused_recurring_fee", Fld::kEmpty, "double"},
    {"reservation_net_upfront_value", Fld::kEmpty, "double"},
    {"reservation_normalized_units_per_reservation", Fld::kQuotedEmpty, "string"},
    {"reservation_number_of_reservations", Fld::kQuotedEmpty, "string"},
    {"reservation_recurring_fee_for_usage", Fld::kZero, "double"},
    {"reservation_reservation_a_r_n", Fld::kEmpty, "string"},
    {"reservation_start_time", Fld::kEmpty, "string"},
    {"reservation_subscription_id", Fld::kSubscriptionId, "string"},
    {"reservation_total_reserved_normalized_units", Fld::kQuotedEmpty, "string"},
    {"reservation_total_reserved_units", Fld::kQuotedEmpty, "string"},
    {"reservation_units_per_reservation", Fld::kQuotedEmpty, "string"},
    {"reservation_unused_amortized_upfront_fee_for_billing_period", Fld::kZero, "double"},
    {"reservation_unused_normalized_unit_quantity", Fld::kZero, "double"},
    {"reservation_unused_quantity", Fld::kZero, "double"},
    {"reservation_unused_recurring_fee", Fld::kZero, "double"},
    {"reservation_upfront_value", Fld::kZero, "double"},
    {"resource_tags", Fld::kResourceTagsJson, "string"},
    {"savings_plan_amortized_upfront_commitment_for_billing_period", Fld::kSpAmortUpfront,
     "double"},
    {"savings_plan_end_time", Fld::kSpEnd, "string"},
    {"savings_plan_instance_type_family", Fld::kEmpty, "string"},
    {"savings_plan_net_amortized_upfront_commitment_for_billing_period", Fld::kEmpty, "double"},
    {"savings_plan_net_recurring_commitment_for_billing_period", Fld::kEmpty, "double"},
    {"savings_plan_net_savings_plan_effective_cost", Fld::kEmpty, "double"},
    {"savings_plan_offering_type", Fld::kSpOfferingType, "string"},
    {"savings_plan_payment_option", Fld::kSpPaymentOption, "string"},
    {"savings_plan_purchase_term", Fld::kSpPurchaseTerm, "string"},
    {"savings_plan_recurring_commitment_for_billing_period", Fld::kSpRecurring, "double"},
    {"savings_plan_region", Fld::kEmpty, "string"},
    {"savings_plan_savings_plan_a_r_n", Fld::kSpArn, "string"},
    {"savings_plan_savings_plan_effective_cost", Fld::kSpEffective, "double"},
    {"savings_plan_savings_plan_rate", Fld::kSpRate, "double"},
    {"savings_plan_start_time", Fld::kSpStart, "string"},
    {"savings_plan_total_commitment_to_date", Fld::kSpTotal, "double"},
    {"savings_plan_used_commitment", Fld::kSpUsed, "double"},
    {"split_line_item_actual_usage", Fld::kEmpty, "double"},
    {"split_line_item_net_split_cost", Fld::kEmpty, "double"},
    {"split_line_item_net_unused_cost", Fld::kEmpty, "double"},
    {"split_line_item_parent_resource_id", Fld::kEmpty, "string"},
    {"split_line_item_public_on_demand_split_cost", Fld::kEmpty, "double"},
    {"split_line_item_public_on_demand_unused_cost", Fld::kEmpty, "double"},
    {"split_line_item_reserved_usage", Fld::kEmpty, "double"},
    {"split_line_item_split_cost", Fld::kEmpty, "double"},
    {"split_line_item_split_usage", Fld::kEmpty, "double"},
    {"split_line_item_split_usage_ratio", Fld::kEmpty, "double"},
    {"split_line_item_unused_cost", Fld::kEmpty, "double"},
    {"tags", Fld::kTagsJson, "string"},
}};

// FOCUS 1.0 columns (the FOCUS sample's, alphabetical as AWS exports them)
// followed by AWS's five x_ columns.
constexpr std::array<std::pair<const char*, const char*>, 48> kFocusColumns = {{
    {"AvailabilityZone", "string"},
    {"BilledCost", "double"},
    {"BillingAccountId", "string"},
    {"BillingAccountName", "string"},
    {"BillingCurrency", "string"},
    {"BillingPeriodEnd", "timestamp_milliseconds"},
    {"BillingPeriodStart", "timestamp_milliseconds"},
    {"ChargeCategory", "string"},
    {"ChargeClass", "string"},
    {"ChargeDescription", "string"},
    {"ChargeFrequency", "string"},
    {"ChargePeriodEnd", "timestamp_milliseconds"},
    {"ChargePeriodStart", "timestamp_milliseconds"},
    {"CommitmentDiscountCategory", "string"},
    {"CommitmentDiscountId", "string"},
    {"CommitmentDiscountName", "string"},
    {"CommitmentDiscountStatus", "string"},
    {"CommitmentDiscountType", "string"},
    {"ConsumedQuantity", "double"},
    {"ConsumedUnit", "string"},
    {"ContractedCost", "double"},
    {"ContractedUnitPrice", "double"},
    {"EffectiveCost", "double"},
    {"InvoiceIssuerName", "string"},
    {"ListCost", "double"},
    {"ListUnitPrice", "double"},
    {"PricingCategory", "string"},
    {"PricingQuantity", "double"},
    {"PricingUnit", "string"},
    {"ProviderName", "string"},
    {"PublisherName", "string"},
    {"RegionId", "string"},
    {"RegionName", "string"},
    {"ResourceId", "string"},
    {"ResourceName", "string"},
    {"ResourceType", "string"},
    {"ServiceCategory", "string"},
    {"ServiceName", "string"},
    {"SkuId", "string"},
    {"SkuPriceId", "string"},
    {"SubAccountId", "string"},
    {"SubAccountName", "string"},
    {"Tags", "map"},
    {"x_CostCategories", "map"},
    {"x_Discounts", "map"},
    {"x_Operation", "string"},
    {"x_ServiceCode", "string"},
    {"x_UsageType", "string"},
}};

// lineItem/UsageType -> line_item_usage_type, as Athena names CUR columns.
std::string SnakeName(std::string_view name) {
  std::string o;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '/' || c == ':') {
      o.push_back('_');
    } else if (c >= 'A' && c <= 'Z') {
      if (!o.empty() && o.back() != '_') o.push_back('_');
      o.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      o.push_back(c);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------
// Output files: a buffer flushed in big blocks, optionally through gzip.

std::string ErrnoText() { return std::error_code(errno, std::generic_category()).message(); }

class OutFile {
 public:
  static constexpr size_t kChunk = 1 << 20;   // written (or compressed) in blocks of this
  static constexpr size_t kSlack = 64 << 10;  // room always left for one more row

  OutFile() : buf_(new char[kChunk + kSlack]) {}
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  ~OutFile() {
    if (z_ready_) deflateEnd(&zs_);
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const std::string& path, bool gzip) {
    path_ = path;
    gzip_ = gzip;
    bytes_ = 0;
    len_ = 0;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return IoError(fmt::format("cannot create {}: {}", path, ErrnoText()));
    if (gzip_) {
      std::memset(&zs_, 0, sizeof(zs_));
      // windowBits 15 + 16: a gzip wrapper, as AWS's .csv.gz files have.
      if (deflateInit2(&zs_, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return Internal("deflateInit2 failed for " + path);
      }
      z_ready_ = true;
      zbuf_.resize(kChunk);
    }
    return Status::Ok();
  }

  // Rows are formatted in place: take the cursor, write at most kSlack
  // bytes, give it back, then MaybeFlush().
  char* cursor() { return buf_.get() + len_; }
  void set_cursor(char* p) { len_ = static_cast<size_t>(p - buf_.get()); }
  Status MaybeFlush() { return len_ >= kChunk ? Flush(false) : Status::Ok(); }

  Status Append(std::string_view s) {
    while (!s.empty()) {
      const size_t n = std::min(s.size(), kChunk - std::min(len_, kChunk));
      std::memcpy(buf_.get() + len_, s.data(), n);
      len_ += n;
      s.remove_prefix(n);
      RETURN_IF_ERROR(MaybeFlush());
    }
    return Status::Ok();
  }

  Status Close() {
    Status s = Flush(true);
    if (z_ready_) {
      deflateEnd(&zs_);
      z_ready_ = false;
    }
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) {
      s = IoError(fmt::format("cannot close {}: {}", path_, ErrnoText()));
    }
    fd_ = -1;
    return s;
  }

  int64_t bytes() const { return bytes_; }

 private:
  // The fastest level (about 14x smaller than the CSV); one gzip member, as AWS writes.
  static constexpr int kGzipLevel = 1;

  Status Flush(bool finish) {
    if (!gzip_) {
      Status s = WriteAll(buf_.get(), len_);
      len_ = 0;
      return s;
    }
    zs_.next_in = reinterpret_cast<Bytef*>(buf_.get());
    zs_.avail_in = static_cast<uInt>(len_);
    for (;;) {
      zs_.next_out = zbuf_.data();
      zs_.avail_out = static_cast<uInt>(zbuf_.size());
      const int rc = deflate(&zs_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) return Internal("deflate failed for " + path_);
      const size_t have = zbuf_.size() - zs_.avail_out;
      RETURN_IF_ERROR(WriteAll(reinterpret_cast<const char*>(zbuf_.data()), have));
      if (finish ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
    }
    len_ = 0;
    return Status::Ok();
  }

  Status WriteAll(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return IoError(fmt::format("cannot write {}: {}", path_, ErrnoText()));
      }
      p += w;
      n -= static_cast<size_t>(w);
      bytes_ += w;
    }
    return Status::Ok();
  }

  std::unique_ptr<char[]> buf_;
  size_t len_ = 0;
  std::string path_;
  int fd_ = -1;
  bool gzip_ = false;
  bool z_ready_ = false;
  z_stream zs_{};
  std::vector<unsigned char> zbuf_;
  int64_t bytes_ = 0;
};

Status MakeDirs(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  return Status::Ok();
}

Status WriteWholeFile(const std::string& path, std::string_view content, int64_t* bytes) {
  OutFile f;
  RETURN_IF_ERROR(f.Open(path, false));
  RETURN_IF_ERROR(f.Append(content));
  RETURN_IF_ERROR(f.Close());
  *bytes = f.bytes();
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// The writer of one export.

class ExportSink : public Sink {
 public:
  ExportSink(const Generator& gen, DemoFormat format, std::string dir, const DemoOptions& opt)
      : gen_(gen),
        format_(format),
        dir_(std::move(dir)),
        opt_(opt),
        gzip_(opt.gzip || format == DemoFormat::kLegacyCsvGz),
        cur2_(format == DemoFormat::kCur2Csv),
        focus_(format == DemoFormat::kFocusCsv) {
    switch (format) {
      case DemoFormat::kLegacyCsv:
      case DemoFormat::kLegacyCsvGz:
        ts_style_ = TsStyle::kSeconds;
        cols_.assign(kLegacyColumns.begin(), kLegacyColumns.end());
        break;
      case DemoFormat::kCur1Snake:
        ts_style_ = TsStyle::kMinutes;
        cols_.assign(kLegacyColumns.begin(), kLegacyColumns.end());
        break;
      case DemoFormat::kCur2Csv:
        ts_style_ = TsStyle::kMillis;
        cols_.assign(kCur2Columns.begin(), kCur2Columns.end());
        break;
      case DemoFormat::kFocusCsv:
        ts_style_ = TsStyle::kSpace;
        break;
    }
    header_ = HeaderLine(format);
    const SavingsPlan& sp = gen.savings_plan();
    sp_start_ = sp.start_text;
    sp_end_ = sp.end_text;
    quoted_entity_ = CsvEscape(kEntity);
  }

  std::vector<DemoFileInfo> TakeFiles() { return std::move(files_); }

  static std::string HeaderLine(DemoFormat format) {
    std::string h;
    for (const std::string& c : DemoColumns(format)) {
      if (!h.empty()) h.push_back(',');
      h += format == DemoFormat::kFocusCsv ? FocusQuote(c) : c;
    }
    h.push_back('\n');
    return h;
  }

  void BeginPeriod(const Period& p) override {
    period_ = &p;
    file_no_ = 0;
    period_files_.clear();
    pstart_ = p.start;
    hour_ts_.resize(static_cast<size_t>(p.hours) + 1);
    interval_ts_.resize(static_cast<size_t>(p.hours) + 1);
    for (int h = 0; h <= p.hours; ++h) {
      hour_ts_[static_cast<size_t>(h)] = FormatTs(p.start + h * 3600LL, ts_style_);
      interval_ts_[static_cast<size_t>(h)] = FormatTs(p.start + h * 3600LL, TsStyle::kSeconds);
    }
    bill_start_ = FormatTs(p.start, ts_style_);
    bill_end_ = FormatTs(p.end, ts_style_);
    if (focus_) {
      bill_start_ = FocusQuote(bill_start_);
      bill_end_ = FocusQuote(bill_end_);
    }
    invoice_id_ =
        p.last ? ""
               : std::to_string(100000000ULL + Mix(gen_.seed(), 0xbeef + p.index) % 900000000ULL);
    const uint64_t fkey = Mix(
        gen_.seed(), (static_cast<uint64_t>(p.first_day) << 8) | static_cast<uint64_t>(format_));
    assembly_id_ = Uuid(fkey);
    execution_id_ = Uuid(fkey + 99);
    const std::string range = Ymd(p.first_day) + "-" + Ymd(p.first_day + p.days);
    const std::filesystem::path root(dir_);
    switch (format_) {
      case DemoFormat::kLegacyCsv:
      case DemoFormat::kLegacyCsvGz:
        key_dir_ = fmt::format("{}/{}/{}", opt_.report_name, range, assembly_id_);
        manifest_path_ =
            (root / opt_.report_name / range / (opt_.report_name + "-Manifest.json")).string();
        break;
      case DemoFormat::kCur1Snake:
        key_dir_ = fmt::format("{}/year={}/month={}", opt_.report_name, p.year, p.month);
        manifest_path_.clear();
        break;
      case DemoFormat::kCur2Csv:
      case DemoFormat::kFocusCsv:
        key_dir_ = fmt::format("{}/data/BILLING_PERIOD={}", opt_.report_name, p.label);
        manifest_path_ = (root / opt_.report_name / "metadata" / ("BILLING_PERIOD=" + p.label) /
                          (opt_.report_name + "-Manifest.json"))
                             .string();
        break;
    }
    status_ = MakeDirs(root / key_dir_);
    if (status_.ok()) status_ = OpenNext();
  }

  void Add(const Item& it) override {
    if (!status_.ok()) return;
    if (opt_.max_rows_per_file > 0 && info_.rows >= opt_.max_rows_per_file) {
      status_ = CloseCurrent();
      if (status_.ok()) status_ = OpenNext();
      if (!status_.ok()) return;
    }
    char* p = file_.cursor();
    if (focus_) {
      if (it.type == LineType::kSpNegation) return;  // folded into covered usage
      WriteFocusRow(p, it, false);
      ++info_.rows;
      if (it.type == LineType::kSpRecurringFee && it.sp_total > it.sp_used) {
        WriteFocusRow(p, it, true);
        ++info_.rows;
      }
      info_.unblended_cost += Decimal::FromRaw(it.type == LineType::kSpCovered ? 0 : it.cost);
    } else {
      WriteCurRow(p, it);
      ++info_.rows;
      info_.unblended_cost += Decimal::FromRaw(it.cost);
    }
    file_.set_cursor(p);
    status_ = file_.MaybeFlush();
  }

  void EndPeriod(const Period& p) override {
    if (!status_.ok()) return;
    status_ = CloseCurrent();
    if (status_.ok() && !manifest_path_.empty()) status_ = WriteManifest(p);
  }

 private:
  std::string FileName(int n) const {
    const char* ext = gzip_ ? ".csv.gz" : ".csv";
    if (format_ == DemoFormat::kLegacyCsv || format_ == DemoFormat::kLegacyCsvGz) {
      return fmt::format("{}-{}{}", opt_.report_name, n, ext);
    }
    return fmt::format("{}-{:05d}{}", opt_.report_name, n, ext);
  }

  Status OpenNext() {
    ++file_no_;
    const std::string key = key_dir_ + "/" + FileName(file_no_);
    info_ = DemoFileInfo{};
    info_.path = (std::filesystem::path(dir_) / key).string();
    info_.format = format_;
    info_.billing_period = period_->label;
    period_files_.push_back(key);
    RETURN_IF_ERROR(file_.Open(info_.path, gzip_));
    return file_.Append(header_);
  }

  Status CloseCurrent() {
    RETURN_IF_ERROR(file_.Close());
    info_.bytes = file_.bytes();
    files_.push_back(info_);
    return Status::Ok();
  }

  Status WriteManifest(const Period& p) {
    using Json = nlohmann::ordered_json;
    const Account& payer = gen_.accounts().front();
    Json m;
    std::string text;
    if (format_ == DemoFormat::kLegacyCsv || format_ == DemoFormat::kLegacyCsvGz) {
      m["assemblyId"] = assembly_id_;
      m["account"] = payer.id;
      Json cols = Json::array();
      for (const Column& c : kLegacyColumns) {
        const std::string_view name = c.name;
        const size_t slash = name.find('/');
        cols.push_back({{"category", std::string(name.substr(0, slash))},
                        {"name", std::string(name.substr(slash + 1))},
                        {"type", c.type}});
      }
      m["columns"] = std::move(cols);
      m["charset"] = "UTF-8";
      m["compression"] = gzip_ ? "GZIP" : "None";
      m["contentType"] = "text/csv";
      m["reportId"] = Hex(Mix(gen_.seed(), 0xabc), 64);
      m["reportName"] = opt_.report_name;
      m["billingPeriod"] = {{"start", FormatTs(p.start, TsStyle::kCompact)},
                            {"end", FormatTs(p.end, TsStyle::kCompact)}};
      m["bucket"] = "sagebox-demo-billing";
      m["reportKeys"] = period_files_;
      m["additionalArtifactKeys"] = Json::array();
      text = m.dump(2);
    } else {
      m["executionId"] = execution_id_;
      m["exportArn"] = fmt::format("arn:aws:bcm-data-exports:us-east-1:{}:export/{}-{}", payer.id,
                                   opt_.report_name, Uuid(Mix(gen_.seed(), 0xe)));
      Json cols = Json::array();
      if (focus_) {
        for (const auto& [name, type] : kFocusColumns)
          cols.push_back({{"name", name}, {"type", type}});
      } else {
        for (const Column& c : kCur2Columns) cols.push_back({{"name", c.name}, {"type", c.type}});
      }
      m["columns"] = std::move(cols);
      Json data = Json::array();
      for (const std::string& key : period_files_)
        data.push_back("s3://sagebox-demo-billing/" + key);
      m["dataFiles"] = std::move(data);
      text = m.dump();
    }
    text.push_back('\n');
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(manifest_path_).parent_path()));
    DemoFileInfo info;
    info.path = manifest_path_;
    info.format = format_;
    info.manifest = true;
    info.billing_period = p.label;
    RETURN_IF_ERROR(WriteWholeFile(manifest_path_, text, &info.bytes));
    files_.push_back(info);
    return Status::Ok();
  }

  void AppendTs(char*& p, UnixSeconds t) const {
    const int64_t off = t - pstart_;
    if (off >= 0 && off % 3600 == 0 && off / 3600 < static_cast<int64_t>(hour_ts_.size())) {
      Cat(p, hour_ts_[static_cast<size_t>(off / 3600)]);
    } else {
      Cat(p, FormatTs(t, ts_style_));
    }
  }

  void AppendIntervalTs(char*& p, UnixSeconds t) const {
    const int64_t off = t - pstart_;
    if (off >= 0 && off % 3600 == 0 && off / 3600 < static_cast<int64_t>(interval_ts_.size())) {
      Cat(p, interval_ts_[static_cast<size_t>(off / 3600)]);
    } else {
      Cat(p, FormatTs(t, TsStyle::kSeconds));
    }
  }

  static void AppendLineItemId(char*& p, uint64_t id) {
    static constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
    char b[52];
    uint64_t w = 0;
    for (int i = 0; i < 52; ++i) {
      if (i % 12 == 0) w = SplitMix(id + static_cast<uint64_t>(i));
      b[i] = kB32[w & 31];
      w >>= 5;
    }
    Cat(p, std::string_view(b, 52));
  }

  // Numbers of the CUR formats; rates of CUR 2.0 are 10-decimal strings.
  void Num(char*& p, int64_t v) { java_.Put(p, v); }
  void Rate(char*& p, int64_t v) {
    if (cur2_) {
      fixed10_.Put(p, v);
    } else {
      java_.Put(p, v);
    }
  }
  // A number that does not apply to this line: empty in legacy, 0.0 in CUR 2.0.
  void NoNum(char*& p) const {
    if (cur2_) Lit(p, "0.0");
  }
  // The number where it applies to this line, else what NoNum writes.
  void NumIf(char*& p, bool applies, int64_t v) {
    if (applies) {
      Num(p, v);
    } else {
      NoNum(p);
    }
  }

  void WriteCurRow(char*& p, const Item& it) {
    const Resource& r = *it.res;
    const Account& acct = gen_.accounts()[static_cast<size_t>(r.account)];
    const ProductInfo& prod = kProducts[static_cast<size_t>(r.product)];
    const bool sp = IsSavingsPlanLine(it.type);
    const bool fee = it.type == LineType::kSpRecurringFee;
    const bool covered = it.type == LineType::kSpCovered || it.type == LineType::kSpNegation;
    bool first = true;
    for (const Column& c : cols_) {
      if (!first) Put(p, ',');
      first = false;
      switch (c.field) {
        case Fld::kEmpty:
          break;
        case Fld::kZero:
          Lit(p, "0.0");
          break;
        case Fld::kQuotedEmpty:
          Lit(p, "\"\"");
          break;
        case Fld::kEmptyMap:
          Lit(p, "{}");
          break;
        case Fld::kLineItemId:
          AppendLineItemId(p, it.id);
          break;
        case Fld::kTimeInterval:
          AppendIntervalTs(p, it.start);
          Put(p, '/');
          AppendIntervalTs(p, it.end);
          break;
        case Fld::kInvoiceId:
          Cat(p, invoice_id_);
          break;
        case Fld::kInvoicingEntity:
        case Fld::kLegalEntity:
          Cat(p, quoted_entity_);
          break;
        case Fld::kBillingEntity:
          Lit(p, "AWS");
          break;
        case Fld::kBillType:
          Lit(p, "Anniversary");
          break;
        case Fld::kPayerAccountId:
          Cat(p, gen_.accounts().front().id);
          break;
        case Fld::kPayerAccountName:
          Cat(p, gen_.accounts().front().name);
          break;
        case Fld::kBillStart:
          Cat(p, bill_start_);
          break;
        case Fld::kBillEnd:
          Cat(p, bill_end_);
          break;
        case Fld::kUsageAccountId:
          Cat(p, acct.id);
          break;
        case Fld::kUsageAccountName:
          Cat(p, acct.name);
          break;
        case Fld::kLineItemType:
          Cat(p, kLineTypeNames[static_cast<size_t>(it.type)]);
          break;
        case Fld::kUsageStart:
          AppendTs(p, it.start);
          break;
        case Fld::kUsageEnd:
          AppendTs(p, it.end);
          break;
        case Fld::kProductCode:
          Cat(p, prod.code);
          break;
        case Fld::kUsageType:
          Cat(p, r.usage_type);
          break;
        case Fld::kOperation:
          Cat(p, r.operation);
          break;
        case Fld::kAz:
          Cat(p, r.az);
          break;
        case Fld::kResourceId:
          Cat(p, it.resource_id);
          break;
        case Fld::kUsageAmount:
          Num(p, it.amount);
          break;
        case Fld::kNormFactor:
        case Fld::kNormUsage:
          NoNum(p);
          break;
        case Fld::kCurrency:
          Lit(p, "USD");
          break;
        case Fld::kUnblendedRate:
        case Fld::kBlendedRate:
          if (it.has_rate) Rate(p, it.rate);
          break;
        case Fld::kUnblendedCost:
        case Fld::kBlendedCost:
          Num(p, it.cost);
          break;
        case Fld::kDescription:
          Cat(p, it.type == LineType::kSpNegation ? r.negation_desc_csv : r.desc_csv);
          break;
        case Fld::kTaxType:
          if (it.type == LineType::kTax) Lit(p, "Sales Tax");
          break;
        case Fld::kProductName:
          Cat(p, prod.name);
          break;
        case Fld::kInstanceType:
          Cat(p, r.instance_type);
          break;
        case Fld::kInstanceFamily:
          Cat(p, r.instance_family);
          break;
        case Fld::kLocation:
          if (r.region >= 0) Cat(p, kRegions[static_cast<size_t>(r.region)].name);
          break;
        case Fld::kLocationType:
          if (r.region >= 0) Lit(p, "AWS Region");
          break;
        case Fld::kProductFamily:
          Cat(p, r.product_family);
          break;
        case Fld::kRegionCode:
          if (r.region >= 0) Cat(p, kRegions[static_cast<size_t>(r.region)].code);
          break;
        case Fld::kSku:
          Cat(p, r.sku);
          break;
        case Fld::kRateCode:
          Cat(p, r.rate_code);
          break;
        case Fld::kRateId:
          Cat(p, r.rate_id);
          break;
        case Fld::kPricingCurrency:
          if (it.has_od) Lit(p, "USD");
          break;
        case Fld::kOdCost:
          NumIf(p, it.has_od, it.od_cost);
          break;
        case Fld::kOdRate:
          if (it.has_od) Rate(p, it.od_rate);
          break;
        case Fld::kPricingTerm:
          if (it.has_od) Cat(p, r.spot ? std::string_view("Spot") : std::string_view("OnDemand"));
          break;
        case Fld::kPricingUnit:
          Cat(p, r.pricing_unit);
          break;
        case Fld::kSubscriptionId:
          Cat(p, acct.subscription_id);
          break;
        case Fld::kSpTotal:
          NumIf(p, fee, it.sp_total);
          break;
        case Fld::kSpUsed:
          NumIf(p, fee, it.sp_used);
          break;
        case Fld::kSpAmortUpfront:
          NumIf(p, fee, it.sp_amort_upfront);
          break;
        case Fld::kSpRecurring:
          NumIf(p, fee, it.sp_recurring);
          break;
        case Fld::kSpArn:
          if (sp) Cat(p, gen_.savings_plan().arn);
          break;
        case Fld::kSpRate:
          NumIf(p, covered, it.sp_rate);
          break;
        case Fld::kSpEffective:
          NumIf(p, it.type == LineType::kSpCovered, it.sp_effective);
          break;
        case Fld::kSpStart:
          if (sp) Cat(p, sp_start_);
          break;
        case Fld::kSpEnd:
          if (sp) Cat(p, sp_end_);
          break;
        case Fld::kSpOfferingType:
          if (sp) Lit(p, "SageMakerSavingsPlans");
          break;
        case Fld::kSpPaymentOption:
          if (sp) Lit(p, "Partial Upfront");
          break;
        case Fld::kSpPurchaseTerm:
          if (sp) Lit(p, "1yr");
          break;
        case Fld::kTagTeam:
          Cat(p, r.team);
          break;
        case Fld::kTagProject:
          Cat(p, r.project);
          break;
        case Fld::kProductJson:
          Cat(p, r.cur2_product);
          break;
        case Fld::kResourceTagsJson:
          Cat(p, r.cur2_resource_tags);
          break;
        case Fld::kTagsJson:
          Cat(p, r.cur2_tags);
          break;
      }
    }
    Put(p, '\n');
  }

  static void Q(char*& p, std::string_view s) {
    Put(p, '"');
    Cat(p, s);
    Put(p, '"');
  }
  static void QOrNull(char*& p, std::string_view s) {
    if (s.empty()) {
      Lit(p, "NULL");
    } else {
      Q(p, s);
    }
  }
  void Cost(char*& p, int64_t v) { fixed11_.Put(p, v); }

  // One FOCUS row. `unused` writes the unused-commitment row of an hour's
  // SavingsPlanRecurringFee instead of the fee itself.
  void WriteFocusRow(char*& p, const Item& it, bool unused) {
    const Resource& r = *it.res;
    const Account& acct = gen_.accounts()[static_cast<size_t>(r.account)];
    const Account& payer = gen_.accounts().front();
    const ProductInfo& prod = kProducts[static_cast<size_t>(r.product)];
    const SavingsPlan& sp = gen_.savings_plan();
    const RegionInfo* reg = r.region >= 0 ? &kRegions[static_cast<size_t>(r.region)] : nullptr;

    std::string_view category = "Usage", frequency = "Usage-Based", pricing = "Standard";
    std::string_view cd_status, cd_id;
    int64_t billed = it.cost, effective = it.amortized;
    bool consumed = it.type == LineType::kUsage || it.type == LineType::kSpCovered;
    switch (it.type) {
      case LineType::kUsage:
        if (r.spot) pricing = "Dynamic";
        break;
      case LineType::kSpCovered:
        billed = 0;
        effective = it.sp_effective;
        pricing = "Committed";
        cd_status = "Used";
        cd_id = sp.arn;
        break;
      case LineType::kSpRecurringFee:
        if (unused) {
          billed = 0;
          effective = it.sp_total - it.sp_used;
          pricing = "Committed";
          cd_status = "Unused";
        } else {
          category = "Purchase";
          frequency = "Recurring";
          effective = 0;
        }
        cd_id = sp.arn;
        break;
      case LineType::kSpUpfrontFee:
        category = "Purchase";
        frequency = "One-Time";
        effective = 0;
        cd_id = sp.arn;
        break;
      case LineType::kCredit:
        category = "Credit";
        frequency = "One-Time";
        pricing = {};
        break;
      case LineType::kTax:
        category = "Tax";
        frequency = "Recurring";
        pricing = {};
        break;
      case LineType::kSpNegation:
        return;
    }
    const bool priced = it.type != LineType::kTax && it.type != LineType::kCredit;

    // AvailabilityZone, BilledCost, BillingAccountId, BillingAccountName, BillingCurrency
    QOrNull(p, r.az);
    Put(p, ',');
    Cost(p, billed);
    Put(p, ',');
    Q(p, payer.id);
    Put(p, ',');
    Q(p, payer.name);
    Lit(p, ",\"USD\",");
    // BillingPeriodEnd, BillingPeriodStart, ChargeCategory, ChargeClass
    Cat(p, bill_end_);
    Put(p, ',');
    Cat(p, bill_start_);
    Put(p, ',');
    Q(p, category);
    Lit(p, ",NULL,");
    // ChargeDescription, ChargeFrequency, ChargePeriodEnd, ChargePeriodStart
    Cat(p, r.desc_focus);
    Put(p, ',');
    Q(p, frequency);
    Lit(p, ",\"");
    AppendTs(p, it.end);
    Lit(p, "\",\"");
    AppendTs(p, it.start);
    Lit(p, "\",");
    // CommitmentDiscountCategory, Id, Name, Status, Type
    if (cd_id.empty()) {
      Lit(p, "NULL,NULL,NULL,NULL,NULL,");
    } else {
      Lit(p, "\"Spend\",");
      Q(p, cd_id);
      Lit(p, ",NULL,");
      QOrNull(p, cd_status);
      Lit(p, ",\"Savings Plan\",");
    }
    // ConsumedQuantity, ConsumedUnit
    if (consumed && !unused) {
      fixed15_.Put(p, it.amount);
      Put(p, ',');
      Q(p, r.focus_unit);
      Put(p, ',');
    } else {
      Lit(p, "NULL,NULL,");
    }
    // ContractedCost, ContractedUnitPrice, EffectiveCost
    if (priced && !unused) {
      Cost(p, it.type == LineType::kSpCovered ? it.cost : billed);
      Put(p, ',');
      Cost(p, it.rate);
    } else if (unused) {
      Cost(p, effective);
      Lit(p, ",NULL");
    } else {
      Cost(p, billed);
      Lit(p, ",NULL");
    }
    Put(p, ',');
    Cost(p, effective);
    Put(p, ',');
    // InvoiceIssuerName, ListCost, ListUnitPrice
    Q(p, kEntity);
    Put(p, ',');
    if (it.has_od && !unused) {
      Cost(p, it.od_cost);
      Lit(p, ",\"");
      plain_.Put(p, it.od_rate);
      Lit(p, "\",");
    } else {
      Cost(p, unused ? effective : billed);
      Lit(p, ",NULL,");
    }
    // PricingCategory, PricingQuantity, PricingUnit
    QOrNull(p, pricing);
    Put(p, ',');
    if (priced && !unused) {
      fixed11_.Put(p, it.amount);
      Put(p, ',');
      Q(p, r.focus_unit);
    } else {
      Lit(p, "NULL,NULL");
    }
    // ProviderName, PublisherName, RegionId, RegionName
    Lit(p, ",\"AWS\",");
    Q(p, kEntity);
    Put(p, ',');
    if (reg != nullptr) {
      Q(p, reg->code);
      Put(p, ',');
      Q(p, reg->name);
    } else {
      Lit(p, "NULL,NULL");
    }
    Put(p, ',');
    // ResourceId, ResourceName, ResourceType, ServiceCategory, ServiceName
    QOrNull(p, it.resource_id);
    Lit(p, ",NULL,");
    QOrNull(p, r.resource_type);
    Put(p, ',');
    Q(p, prod.focus_category);
    Put(p, ',');
    Q(p, prod.focus_service);
    Put(p, ',');
    // SkuId, SkuPriceId, SubAccountId, SubAccountName, Tags
    if (r.sku.empty()) {
      Lit(p, "NULL,NULL,");
    } else {
      Q(p, r.sku);
      Put(p, ',');
      Q(p, r.rate_code);
      Put(p, ',');
    }
    Q(p, acct.id);
    Put(p, ',');
    Q(p, acct.name);
    Put(p, ',');
    Cat(p, r.focus_tags);
    // x_CostCategories, x_Discounts, x_Operation, x_ServiceCode, x_UsageType
    Lit(p, ",NULL,NULL,");
    QOrNull(p, r.operation);
    Put(p, ',');
    Q(p, prod.code);
    Put(p, ',');
    QOrNull(p, r.usage_type);
    Put(p, '\n');
  }

  const Generator& gen_;
  NumCache java_{PutJava}, fixed10_{PutFixed10}, fixed11_{PutFixed11}, fixed15_{PutFixed15},
      plain_{PutPlain};
  DemoFormat format_;
  std::string dir_;
  const DemoOptions& opt_;
  bool gzip_, cur2_, focus_;
  TsStyle ts_style_ = TsStyle::kSeconds;
  std::vector<Column> cols_;
  std::string header_;
  std::string quoted_entity_;
  std::string sp_start_, sp_end_;

  const Period* period_ = nullptr;
  UnixSeconds pstart_ = 0;
  std::vector<std::string> hour_ts_, interval_ts_;
  std::string bill_start_, bill_end_, invoice_id_, assembly_id_, execution_id_;
  std::string key_dir_, manifest_path_;
  std::vector<std::string> period_files_;
  int file_no_ = 0;
  OutFile file_;
  DemoFileInfo info_;
  std::vector<DemoFileInfo> files_;
};

// ---------------------------------------------------------------------------
// Option checking and scaling.

constexpr int64_t kMaxWorkspaces = 10'000'000;  // about 10^10 rows

struct Plan {
  int year = 0;
  unsigned month = 0;
  int64_t workspaces = 1;
};

StatusOr<Plan> MakePlan(const DemoOptions& opt) {
  Plan plan;
  const std::string& s = opt.start_month;
  const auto date = s.size() == 7 ? ParseDate(s + "-01") : std::nullopt;
  if (!date) return InvalidArgument("start_month must be YYYY-MM, got '" + s + "'");
  unsigned d = 0;
  CivilFromDays(*date, &plan.year, &plan.month, &d);
  if (plan.year < 1971 || plan.year > 2200)
    return InvalidArgument("start_month out of range: " + s);
  if (opt.months < 1 || opt.months > 120) {
    return InvalidArgument(fmt::format("months must be 1..120, got {}", opt.months));
  }
  if (opt.accounts < 1 || opt.accounts > 50) {
    return InvalidArgument(fmt::format("accounts must be 1..50, got {}", opt.accounts));
  }
  if (opt.regions < 1 || opt.regions > static_cast<int>(kRegions.size())) {
    return InvalidArgument(
        fmt::format("regions must be 1..{}, got {}", kRegions.size(), opt.regions));
  }
  if (opt.target_rows < 0 || opt.max_rows_per_file < 0) {
    return InvalidArgument("target_rows and max_rows_per_file must not be negative");
  }
  if (opt.report_name.empty() || opt.report_name.find_first_of("/\\") != std::string::npos) {
    return InvalidArgument("report_name must be a non-empty file name: '" + opt.report_name + "'");
  }
  const int64_t units = static_cast<int64_t>(opt.accounts) * opt.regions;
  plan.workspaces = units;
  if (opt.target_rows > 0) {
    const auto count = [&](int64_t workspaces) {
      Generator g(opt, plan.year, plan.month, workspaces);
      NullSink sink;
      g.Run(sink);
      int64_t n = 0;
      for (const DemoPeriodTotals& t : g.totals()) n += t.line_items;
      return n;
    };
    // Extra workspaces are random variations of the first ones, so measure
    // the average size of a few of them first.
    const int64_t natural = count(units);
    const int64_t per = std::max<int64_t>(1, (count(5 * units) - natural) / (4 * units));
    int64_t workspaces = std::clamp<int64_t>(units + RoundDiv(opt.target_rows - natural, per),
                                             units, kMaxWorkspaces);
    if (workspaces > units) {
      // One proportional correction from an exact count (generation without
      // formatting is cheap next to writing).
      const int64_t n = count(workspaces);
      workspaces = std::clamp<int64_t>(
          RoundDiv(static_cast<int128>(workspaces) * opt.target_rows, n), units, kMaxWorkspaces);
    }
    plan.workspaces = workspaces;
  }
  return plan;
}

}  // namespace

std::string_view DemoFormatName(DemoFormat format) {
  switch (format) {
    case DemoFormat::kLegacyCsv:
      return "legacy-csv";
    case DemoFormat::kLegacyCsvGz:
      return "legacy-csv-gz";
    case DemoFormat::kCur1Snake:
      return "cur1-snake";
    case DemoFormat::kCur2Csv:
      return "cur2-csv";
    case DemoFormat::kFocusCsv:
      return "focus-csv";
  }
  return "unknown";
}

std::optional<DemoFormat> DemoFormatFromName(std::string_view name) {
  for (DemoFormat f : AllDemoFormats()) {
    if (DemoFormatName(f) == name) return f;
  }
  return std::nullopt;
}

const std::vector<DemoFormat>& AllDemoFormats() {
  static const std::vector<DemoFormat> kAll = {DemoFormat::kLegacyCsv, DemoFormat::kLegacyCsvGz,
                                               DemoFormat::kCur1Snake, DemoFormat::kCur2Csv,
                                               DemoFormat::kFocusCsv};
  return kAll;
}

std::vector<std::string> DemoColumns(DemoFormat format) {
  std::vector<std::string> cols;
  switch (format) {
    case DemoFormat::kLegacyCsv:
    case DemoFormat::kLegacyCsvGz:
      for (const Column& c : kLegacyColumns) cols.emplace_back(c.name);
      break;
    case DemoFormat::kCur1Snake:
      for (const Column& c : kLegacyColumns) cols.push_back(SnakeName(c.name));
      break;
    case DemoFormat::kCur2Csv:
      for (const Column& c : kCur2Columns) cols.emplace_back(c.name);
      break;
    case DemoFormat::kFocusCsv:
      for (const auto& c : kFocusColumns) cols.emplace_back(c.first);
      break;
  }
  return cols;
}

StatusOr<std::vector<DemoFileInfo>> WriteDemoExport(const std::string& dir, DemoFormat format,
                                                    const DemoOptions& opt) {
  ASSIGN_OR_RETURN(const Plan plan, MakePlan(opt));
  RETURN_IF_ERROR(MakeDirs(dir));
  Generator gen(opt, plan.year, plan.month, plan.workspaces);
  ExportSink sink(gen, format, dir, opt);
  gen.Run(sink);
  if (!sink.status().ok()) return sink.status();
  return sink.TakeFiles();
}

StatusOr<std::vector<DemoPeriodTotals>> ComputeDemoTotals(const DemoOptions& opt) {
  ASSIGN_OR_RETURN(const Plan plan, MakePlan(opt));
  Generator gen(opt, plan.year, plan.month, plan.workspaces);
  NullSink sink;
  gen.Run(sink);
  return gen.totals();
}

}  // namespace sagebox::cost
