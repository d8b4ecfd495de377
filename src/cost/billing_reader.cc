#include "cost/billing_reader.h"

#include <array>
#include <unordered_map>

#include "cost/billing_columns.h"
#include "cost/parquet_billing_reader.h"
#include "io/byte_source.h"
#include "io/csv_reader.h"

namespace sagebox::cost {

std::string_view ExportFormatName(ExportFormat f) {
  switch (f) {
    case ExportFormat::kLegacyCur:
      return "legacy-cur";
    case ExportFormat::kCur1Snake:
      return "cur1-athena";
    case ExportFormat::kCur2:
      return "cur2";
    case ExportFormat::kFocus:
      return "focus";
  }
  return "unknown";
}

namespace internal {

namespace {

struct Binding {
  Field field;
  std::string_view column;
};

constexpr Binding kLegacy[] = {
    {kBillingPeriodStart, "bill/BillingPeriodStartDate"},
    {kUsageStart, "lineItem/UsageStartDate"},
    {kUsageEnd, "lineItem/UsageEndDate"},
    {kPayer, "bill/PayerAccountId"},
    {kUsageAccount, "lineItem/UsageAccountId"},
    {kLineItemType, "lineItem/LineItemType"},
    {kProductCode, "lineItem/ProductCode"},
    {kUsageType, "lineItem/UsageType"},
    {kOperation, "lineItem/Operation"},
    {kRegion, "product/region"},
    {kRegionCode, "product/regionCode"},
    {kAz, "lineItem/AvailabilityZone"},
    {kResourceId, "lineItem/ResourceId"},
    {kCurrency, "lineItem/CurrencyCode"},
    {kPricingTerm, "pricing/term"},
    {kSpArn, "savingsPlan/SavingsPlanARN"},
    {kRiArn, "reservation/ReservationARN"},
    {kUsageAmount, "lineItem/UsageAmount"},
    {kUnblended, "lineItem/UnblendedCost"},
    {kBlended, "lineItem/BlendedCost"},
    {kNetUnblended, "lineItem/NetUnblendedCost"},
    {kPublicOnDemand, "pricing/publicOnDemandCost"},
    {kSpEffective, "savingsPlan/SavingsPlanEffectiveCost"},
    {kSpTotalCommitment, "savingsPlan/TotalCommitmentToDate"},
    {kSpUsedCommitment, "savingsPlan/UsedCommitment"},
    {kSpRate, "savingsPlan/SavingsPlanRate"},
    {kRiEffective, "reservation/EffectiveCost"},
    {kRiUnusedUpfront, "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"},
    {kRiUnusedRecurring, "reservation/UnusedRecurringFee"},
    {kUnblendedRate, "lineItem/UnblendedRate"},
    {kBlendedRate, "lineItem/BlendedRate"},
    {kDescription, "lineItem/LineItemDescription"},
    {kProductName, "product/ProductName"},
};

// CUR 1.0 for Athena and CUR 2.0 share the snake_case names.
constexpr Binding kSnake[] = {
    {kBillingPeriodStart, "bill_billing_period_start_date"},
    {kUsageStart, "line_item_usage_start_date"},
    {kUsageEnd, "line_item_usage_end_date"},
    {kPayer, "bill_payer_account_id"},
    {kUsageAccount, "line_item_usage_account_id"},
    {kLineItemType, "line_item_line_item_type"},
    {kProductCode, "line_item_product_code"},
    {kUsageType, "line_item_usage_type"},
    {kOperation, "line_item_operation"},
    {kRegion, "product_region"},
    {kRegionCode, "product_region_code"},
    {kAz, "line_item_availability_zone"},
    {kResourceId, "line_item_resource_id"},
    {kCurrency, "line_item_currency_code"},
    {kPricingTerm, "pricing_term"},
    {kSpArn, "savings_plan_savings_plan_a_r_n"},
    {kRiArn, "reservation_reservation_a_r_n"},
    {kUsageAmount, "line_item_usage_amount"},
    {kUnblended, "line_item_unblended_cost"},
    {kBlended, "line_item_blended_cost"},
    {kNetUnblended, "line_item_net_unblended_cost"},
    {kPublicOnDemand, "pricing_public_on_demand_cost"},
    {kSpEffective, "savings_plan_savings_plan_effective_cost"},
    {kSpTotalCommitment, "savings_plan_total_commitment_to_date"},
    {kSpUsedCommitment, "savings_plan_used_commitment"},
    {kSpRate, "savings_plan_savings_plan_rate"},
    {kRiEffective, "reservation_effective_cost"},
    {kRiUnusedUpfront, "reservation_unused_amortized_upfront_fee_for_billing_period"},
    {kRiUnusedRecurring, "reservation_unused_recurring_fee"},
    {kTagsJson, "resource_tags"},
    {kUnblendedRate, "line_item_unblended_rate"},
    {kBlendedRate, "line_item_blended_rate"},
    {kDescription, "line_item_line_item_description"},
    {kProductName, "product_product_name"},
};

constexpr Binding kFocus[] = {
    {kBillingPeriodStart, "BillingPeriodStart"},
    {kUsageStart, "ChargePeriodStart"},
    {kUsageEnd, "ChargePeriodEnd"},
    {kPayer, "BillingAccountId"},
    {kUsageAccount, "SubAccountId"},
    {kProductCode, "x_ServiceCode"},
    {kUsageType, "x_UsageType"},
    {kOperation, "x_Operation"},
    {kRegion, "RegionId"},
    {kRegionCode, "Region"},
    {kAz, "AvailabilityZone"},
    {kResourceId, "ResourceId"},
    {kCurrency, "BillingCurrency"},
    {kPricingTerm, "PricingCategory"},
    {kSpArn, "CommitmentDiscountId"},
    {kUsageAmount, "ConsumedQuantity"},
    {kUnblended, "BilledCost"},
    {kPublicOnDemand, "ListCost"},
    {kTagsJson, "Tags"},
    {kFocusChargeCategory, "ChargeCategory"},
    {kFocusChargeFrequency, "ChargeFrequency"},
    {kFocusCommitmentType, "CommitmentDiscountType"},
    {kFocusCommitmentStatus, "CommitmentDiscountStatus"},
    {kFocusEffectiveCost, "EffectiveCost"},
    {kFocusServiceName, "ServiceName"},
    {kDescription, "ChargeDescription"},
    {kProductName, "ServiceName"},
};

constexpr Field kLegacyRequired[] = {kUsageStart, kLineItemType, kProductCode, kUsageType,
                                     kUnblended};
constexpr Field kSnakeRequired[] = {kUsageStart, kLineItemType, kProductCode, kUsageType,
                                    kUnblended};
constexpr Field kFocusRequired[] = {kUsageStart, kBillingPeriodStart, kUnblended,
                                    kFocusEffectiveCost, kFocusChargeCategory};

}  // namespace

bool ParseFlatJsonObject(std::string_view s, std::string* arena,
                         std::vector<std::pair<size_t, size_t>>* spans) {
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  auto str = [&](bool allow_scalar) -> bool {
    ws();
    size_t begin = arena->size();
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        char c = s[i++];
        if (c == '\\') {
          if (i >= s.size()) return false;
          char e = s[i++];
          switch (e) {
            case 'n':
              c = '\n';
              break;
            case 't':
              c = '\t';
              break;
            case 'r':
              c = '\r';
              break;
            case 'b':
              c = '\b';
              break;
            case 'f':
              c = '\f';
              break;
            case 'u': {
              if (i + 4 > s.size()) return false;
              unsigned cp = 0;
              for (int k = 0; k < 4; ++k) {
                char h = s[i++];
                cp <<= 4;
                if (h >= '0' && h <= '9')
                  cp |= static_cast<unsigned>(h - '0');
                else if (h >= 'a' && h <= 'f')
                  cp |= static_cast<unsigned>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                  cp |= static_cast<unsigned>(h - 'A' + 10);
                else
                  return false;
              }
              // Tags are ASCII in practice; encode the BMP code point as UTF-8.
              if (cp < 0x80) {
                arena->push_back(static_cast<char>(cp));
              } else if (cp < 0x800) {
                arena->push_back(static_cast<char>(0xC0 | (cp >> 6)));
                arena->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
              } else {
                arena->push_back(static_cast<char>(0xE0 | (cp >> 12)));
                arena->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
                arena->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
              }
              continue;
            }
            default:
              c = e;
          }
        }
        arena->push_back(c);
      }
      if (i >= s.size()) return false;
      ++i;
    } else if (allow_scalar) {
      size_t b = i;
      while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
      std::string_view v = s.substr(b, i - b);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      if (v.empty()) return false;
      if (v != "null") arena->append(v);
    } else {
      return false;
    }
    spans->emplace_back(begin, arena->size() - begin);
    return true;
  };
  ws();
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  ws();
  if (i < s.size() && s[i] == '}') return ++i, ws(), i == s.size();
  for (;;) {
    if (!str(false)) return false;
    ws();
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    if (!str(true)) return false;
    ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') {
      ++i;
      ws();
      return i == s.size();
    }
    return false;
  }
}

bool Has(const std::vector<std::string>& h, std::string_view name) {
  for (const auto& c : h) {
    if (c == name) return true;
  }
  return false;
}

StatusOr<ExportFormat> DetectFormat(const std::vector<std::string>& h, const std::string& file) {
  if (Has(h, "lineItem/UsageStartDate") || Has(h, "lineItem/LineItemType") ||
      Has(h, "identity/LineItemId")) {
    return ExportFormat::kLegacyCur;
  }
  if (Has(h, "line_item_usage_start_date") || Has(h, "line_item_line_item_type")) {
    bool maps = Has(h, "product") || Has(h, "resource_tags") || Has(h, "cost_category") ||
                Has(h, "discount");
    return maps ? ExportFormat::kCur2 : ExportFormat::kCur1Snake;
  }
  if (Has(h, "BilledCost") && Has(h, "ChargePeriodStart")) return ExportFormat::kFocus;
  std::string first = h.empty() ? "" : h[0];
  return BadInput(file +
                  ":1:1: unknown format: the header matches no billing export (expected "
                  "legacy CUR columns like 'lineItem/UsageStartDate', CUR 1.0/2.0 "
                  "columns like 'line_item_usage_start_date', or FOCUS columns like "
                  "'BilledCost'; found '" +
                  first.substr(0, 60) + "' first)");
}

Status BindColumns(ExportFormat fmt, const std::vector<std::string>& header,
                   const std::string& file, BoundColumns* out) {
  ColumnIndex& idx = out->idx;
  idx.fill(-1);
  out->tag_cols.clear();
  std::unordered_map<std::string_view, int> pos;
  for (size_t i = 0; i < header.size(); ++i) pos.emplace(header[i], static_cast<int>(i));
  auto bind = [&](const auto& table) {
    for (const Binding& b : table) {
      auto it = pos.find(b.column);
      if (it != pos.end()) idx[b.field] = it->second;
    }
  };
  std::string_view tag_prefix;
  switch (fmt) {
    case ExportFormat::kLegacyCur:
      bind(kLegacy);
      tag_prefix = "resourceTags/";
      break;
    case ExportFormat::kCur1Snake:
    case ExportFormat::kCur2:
      bind(kSnake);
      tag_prefix = "resource_tags_";
      break;
    case ExportFormat::kFocus:
      bind(kFocus);
      break;
  }
  // FOCUS 1.0-preview and 1.2 spellings.
  if (fmt == ExportFormat::kFocus) {
    if (idx[kUsageAmount] < 0 && pos.count("UsageQuantity"))
      idx[kUsageAmount] = pos["UsageQuantity"];
    if (idx[kRegion] < 0 && pos.count("RegionId")) idx[kRegion] = pos["RegionId"];
  }
  if (!tag_prefix.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].size() > tag_prefix.size() &&
          header[i].compare(0, tag_prefix.size(), tag_prefix) == 0) {
        out->tag_cols.emplace_back(static_cast<int>(i), NormalizeTagKey(header[i]));
      }
    }
  }
  auto require = [&](const auto& req, const auto& table) -> Status {
    for (Field f : req) {
      if (idx[f] >= 0) continue;
      std::string_view col;
      for (const Binding& b : table) {
        if (b.field == f) col = b.column;
      }
      return BadInput(file + ":1:1: missing required column '" + std::string(col) + "' for a " +
                      std::string(ExportFormatName(fmt)) + " export");
    }
    return Status::Ok();
  };
  switch (fmt) {
    case ExportFormat::kLegacyCur:
      return require(kLegacyRequired, kLegacy);
    case ExportFormat::kCur1Snake:
    case ExportFormat::kCur2:
      return require(kSnakeRequired, kSnake);
    case ExportFormat::kFocus:
      return require(kFocusRequired, kFocus);
  }
  return Status::Ok();
}

}  // namespace internal

namespace {

using internal::Field;

class CsvBillingReader final : public BillingReader {
 public:
  CsvBillingReader(ExportFormat fmt, std::unique_ptr<io::ByteSource> src)
      : fmt_(fmt), src_(std::move(src)), csv_(src_.get()) {}

  Status ReadHeader() {
    ASSIGN_OR_RETURN(bool any, csv_.Next());
    if (!any || (csv_.num_fields() == 1 && csv_.field(0).empty())) {
      return BadInput(name() +
                      ":1:1: the file is empty (expected a header row of a billing "
                      "export)");
    }
    header_.assign(csv_.fields().begin(), csv_.fields().end());
    return Status::Ok();
  }

  const std::vector<std::string>& header() const { return header_; }

  // Binds columns for `fmt_`; BadInput naming the first missing required column.
  Status Bind() { return internal::BindColumns(fmt_, header_, name(), &cols_); }

  ExportFormat format() const override { return fmt_; }
  void set_format(ExportFormat f) { fmt_ = f; }
  uint64_t bytes_read() const override { return csv_.bytes_read(); }
  uint64_t file_bytes_read() const override { return src_->CompressedBytesRead(); }
  uint64_t file_size() const override { return src_->CompressedSize(); }
  const std::string& name() const override { return src_->name(); }

  StatusOr<bool> Next(LineItem* it) override {
    for (;;) {
      ASSIGN_OR_RETURN(bool any, csv_.Next());
      if (!any) return false;
      const size_t n = csv_.num_fields();
      if (n == 1 && csv_.field(0).empty()) continue;  // blank line
      if (n != header_.size()) {
        size_t col = n > header_.size() ? header_.size() : n - 1;
        return BadInput(csv_.Location(col) + ": expected " + std::to_string(header_.size()) +
                        " fields as in the header, found " + std::to_string(n));
      }
      RETURN_IF_ERROR(internal::MapRow(fmt_, cols_.idx, *this, it));
      return true;
    }
  }

  // The row accessor for internal::MapRow.
  std::string_view Str(Field f) const {
    int i = cols_.idx[f];
    if (i < 0) return {};
    std::string_view v = csv_.field(static_cast<size_t>(i));
    if (fmt_ == ExportFormat::kFocus && v == "NULL") return {};
    return v;
  }

  bool Present(Field f) const { return cols_.idx[f] >= 0 && !internal::IsNull(Str(f)); }

  Status Num(Field f, Decimal* out) const {
    int i = cols_.idx[f];
    if (i < 0) {
      *out = Decimal();
      return Status::Ok();
    }
    std::string_view v = csv_.field(static_cast<size_t>(i));
    if (internal::IsNull(v)) {
      *out = Decimal();
      return Status::Ok();
    }
    if (!Decimal::Parse(v, out)) {
      return BadInput(csv_.Location(static_cast<size_t>(i)) + ": expected a number in column '" +
                      header_[static_cast<size_t>(i)] + "', found '" + std::string(v) + "'");
    }
    return Status::Ok();
  }

  Status Time(Field f, UnixSeconds* out, bool required) const {
    int i = cols_.idx[f];
    std::string_view v = i < 0 ? std::string_view() : csv_.field(static_cast<size_t>(i));
    if (internal::IsNull(v)) {
      if (!required || i < 0) {
        *out = 0;
        return Status::Ok();
      }
      return BadInput(csv_.Location(static_cast<size_t>(i)) +
                      ": expected a timestamp like "
                      "2024-01-01T00:00:00Z in column '" +
                      header_[static_cast<size_t>(i)] + "', found an empty value");
    }
    auto t = ParseTimestamp(v);
    if (!t) {
      return BadInput(csv_.Location(static_cast<size_t>(i)) +
                      ": expected a timestamp like "
                      "2024-01-01T00:00:00Z in column '" +
                      header_[static_cast<size_t>(i)] + "', found '" + std::string(v) + "'");
    }
    *out = *t;
    return Status::Ok();
  }

  Status Tags(LineItem* it) {
    it->tags.clear();
    for (const auto& [col, key] : cols_.tag_cols) {
      std::string_view v = csv_.field(static_cast<size_t>(col));
      if (!internal::IsNull(v)) it->tags.emplace_back(key, v);
    }
    int j = cols_.idx[internal::kTagsJson];
    if (j >= 0) {
      std::string_view v = csv_.field(static_cast<size_t>(j));
      if (!internal::IsNull(v) && v != "{}") {
        arena_.clear();
        spans_.clear();
        if (!internal::ParseFlatJsonObject(v, &arena_, &spans_) || spans_.size() % 2 != 0) {
          return BadInput(csv_.Location(static_cast<size_t>(j)) +
                          ": expected a JSON object of "
                          "tags like {\"user:team\":\"ml\"} in column '" +
                          header_[static_cast<size_t>(j)] + "'");
        }
        json_keys_.clear();
        for (size_t k = 0; k < spans_.size(); k += 2) {
          json_keys_.push_back(
              NormalizeTagKey(std::string_view(arena_).substr(spans_[k].first, spans_[k].second)));
        }
        for (size_t k = 0; k < spans_.size(); k += 2) {
          std::string_view val =
              std::string_view(arena_).substr(spans_[k + 1].first, spans_[k + 1].second);
          if (!val.empty()) it->tags.emplace_back(json_keys_[k / 2], val);
        }
      }
    }
    return Status::Ok();
  }

  ExportFormat fmt_;
  std::unique_ptr<io::ByteSource> src_;
  io::CsvReader csv_;
  std::vector<std::string> header_;
  internal::BoundColumns cols_;
  std::string arena_;
  std::vector<std::pair<size_t, size_t>> spans_;
  std::vector<std::string> json_keys_;
};

}  // namespace

StatusOr<std::unique_ptr<BillingReader>> OpenBillingReader(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(auto src, io::OpenInput(env, path));
  ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
  if (size == 0) {
    return BadInput(path + ":1:1: the file is empty (expected a header row of a billing export)");
  }
  if (size >= 4) {
    char magic[4];
    ASSIGN_OR_RETURN(auto f, env->OpenSequential(path));
    size_t got = 0;
    RETURN_IF_ERROR(f->Read(magic, 4, &got));
    if (got == 4 && std::string_view(magic, 4) == "PAR1")
      return OpenParquetBillingReader(env, path);
  }
  // Decompress on a second thread so inflating and parsing overlap.
  auto reader =
      std::make_unique<CsvBillingReader>(ExportFormat::kLegacyCur, io::Prefetch(std::move(src)));
  RETURN_IF_ERROR(reader->ReadHeader());
  ASSIGN_OR_RETURN(ExportFormat fmt, internal::DetectFormat(reader->header(), path));
  reader->set_format(fmt);
  RETURN_IF_ERROR(reader->Bind());
  return std::unique_ptr<BillingReader>(std::move(reader));
}

}  // namespace sagebox::cost
