#include "cost/ingest.h"

#include <memory>
#include <set>
#include <unordered_map>

#include "core/strings.h"
#include "cost/billing_reader.h"
#include "cost/billing_table.h"
#include "cost/delivery.h"
#include "cost/usage_type.h"
#include "store/store.h"

namespace sagebox::cost {

namespace {

struct PeriodWriter {
  std::string file;
  UnixSeconds min_start = INT64_MAX, max_start = INT64_MIN;
  std::unique_ptr<store::SegmentWriter> seg;
  std::unique_ptr<LineItemWriter> items;
};

// Everything one ingest creates, so a failure can remove it all.
class IngestRun {
 public:
  IngestRun(Env* env, store::Store* st, const IngestOptions& opt) : env_(env), st_(st), opt_(opt) {}

  Status Run(const IngestPlan& plan, uint64_t total_bytes, IngestStats* stats) {
    total_bytes_ = total_bytes;
    for (const auto& u : plan.units) {
      Status s = RunUnit(u, stats);
      if (!s.ok()) {
        Abandon();
        return s;
      }
    }
    // Replace: a delivery drops what the same report stored earlier for its
    // periods; a loose file drops what the same file stored earlier.
    std::set<std::string> drop;
    for (const auto& old : st_->segments()) {
      if (replaced_sources_.count(old.source) ||
          replaced_periods_.count(old.source + "\n" + old.partition)) {
        drop.insert(old.file);
      }
    }
    stats->segments_replaced = static_cast<int>(drop.size());
    std::set<std::string> periods;
    for (const auto& a : added_) periods.insert(a.partition);
    stats->periods.assign(periods.begin(), periods.end());
    Status s = st_->Commit(std::vector<std::string>(drop.begin(), drop.end()), added_);
    if (!s.ok()) Abandon();
    return s;
  }

 private:
  Status RunUnit(const IngestUnit& u, IngestStats* stats) {
    std::map<Days, PeriodWriter> writers;
    std::vector<std::string> formats;
    LineItem item;
    for (const auto& path : u.files) {
      ASSIGN_OR_RETURN(auto reader, OpenBillingReader(env_, path));
      ++stats->formats[std::string(ExportFormatName(reader->format()))];
      formats.emplace_back(ExportFormatName(reader->format()));
      PeriodWriter* cur = nullptr;
      Days cur_period = -1;
      for (;;) {
        ASSIGN_OR_RETURN(bool more, reader->Next(&item));
        if (!more) break;
        if (item.billing_period != cur_period || cur == nullptr) {
          auto it = writers.find(item.billing_period);
          if (it == writers.end()) {
            PeriodWriter pw;
            pw.file = st_->NewSegmentFile();
            created_.push_back(pw.file);
            ASSIGN_OR_RETURN(
                pw.seg, store::SegmentWriter::Create(env_, st_->PathOf(pw.file), BillingColumns()));
            pw.items = std::make_unique<LineItemWriter>(pw.seg.get());
            it = writers.emplace(item.billing_period, std::move(pw)).first;
          }
          cur = &it->second;
          cur_period = item.billing_period;
        }
        RETURN_IF_ERROR(cur->items->Write(item, RegionOf(item)));
        cur->min_start = std::min(cur->min_start, item.usage_start);
        cur->max_start = std::max(cur->max_start, item.usage_start);
        ++stats->rows;
        if ((stats->rows & 0x3fff) == 0 && opt_.progress) {
          opt_.progress(done_bytes_ + reader->file_bytes_read(), total_bytes_,
                        static_cast<uint64_t>(stats->rows));
        }
      }
      stats->plain_bytes += reader->bytes_read();
      stats->file_bytes += reader->file_size();
      done_bytes_ += reader->file_size();
      ++stats->files;
      if (opt_.progress)
        opt_.progress(done_bytes_, total_bytes_, static_cast<uint64_t>(stats->rows));
    }
    nlohmann::json files = u.files;
    for (auto& [period, pw] : writers) {
      // The usage range lets queries skip segments without opening them.
      nlohmann::json meta = {{"files", files},
                             {"formats", formats},
                             {"period", FormatDate(period)},
                             {"usage_start_min", pw.min_start},
                             {"usage_start_max", pw.max_start}};
      if (!u.assembly_id.empty()) meta["assembly_id"] = u.assembly_id;
      if (!u.manifest.empty()) meta["manifest"] = u.manifest;
      RETURN_IF_ERROR(pw.seg->Finish(meta));
      store::SegmentInfo si;
      si.file = pw.file;
      si.partition = FormatMonth(period);
      si.source = u.source;
      si.rows = pw.seg->rows();
      si.meta = std::move(meta);
      added_.push_back(std::move(si));
      if (u.from_manifest) replaced_periods_.insert(u.source + "\n" + FormatMonth(period));
    }
    if (!u.from_manifest) replaced_sources_.insert(u.source);
    return Status::Ok();
  }

  // The export's region, else the one the usage type's prefix names.
  std::string_view RegionOf(const LineItem& it) {
    if (!it.region.empty() || it.usage_type.empty()) return it.region;
    auto f = region_cache_.find(it.usage_type);  // no allocation per row
    if (f == region_cache_.end()) {
      f = region_cache_.emplace(std::string(it.usage_type), ParseUsageType(it.usage_type).region)
              .first;
    }
    return f->second;
  }

  void Abandon() { st_->Abandon(created_); }

  Env* env_;
  store::Store* st_;
  const IngestOptions& opt_;
  uint64_t total_bytes_ = 0, done_bytes_ = 0;
  std::vector<std::string> created_;
  std::vector<store::SegmentInfo> added_;
  std::set<std::string> replaced_sources_;
  std::set<std::string> replaced_periods_;  // "source\nperiod"
  std::unordered_map<std::string, std::string, StringViewHash, std::equal_to<>> region_cache_;
};

}  // namespace

StatusOr<IngestStats> Ingest(Env* env, const std::string& store_dir,
                             const std::vector<std::string>& paths, const IngestOptions& opt) {
  ASSIGN_OR_RETURN(IngestPlan plan, PlanIngest(env, paths));
  IngestStats stats;
  stats.skipped = plan.skipped;
  stats.ignored = plan.ignored;
  if (plan.units.empty()) {
    return BadInput("no billing data found in " +
                    (paths.empty() ? std::string("(no paths)") : paths[0]) +
                    " (expected .csv, .csv.gz or .csv.zip files or a folder of them)");
  }
  uint64_t total = 0;
  for (const auto& u : plan.units) {
    for (const auto& f : u.files) {
      auto sz = env->FileSize(f);
      if (sz.ok()) total += *sz;
    }
  }
  ASSIGN_OR_RETURN(auto st, store::Store::Open(env, store_dir));
  RETURN_IF_ERROR(st->BeginWrite());
  IngestRun run(env, st.get(), opt);
  RETURN_IF_ERROR(run.Run(plan, total, &stats));
  return stats;
}

}  // namespace sagebox::cost
