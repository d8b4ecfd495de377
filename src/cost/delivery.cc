#include "cost/delivery.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/strings.h"

namespace sagebox::cost {

namespace {

bool IsManifestName(const std::string& name) { return EndsWith(name, "-Manifest.json"); }

bool IsDataName(const std::string& name) {
  std::string l = AsciiLower(name);
  return EndsWith(l, ".csv") || EndsWith(l, ".csv.gz") || EndsWith(l, ".csv.zip") ||
         EndsWith(l, ".gz") || EndsWith(l, ".zip") || EndsWith(l, ".parquet");
}

// "report-00001.csv.gz" -> "report-00001.csv": manifests name the compressed
// file; a user may have decompressed it.
std::string StripCompression(std::string n) {
  for (std::string_view s : {".gz", ".zip"}) {
    if (EndsWith(AsciiLower(n), s)) n.resize(n.size() - s.size());
  }
  return n;
}

std::vector<std::string> Split(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// A folder name that identifies a billing period in AWS's layouts.
bool IsPeriodToken(const std::string& n) {
  static const std::regex legacy(R"(\d{8}-\d{8})");
  return std::regex_match(n, legacy) || n.rfind("BILLING_PERIOD=", 0) == 0;
}

// The Athena-style partition folder of a period token ("20240101-20240201" or
// "BILLING_PERIOD=2024-01" -> "/year=2024/month=1/"); CUR 1.0 for Athena keeps
// a period's Parquet files there, outside the period folder. "" if unknown.
std::string PartitionOf(const std::string& token) {
  std::string ym;
  if (token.rfind("BILLING_PERIOD=", 0) == 0 && token.size() >= 22) {
    ym = token.substr(15, 4) + token.substr(20, 2);
  } else if (token.size() == 17 && token[8] == '-') {
    ym = token.substr(0, 6);
  }
  if (ym.size() != 6 || ym.find_first_not_of("0123456789") != std::string::npos) return "";
  int month = std::stoi(ym.substr(4, 2));
  return "/year=" + ym.substr(0, 4) + "/month=" + std::to_string(month) + "/";
}

Status Walk(Env* env, const std::string& dir, std::vector<std::string>* files) {
  ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  for (const auto& n : names) {
    if (n.empty() || n[0] == '.') continue;
    std::string p = JoinPath(dir, n);
    if (env->IsDirectory(p)) {
      RETURN_IF_ERROR(Walk(env, p, files));
    } else {
      files->push_back(p);
    }
  }
  return Status::Ok();
}

struct Manifest {
  std::string path;
  std::string period_token;  // "" if the manifest is not in a period folder
  std::string root;          // where its data files are searched
  std::string assembly_id;
  std::string report;                 // identity of the report or export, across folders
  std::string text;                   // the manifest itself, for error locations
  std::vector<std::string> keys;      // relative to the bucket
  std::vector<std::string> raw_keys;  // as written (s3://... for CUR 2.0)
  size_t depth = 0;
};

StatusOr<Manifest> ReadManifest(Env* env, const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return BadInput(path + ":1:1: expected a JSON object (an AWS billing export manifest)");
  }
  Manifest m;
  m.path = path;
  m.text = text;
  m.assembly_id = j.value("assemblyId", j.value("executionId", ""));
  // Which report this is, independent of where it was synced to: CUR 2.0
  // exports carry their ARN, legacy manifests the payer account and name.
  if (j.contains("exportArn") && j["exportArn"].is_string()) {
    m.report = j["exportArn"].get<std::string>();
  } else if (j.contains("reportName") && j["reportName"].is_string()) {
    m.report = j.value("account", std::string()) + "/" + j["reportName"].get<std::string>();
  }
  for (const char* field : {"reportKeys", "dataFiles"}) {
    if (!j.contains(field)) continue;
    if (!j[field].is_array())
      return BadInput(path + ": '" + field + "' must be an array of file names");
    for (const auto& k : j[field]) {
      if (!k.is_string()) return BadInput(path + ": '" + field + "' must hold strings");
      std::string key = k.get<std::string>();
      m.raw_keys.push_back(key);
      if (key.rfind("s3://", 0) == 0) {
        size_t slash = key.find('/', 5);
        key = slash == std::string::npos ? "" : key.substr(slash + 1);
      }
      m.keys.push_back(key);
    }
  }
  if (m.keys.empty()) {
    return BadInput(path +
                    ": the manifest names no data files (expected 'reportKeys' or "
                    "'dataFiles')");
  }
  std::string dir = Dirname(path);
  std::string dname = Basename(dir);
  m.depth = Split(path).size();
  if (IsPeriodToken(dname)) {
    m.period_token = dname;
    std::string parent = Dirname(dir);
    // CUR 2.0: <export>/metadata/BILLING_PERIOD=X/ ; data under <export>/data/.
    m.root = Basename(parent) == "metadata" ? Dirname(parent) : parent;
  } else if (IsPeriodToken(Basename(Dirname(dir)))) {
    // A manifest copy inside an assembly folder: <period>/<assemblyId>/.
    m.period_token = Basename(Dirname(dir));
    m.root = Dirname(Dirname(dir));
  } else {
    m.root = dir;
  }
  if (m.report.empty()) m.report = m.root;
  return m;
}

// "file:line:col" of the first occurrence of `needle` in the manifest text.
std::string LocationIn(const Manifest& m, const std::string& needle) {
  size_t at = m.text.find(needle);
  if (at == std::string::npos) return m.path;
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (m.text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return m.path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

size_t CommonSuffix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() &&
         StripCompression(a[a.size() - 1 - n]) == StripCompression(b[b.size() - 1 - n])) {
    ++n;
  }
  return n;
}

bool Under(const std::string& path, const std::string& root) {
  return root == "." || path.rfind(root + "/", 0) == 0;
}

}  // namespace

StatusOr<IngestPlan> PlanIngest(Env* env, const std::vector<std::string>& paths) {
  IngestPlan plan;
  std::vector<std::string> data;  // candidate data files, in walk order
  std::vector<std::string> manifests;
  std::set<std::string> explicit_files;
  for (const auto& raw : paths) {
    std::string p = raw;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (!env->Exists(p)) return NotFound(p + ": no such file or folder");
    if (env->IsDirectory(p)) {
      std::vector<std::string> files;
      RETURN_IF_ERROR(Walk(env, p, &files));
      for (const auto& f : files) {
        std::string n = Basename(f);
        if (IsManifestName(n))
          manifests.push_back(f);
        else if (IsDataName(n))
          data.push_back(f);
        else
          plan.ignored.push_back(f);
      }
    } else if (IsManifestName(Basename(p))) {
      manifests.push_back(p);
      // Its data files live in the report folder around it.
      ASSIGN_OR_RETURN(Manifest m, ReadManifest(env, p));
      std::vector<std::string> files;
      RETURN_IF_ERROR(Walk(env, m.root, &files));
      for (const auto& f : files) {
        if (IsDataName(Basename(f))) data.push_back(f);
      }
    } else {
      data.push_back(p);  // an explicit file: its header decides the format
      explicit_files.insert(p);
    }
  }
  std::sort(data.begin(), data.end());
  data.erase(std::unique(data.begin(), data.end()), data.end());
  std::sort(manifests.begin(), manifests.end());
  manifests.erase(std::unique(manifests.begin(), manifests.end()), manifests.end());

  std::vector<Manifest> ms;
  for (const auto& mp : manifests) {
    ASSIGN_OR_RETURN(Manifest m, ReadManifest(env, mp));
    ms.push_back(std::move(m));
  }
  // Per report root and period, the shallowest manifest is the current one
  // (legacy CUR keeps copies of older ones inside assembly folders).
  std::map<std::pair<std::string, std::string>, size_t> current;
  for (size_t i = 0; i < ms.size(); ++i) {
    if (ms[i].period_token.empty()) continue;
    auto key = std::make_pair(ms[i].root, ms[i].period_token);
    auto it = current.find(key);
    if (it == current.end() || ms[i].depth < ms[it->second].depth) current[key] = i;
  }
  std::set<std::string> claimed, superseded;
  for (size_t i = 0; i < ms.size(); ++i) {
    const Manifest& m = ms[i];
    if (!m.period_token.empty() && current[{m.root, m.period_token}] != i) continue;
    IngestUnit u;
    u.from_manifest = true;
    u.manifest = m.path;
    u.assembly_id = m.assembly_id;
    u.source = "report:" + m.report;
    for (size_t ki = 0; ki < m.keys.size(); ++ki) {
      const std::string& key = m.keys[ki];
      std::vector<std::string> kp = Split(key);
      if (kp.empty()) return BadInput(m.path + ": empty data file name in the manifest");
      std::string want = StripCompression(kp.back());
      const std::string* best = nullptr;
      size_t best_n = 0;
      for (const auto& f : data) {
        if (!Under(f, m.root) || StripCompression(Basename(f)) != want) continue;
        size_t n = CommonSuffix(Split(f), kp);
        if (n > best_n) {
          best_n = n;
          best = &f;
        }
      }
      if (!best) {
        return BadInput(LocationIn(m, "\"" + m.raw_keys[ki] + "\"") + ": the manifest names '" +
                        key +
                        "', which is not in the folder (expected the delivery to be complete; "
                        "sync it again from S3)");
      }
      u.files.push_back(*best);
      claimed.insert(*best);
    }
    if (!m.period_token.empty()) {
      // Files of older deliveries: in the period folder, or in the period's
      // year=/month= partition (Athena-style Parquet, rewritten in place).
      std::string part = PartitionOf(m.period_token);
      for (const auto& f : data) {
        if (!Under(f, m.root)) continue;
        if (f.find("/" + m.period_token + "/") != std::string::npos ||
            (!part.empty() && f.find(part) != std::string::npos)) {
          superseded.insert(f);
        }
      }
    }
    plan.units.push_back(std::move(u));
  }
  for (const auto& f : data) {
    if (claimed.count(f)) continue;
    if (superseded.count(f) && !explicit_files.count(f)) {
      plan.skipped.push_back(f);
      continue;
    }
    IngestUnit u;
    std::error_code ec;
    auto abs = std::filesystem::absolute(f, ec);
    u.source = "file:" + (ec ? f : abs.lexically_normal().string());
    u.files.push_back(f);
    plan.units.push_back(std::move(u));
  }
  return plan;
}

}  // namespace sagebox::cost
