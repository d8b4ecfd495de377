// catalog.h: SageMaker ml.* instance specs and on-demand prices.
//
// Rules need to know what an instance is (vCPUs, memory, GPUs) to say what
// to resize it to, and what it costs per hour to price a recommendation
// when the bill alone does not tell. The catalog ships inside the binary
// (data/catalog/sagemaker_instances.json, embedded at build time) with the
// source and date of every number; a user file of the same shape can replace
// or add entries (MergeFile), for newer prices or types we do not know.
//
// A SageMaker ml.X instance has the hardware of EC2 X. Prices are per
// instance-hour, on demand, in USD, and only where a source gave one: a type
// without a price yields std::nullopt rather than a guess.
//
// Thread-safety: a value type. Const methods are safe to call concurrently;
// MergeFile is not (one writer, no readers meanwhile).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"

namespace sagebox::catalog {

struct InstanceSpec {
  std::string type;      // "ml.m5.4xlarge"
  std::string family;    // "m5"
  std::string size;      // "4xlarge"
  std::string category;  // "burstable"|"general"|"compute"|"memory"|"accelerated"
  int vcpu = 0;
  double memory_gib = 0;
  int gpus = 0;
  double gpu_memory_gib = 0;  // total over all GPUs
  std::string gpu_model;      // "NVIDIA T4", "" if none
  // Inferentia/Trainium devices: accelerated, but not GPUs (gpus stays 0).
  int accelerators = 0;
  std::string accelerator_model;  // "AWS Inferentia2", "" if none
  std::string spec_source;        // which source(s) the hardware numbers came from
};

struct PriceQuote {
  Decimal usd_per_hour;
  std::string region;  // the region the price is for (may differ from the one asked: fallback)
  std::string source;  // short source name, e.g. "aws-samples FMBench pricing.yml, 2025-04"
};

class Catalog {
 public:
  // The catalog embedded in the binary (parsed anew on each call: keep one).
  // Internal if the embedded JSON is broken (a unit test proves it is not).
  static StatusOr<Catalog> Builtin();
  // Parses a catalog document (shape in data/catalog/README.md). Every entry
  // must be complete. BadInput "label:line:col: what was expected" on any
  // syntax or shape error; nothing is partially loaded.
  static StatusOr<Catalog> FromJson(std::string_view text, std::string_view label);

  // Applies a user override file of the same shape: an entry whose type is
  // already known replaces only the fields it gives (prices merge by region);
  // an unknown type is added and must then give at least vcpu and memory_gib.
  // IoError if the file cannot be read, BadInput (path:line:col) if it is
  // malformed; on error the catalog is unchanged.
  Status MergeFile(Env* env, const std::string& path);

  // Accepts "ml.m5.4xlarge" and "m5.4xlarge" (ASCII case ignored); nullptr if
  // unknown. Pointers stay valid for the catalog's lifetime (MergeFile may
  // change the values they point to).
  const InstanceSpec* Find(std::string_view type) const;
  // Every type of `family` ("m5"; "ml.m5" also accepted), ascending by vcpu,
  // then memory, then name. Empty if the family is unknown.
  std::vector<const InstanceSpec*> Family(std::string_view family) const;
  // Same family, the largest type strictly smaller in (vcpu, memory) order;
  // nullptr if `type` is unknown or already the smallest.
  const InstanceSpec* NextSizeDown(std::string_view type) const;
  // The on-demand price in `region` if known, else the us-east-1 price (the
  // quote then names us-east-1), else nullopt (also for unknown types).
  std::optional<PriceQuote> OnDemandPrice(std::string_view type, std::string_view region) const;

  // True for the GPU families: p* and g* followed by a digit ("g4dn", "p3dn",
  // "g6e"), not Inferentia/Trainium. Accepts an optional "ml." prefix.
  static bool IsGpuFamily(std::string_view family);

  const std::string& source() const { return source_; }
  const std::string& as_of() const { return as_of_; }  // "YYYY-MM-DD"
  size_t size() const { return entries_.size(); }
  // Every type, sorted by name; for listings and tests.
  std::vector<const InstanceSpec*> All() const;

 private:
  struct Price {
    Decimal usd_per_hour;
    std::string source;
  };
  struct Entry {
    InstanceSpec spec;
    std::map<std::string, Price, std::less<>> prices;  // by region
  };
  // Parses `text` and applies it: complete=true demands full entries (a
  // catalog), false allows partial ones for known types (an override).
  Status Apply(std::string_view text, std::string_view label, bool complete);

  std::string source_;
  std::string as_of_;
  // Keyed by full type ("ml.m5.4xlarge"); map nodes keep pointers stable.
  std::map<std::string, Entry, std::less<>> entries_;
};

namespace internal {
// The embedded catalog document (generated from data/catalog at build time).
std::string_view BuiltinCatalogJson();
}  // namespace internal

}  // namespace sagebox::catalog
