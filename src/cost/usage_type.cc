// usage_type.cc: see usage_type.h.
#include "cost/usage_type.h"

#include <cstddef>

namespace sagebox::cost {
namespace {

struct RegionEntry {
  std::string_view code;
  std::string_view region;
};

// Region billing codes. Source: AWS, "AWS Region billing codes",
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html
// (the codes AWS puts in front of line_item_usage_type, e.g. "APE1-USE1-AWS-In-Bytes").
// "EUW1" is not on that page (AWS writes "EU" for eu-west-1); it is kept as an alias
// because the product brief lists it. China (cn-*) codes are left out: they are not on
// that page and sagebox does not read China-partition bills.
constexpr RegionEntry kRegions[] = {
    // North America
    {"USE1", "us-east-1"},
    {"USE2", "us-east-2"},
    {"USW1", "us-west-1"},
    {"USW2", "us-west-2"},
    {"CAN1", "ca-central-1"},
    {"CAN2", "ca-west-1"},
    {"MXC1", "mx-central-1"},
    {"UGW1", "us-gov-west-1"},
    {"UGE1", "us-gov-east-1"},
    // South America
    {"SAE1", "sa-east-1"},
    // Europe
    {"EU", "eu-west-1"},
    {"EUW1", "eu-west-1"},
    {"EUW2", "eu-west-2"},
    {"EUW3", "eu-west-3"},
    {"EUC1", "eu-central-1"},
    {"EUC2", "eu-central-2"},
    {"EUN1", "eu-north-1"},
    {"EUS1", "eu-south-1"},
    {"EUS2", "eu-south-2"},
    // Asia Pacific
    {"APE1", "ap-east-1"},
    {"APE2", "ap-east-2"},
    {"APN1", "ap-northeast-1"},
    {"APN2", "ap-northeast-2"},
    {"APN3", "ap-northeast-3"},
    {"APS1", "ap-southeast-1"},
    {"APS2", "ap-southeast-2"},
    {"APS3", "ap-south-1"},
    {"APS4", "ap-southeast-3"},
    {"APS5", "ap-south-2"},
    {"APS6", "ap-southeast-4"},
    {"APS7", "ap-southeast-5"},
    {"APS8", "ap-southeast-6"},
    {"APS9", "ap-southeast-7"},
    // Middle East, Israel, Africa
    {"MES1", "me-south-1"},
    {"MEC1", "me-central-1"},
    {"ILC1", "il-central-1"},
    {"AFS1", "af-south-1"},
};

constexpr std::string_view kDefaultRegion = "us-east-1";

struct KindEntry {
  std::string_view head;  // as matched, case-insensitively
  std::string_view kind;  // canonical spelling
  bool studio;            // detail is "<App>-<instance>"
  bool data_wrangler;
};

constexpr KindEntry kKinds[] = {
    {"Notebk", "Notebk", false, false},
    {"Studio", "Studio", true, false},
    {"Studio_DW", "Studio_DW", true, true},
    {"Processing", "Processing", false, false},
    {"processing_DW", "Processing_DW", false, true},
    {"Host", "Host", false, false},
    {"Train", "Train", false, false},
    {"Train-Spot", "Train-Spot", false, false},
    {"TrSpt", "Train-Spot", false, false},
    {"Tsform", "Tsform", false, false},
    {"AsyncInf", "AsyncInf", false, false},
    {"ServerlessInf", "ServerlessInf", false, false},
    {"Canvas", "Canvas", false, false},
    {"Cluster", "Cluster", false, false},
};

constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
constexpr bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// "ml.<alnum>[alnum.-]*" lower-cased, else "".
std::string SageMakerInstance(std::string_view s) {
  if (s.size() < 4 || !StartsWithIgnoreCase(s, "ml.") || !IsAlnum(s[3])) return {};
  std::string out(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!IsAlnum(c) && c != '.' && c != '-') return {};
    out[i] = ToLower(c);
  }
  return out;
}

const KindEntry* FindKind(std::string_view head) {
  for (const KindEntry& k : kKinds) {
    if (EqualsIgnoreCase(head, k.head)) return &k;
  }
  return nullptr;
}

}  // namespace

std::string_view RegionForCode(std::string_view code) {
  for (const RegionEntry& r : kRegions) {
    if (EqualsIgnoreCase(code, r.code)) return r.region;
  }
  return {};
}

UsageType ParseUsageType(std::string_view text) {
  UsageType u;
  text = Trim(text);
  if (text.empty()) return u;

  // Optional region prefix: a known code, '-', and something after it.
  std::string_view rest = text;
  if (const size_t dash = text.find('-');
      dash != std::string_view::npos && dash + 1 < text.size()) {
    const std::string_view code = text.substr(0, dash);
    if (const std::string_view region = RegionForCode(code); !region.empty()) {
      u.region_code.resize(code.size());
      for (size_t i = 0; i < code.size(); ++i) u.region_code[i] = ToUpper(code[i]);
      u.region = region;
      rest = text.substr(dash + 1);
    }
  }
  if (u.region.empty()) u.region = kDefaultRegion;

  const size_t colon = rest.find(':');
  const std::string_view head = rest.substr(0, colon);
  if (head.empty()) {  // ":x": no kind to speak of; keep the text whole.
    u.kind = rest;
    return u;
  }
  const std::string_view detail =
      colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  u.detail = detail;
  u.is_storage = StartsWithIgnoreCase(detail, "VolumeUsage");
  u.instance_type = SageMakerInstance(detail);

  const KindEntry* k = FindKind(head);
  if (k == nullptr) {
    u.kind = head;
    return u;
  }
  u.data_wrangler = k->data_wrangler;
  u.kind = k->kind;
  if (k->studio && !detail.empty() && u.instance_type.empty() && !u.is_storage) {
    // "<App>-<instance>", e.g. "KernelGateway-ml.t3.medium".
    const size_t dash = detail.find('-');
    std::string_view app = detail.substr(0, dash);
    if (!app.empty()) {
      if (EqualsIgnoreCase(app, "KernelGateway")) app = "KernelGateway";
      u.kind.reserve(u.kind.size() + 1 + app.size());
      u.kind += ':';
      u.kind += app;
      if (dash != std::string_view::npos)
        u.instance_type = SageMakerInstance(detail.substr(dash + 1));
    }
  }
  return u;
}

}  // namespace sagebox::cost
