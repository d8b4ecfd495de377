// usage_type.h: parses AWS billing usage type strings such as
// "USE1-Notebk:ml.t2.medium" into region, kind, detail and instance type.
//
// The grammar is `[REGIONCODE-]Kind[:detail]` (spec cost.md, "Usage type
// grammar"). The parsed kind is the USAGE_KIND dimension; the region is the
// REGION dimension; the instance type joins billing lines to the catalog.
// Parsing is done once per distinct usage type string, not per row.
//
// Thread-safety: pure functions over immutable static tables; safe to call
// from any number of threads at once.
//
// Canonicalisation
// ----------------
// * Region prefix: only a leading token that is a known region billing code
//   (matched ASCII case-insensitively, see RegionForCode) followed by '-' and
//   at least one more character. Exactly one prefix is stripped, so
//   "APN1-APN2-AWS-Out-Bytes" has region_code "APN1" and kind
//   "APN2-AWS-Out-Bytes". Anything else is not a prefix: "DataTransfer-Out-Bytes"
//   and "REGION-Notebk:x" have no region code, and so region "us-east-1".
//   region_code is stored upper-case ("use1-" gives "USE1").
// * Kind: the text between the prefix and the first ':' ("head"). SageMaker
//   heads are matched case-insensitively and respelled:
//
//     head (any case)           kind
//     ------------------------  ---------------------------------------------
//     Notebk                    "Notebk"
//     Studio                    "Studio:<App>"     e.g. "Studio:KernelGateway"
//     Studio_DW                 "Studio_DW:<App>"  e.g. "Studio_DW:KernelGateway"
//     Processing                "Processing"
//     processing_DW             "Processing_DW"
//     Host                      "Host"
//     Train                     "Train"
//     Train-Spot, TrSpt         "Train-Spot"
//     Tsform                    "Tsform"
//     AsyncInf                  "AsyncInf"
//     ServerlessInf             "ServerlessInf"
//     Canvas                    "Canvas"
//     Cluster                   "Cluster"
//
//   For Studio and Studio_DW the app is the detail up to its first '-'
//   ("KernelGateway-ml.t3.medium" -> app "KernelGateway"); "kernelgateway" in
//   any case is respelled "KernelGateway", other app names are kept as
//   written. With an empty detail, or a detail that is itself an "ml."
//   instance or VolumeUsage.*, the kind is just "Studio" / "Studio_DW".
//   Any other head (BoxUsage, TimedStorage-ByteHrs, DataTransfer-Out-Bytes,
//   ...) is kept verbatim as the kind.
// * detail: everything after the first ':', verbatim (may itself contain ':').
// * instance_type: set only for SageMaker "ml." instances: when the detail
//   (for Studio kinds, the part after "<App>-") is "ml.<family>..." made of
//   letters, digits, '.' and '-'. It is lower-cased. Works for any kind, so a
//   future "USE1-NewThing:ml.m5.large" still yields "ml.m5.large".
//   EC2-style "BoxUsage:t3.micro" gives "" (not a SageMaker instance).
// * is_storage: the detail starts with "VolumeUsage" (any case).
// * data_wrangler: the head is Studio_DW or processing_DW (any case).
#pragma once

#include <string>
#include <string_view>

namespace sagebox::cost {

struct UsageType {
  std::string region_code;     // "USE1"; "" when absent
  std::string region;          // "us-east-1"; absent prefix means "us-east-1"
  std::string kind;            // canonical kind, see the table above
  std::string detail;          // text after the first ':', e.g. "VolumeUsage.gp2"
  std::string instance_type;   // "ml.t3.medium" for SageMaker instance usage, else ""
  bool is_storage = false;     // detail is VolumeUsage.*
  bool data_wrangler = false;  // Studio_DW / processing_DW

  bool operator==(const UsageType&) const = default;
};

// Parses one usage type string. Never fails. Surrounding ASCII whitespace is
// ignored. Odd input: an empty (or all-blank) string gives an all-empty result
// (region "" too, since there is no usage to place). When the kind part would
// be empty (the text after any prefix starts with ':', e.g. ":x" or
// "USE1-:x"), that whole text goes into `kind` and `detail` is empty. Text
// with no known shape ("???", "REGION-Notebk:instanceType") is kept verbatim
// as kind/detail with region "us-east-1". Bytes that are not ASCII are kept
// as they are.
UsageType ParseUsageType(std::string_view text);

// Maps a region billing code ("USE1", "EU", "APS3"; ASCII case-insensitive) to
// its region name ("us-east-1", "eu-west-1", "ap-south-1"). Returns "" for an
// unknown code, the empty string, or a code with surrounding blanks. The
// returned view points at static storage.
std::string_view RegionForCode(std::string_view code);

}  // namespace sagebox::cost
