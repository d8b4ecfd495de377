#include "rag/opensearch/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/env.h"
#include "retrieval/index/lexical_index.h"
#include "retrieval/index/vector_index.h"

namespace sagebox::rag::opensearch {

using nlohmann::json;
using FieldKind = IndexReader::FieldKind;

std::vector<db::Migration> Migrations() {
  return {{
      "opensearch",
      1,
      "indexes, documents and search pipelines",
      R"sql(CREATE TABLE opensearch_indexes (
  name TEXT NOT NULL PRIMARY KEY,
  uuid TEXT NOT NULL,
  settings TEXT NOT NULL,
  mappings TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  seq_no BIGINT NOT NULL,
  next_label BIGINT NOT NULL,
  generation BIGINT NOT NULL
);
CREATE TABLE opensearch_docs (
  index_name TEXT NOT NULL REFERENCES opensearch_indexes (name) ON DELETE CASCADE,
  id TEXT NOT NULL,
  label BIGINT NOT NULL,
  version BIGINT NOT NULL,
  seq_no BIGINT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (index_name, id)
);
CREATE TABLE opensearch_pipelines (
  id TEXT NOT NULL PRIMARY KEY,
  body TEXT NOT NULL
);
)sql",
  }};
}

Status ValidateIndexName(const std::string& name) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("Invalid index name [{}], {}", name, why));
  };
  if (name.empty()) return bad("must not be empty");
  if (name.size() > 255)
    return bad("index name is too long, (" + std::to_string(name.size()) + " > 255)");
  if (name == "." || name == "..") return bad("must not be '.' or '..'");
  if (name[0] == '_' || name[0] == '-' || name[0] == '+')
    return bad("must not start with '_', '-', or '+'");
  for (char ch : name) {
    if (std::string_view("\\/*?\"<>|, #:").find(ch) != std::string_view::npos) {
      return bad(
          "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]");
    }
    if (ch >= 'A' && ch <= 'Z') return bad("must be lowercase");
    if (static_cast<unsigned char>(ch) < 0x20) return bad("must not contain control characters");
  }
  return Status::Ok();
}

std::string GenerateId() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rd;
  std::string out;
  // 20 characters x 6 bits = 120 random bits, as 15 bytes would give.
  uint32_t bits = 0;
  int have = 0;
  while (out.size() < 20) {
    if (have < 6) {
      bits = rd();
      have = 32;
    }
    out.push_back(kAlphabet[bits & 63U]);
    bits >>= 6U;
    have -= 6;
  }
  return out;
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Settings as OpenSearch keeps them: everything under "index", whether the
// client wrote {"index": {"knn": true}}, {"index.knn": true} or {"knn": true}.
json NormaliseSettings(const json& settings) {
  json index = json::object();
  if (!settings.is_object()) return json{{"index", index}};
  for (auto it = settings.begin(); it != settings.end(); ++it) {
    if (it.key() == "index" && it.value().is_object()) {
      for (auto s = it.value().begin(); s != it.value().end(); ++s) index[s.key()] = s.value();
    } else if (it.key().starts_with("index.")) {
      index[it.key().substr(6)] = it.value();
    } else {
      index[it.key()] = it.value();
    }
  }
  return json{{"index", index}};
}

// Dotted settings under "index" ("knn.algo_param.ef_search"), however nested.
void FlattenSettings(const json& v, const std::string& prefix, std::map<std::string, json>* out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      FlattenSettings(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else {
    (*out)[prefix] = v;
  }
}

std::optional<int64_t> SettingInt(const std::map<std::string, json>& flat, const std::string& key) {
  auto it = flat.find(key);
  if (it == flat.end()) return std::nullopt;
  if (it->second.is_number_integer()) return it->second.get<int64_t>();
  if (it->second.is_string()) {
    try {
      return std::stoll(it->second.get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string SafeDirName(const std::string& field) {
  std::string out;
  for (unsigned char ch : field) {
    if (std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

// The value at a dotted path of a _source object, or null.
const json* At(const json& source, const std::string& path) {
  const json* cur = &source;
  size_t start = 0;
  while (true) {
    if (!cur->is_object()) return nullptr;
    // The path may name a key holding dots itself ({"a.b": 1}); try the whole rest first.
    auto whole = cur->find(path.substr(start));
    if (whole != cur->end()) return &*whole;
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) return nullptr;
    auto it = cur->find(path.substr(start, dot - start));
    if (it == cur->end()) return nullptr;
    cur = &*it;
    start = dot + 1;
  }
}

struct KnnField {
  size_t dim = 0;
  retrieval::VectorSpace space = retrieval::VectorSpace::kL2;
  retrieval::HnswParams params;
  std::unique_ptr<retrieval::VectorIndex> index;
  std::unordered_map<uint64_t, std::vector<float>> vectors;  // the exact path's copy
};

struct DocMeta {
  uint64_t label = 0;
  int64_t version = 0;
  int64_t seq_no = 0;
  std::vector<std::pair<std::string, std::string>> values;
};

Status Mapper(const std::string& reason) { return BadInput(reason); }

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Store::Index : IndexReader {
  std::string name;
  std::string uuid;
  std::string dir;
  json settings;
  json mappings;
  int64_t created_ms = 0;
  int64_t seq_no = 0;
  int64_t next_label = 1;
  int64_t generation = 0;
  std::map<std::string, FieldKind> kinds;
  std::map<std::string, KnnField> knn;
  std::map<std::string, std::unique_ptr<retrieval::LexicalIndex>> lexical;
  std::unordered_map<std::string, DocMeta> docs;
  std::vector<std::string> order;
  std::unordered_map<uint64_t, std::string> by_label;

  FieldKind Kind(const std::string& field) const override {
    auto it = kinds.find(field);
    return it == kinds.end() ? FieldKind::kNone : it->second;
  }
  const std::vector<std::string>& Docs() const override { return order; }
  std::vector<std::string> Values(const std::string& doc, const std::string& field) const override {
    std::vector<std::string> out;
    auto it = docs.find(doc);
    if (it == docs.end()) return out;
    for (const auto& [f, v] : it->second.values) {
      if (f == field) out.push_back(v);
    }
    return out;
  }
  StatusOr<std::vector<retrieval::LexicalHit>> Match(const std::string& field,
                                                     const std::string& text) const override {
    auto it = lexical.find(field);
    if (it == lexical.end() || docs.empty()) return std::vector<retrieval::LexicalHit>{};
    return it->second->Search(text, static_cast<int>(docs.size()));
  }
  StatusOr<std::vector<std::pair<std::string, double>>> Knn(
      const std::string& field, std::span<const float> query, size_t k,
      const std::vector<std::string>* allowed) const override {
    std::vector<std::pair<std::string, double>> out;
    auto it = knn.find(field);
    if (it == knn.end()) return out;
    std::unordered_set<uint64_t> labels;
    retrieval::VectorSearchOptions o;
    o.k = k;
    if (allowed != nullptr) {
      for (const std::string& id : *allowed) {
        auto d = docs.find(id);
        if (d != docs.end() && it->second.vectors.contains(d->second.label))
          labels.insert(d->second.label);
      }
      if (labels.empty()) return out;
      o.filter = &labels;
    }
    if (it->second.index->size() == 0) return out;
    ASSIGN_OR_RETURN(auto hits, it->second.index->Search(query, o));
    for (const auto& h : hits) {
      auto id = by_label.find(h.label);
      if (id != by_label.end()) out.emplace_back(id->second, h.score);
    }
    return out;
  }
  size_t Dimension(const std::string& field) const override {
    auto it = knn.find(field);
    return it == knn.end() ? 0 : it->second.dim;
  }
  std::optional<std::span<const float>> Vector(const std::string& doc,
                                               const std::string& field) const override {
    auto f = knn.find(field);
    auto d = docs.find(doc);
    if (f == knn.end() || d == docs.end()) return std::nullopt;
    auto v = f->second.vectors.find(d->second.label);
    if (v == f->second.vectors.end()) return std::nullopt;
    return std::span<const float>(v->second);
  }

  std::vector<std::string> KnnFields() const {
    std::vector<std::string> out;
    for (const auto& [f, unused] : knn) out.push_back(f);
    return out;
  }

  // Reads the mappings (and the knn settings) into kinds and knn. BadInput
  // naming the field for a knn_vector it cannot index.
  Status ParseMappings() {
    std::map<std::string, json> flat;
    FlattenSettings(settings.value("index", json::object()), "", &flat);
    std::string default_space = "l2";
    if (auto it = flat.find("knn.space_type"); it != flat.end() && it->second.is_string()) {
      default_space = it->second.get<std::string>();
    }
    const auto ef_search = SettingInt(flat, "knn.algo_param.ef_search");
    kinds.clear();
    std::map<std::string, KnnField> fields;
    std::function<Status(const json&, const std::string&)> walk =
        [&](const json& props, const std::string& prefix) -> Status {
      if (!props.is_object()) return Mapper("[properties] of [" + prefix + "] must be an object");
      for (auto it = props.begin(); it != props.end(); ++it) {
        const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        const json& def = it.value();
        if (!def.is_object()) return Mapper("the mapping of [" + path + "] must be an object");
        if (def.contains("properties")) {
          kinds[path] = FieldKind::kOther;
          RETURN_IF_ERROR(walk(def["properties"], path));
          continue;
        }
        const std::string type = def.value("type", std::string("object"));
        if (type == "knn_vector") {
          if (!def.contains("dimension") || !def["dimension"].is_number_integer() ||
              def["dimension"].get<int64_t>() <= 0 || def["dimension"].get<int64_t>() > 16000) {
            return Mapper("[dimension] of knn_vector field [" + path +
                          "] must be an integer in 1..16000");
          }
          KnnField k;
          k.dim = def["dimension"].get<size_t>();
          std::string space = default_space;
          const json method = def.value("method", json::object());
          if (def.contains("space_type") && def["space_type"].is_string())
            space = def["space_type"];
          if (method.contains("space_type") && method["space_type"].is_string())
            space = method["space_type"];
          auto parsed = retrieval::ParseVectorSpace(space);
          if (!parsed.ok()) {
            return Mapper(fmt::format(
                "space_type [{}] of knn_vector field [{}] is not supported here (l2, cosinesimil, "
                "innerproduct)",
                space, path));
          }
          k.space = *parsed;
          const json params = method.value("parameters", json::object());
          if (params.contains("m") && params["m"].is_number_integer())
            k.params.m = params["m"].get<size_t>();
          if (params.contains("ef_construction") && params["ef_construction"].is_number_integer()) {
            k.params.ef_construction = params["ef_construction"].get<size_t>();
          }
          if (ef_search && *ef_search > 0) k.params.ef_search = static_cast<size_t>(*ef_search);
          if (k.params.m < 2 || k.params.m > 100 || k.params.ef_construction == 0) {
            return Mapper("[parameters] of knn_vector field [" + path +
                          "]: m must be in 2..100 and ef_construction positive");
          }
          kinds[path] = FieldKind::kKnnVector;
          fields.emplace(path, std::move(k));
        } else if (type == "text" || type == "match_only_text") {
          kinds[path] = FieldKind::kText;
        } else if (type == "keyword") {
          kinds[path] = FieldKind::kKeyword;
        } else {
          kinds[path] = FieldKind::kOther;
        }
        if (def.contains("fields") && def["fields"].is_object()) {
          for (auto sub = def["fields"].begin(); sub != def["fields"].end(); ++sub) {
            const std::string st = sub.value().value("type", std::string("keyword"));
            kinds[path + "." + sub.key()] = st == "text" ? FieldKind::kText : FieldKind::kKeyword;
          }
        }
      }
      return Status::Ok();
    };
    if (mappings.contains("properties")) RETURN_IF_ERROR(walk(mappings["properties"], ""));
    // Keep built vector indexes of fields that did not change.
    for (auto& [path, k] : fields) {
      auto old = knn.find(path);
      if (old != knn.end() && old->second.dim == k.dim && old->second.space == k.space) {
        k.index = std::move(old->second.index);
        k.vectors = std::move(old->second.vectors);
      }
      if (!k.index) {
        ASSIGN_OR_RETURN(k.index, retrieval::VectorIndex::Create(k.dim, k.space, k.params));
      }
    }
    knn = std::move(fields);
    return Status::Ok();
  }

  // OpenSearch's dynamic mapping for the unmapped fields of `source`:
  // strings become text with a keyword sub-field, integers long, other
  // numbers float, booleans boolean, objects objects. Returns whether the
  // mappings changed.
  bool MapDynamically(const json& source) {
    bool changed = false;
    std::function<void(const json&, json&, const std::string&)> walk =
        [&](const json& obj, json& props, const std::string& prefix) {
          for (auto it = obj.begin(); it != obj.end(); ++it) {
            const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
            if (kinds.contains(path) && !it.value().is_object()) continue;
            const json* v = &it.value();
            if (v->is_array()) {
              const json* first = nullptr;
              for (const json& x : *v) {
                if (!x.is_null()) {
                  first = &x;
                  break;
                }
              }
              if (first == nullptr) continue;
              v = first;
            }
            if (v->is_object()) {
              if (!kinds.contains(path)) {
                props[it.key()] = json{{"properties", json::object()}};
                kinds[path] = FieldKind::kOther;
                changed = true;
              }
              json& sub = props[it.key()];
              if (!sub.contains("properties")) continue;  // mapped as something else: left alone
              for (const json& o : it.value().is_array() ? it.value() : json::array({it.value()})) {
                if (o.is_object()) walk(o, sub["properties"], path);
              }
              continue;
            }
            if (v->is_null()) continue;
            if (v->is_string()) {
              props[it.key()] =
                  json{{"type", "text"},
                       {"fields", {{"keyword", {{"type", "keyword"}, {"ignore_above", 256}}}}}};
              kinds[path] = FieldKind::kText;
              kinds[path + ".keyword"] = FieldKind::kKeyword;
            } else if (v->is_boolean()) {
              props[it.key()] = json{{"type", "boolean"}};
              kinds[path] = FieldKind::kOther;
            } else if (v->is_number_integer()) {
              props[it.key()] = json{{"type", "long"}};
              kinds[path] = FieldKind::kOther;
            } else {
              props[it.key()] = json{{"type", "float"}};
              kinds[path] = FieldKind::kOther;
            }
            changed = true;
          }
        };
    if (!mappings.contains("properties")) mappings["properties"] = json::object();
    walk(source, mappings["properties"], "");
    return changed;
  }

  // The document's vectors, checked against the mapping (mapper_parsing_exception's causes).
  StatusOr<std::map<std::string, std::vector<float>>> Vectors(const json& source,
                                                              const std::string& id) const {
    std::map<std::string, std::vector<float>> out;
    for (const auto& [path, k] : knn) {
      const json* v = At(source, path);
      if (v == nullptr || v->is_null()) continue;
      const std::string prefix = fmt::format(
          "failed to parse field [{}] of type [knn_vector] in document with id '{}'", path, id);
      if (!v->is_array()) return BadInput(prefix + "\x1f" + "Vector must be an array of numbers");
      std::vector<float> vec;
      for (const json& x : *v) {
        if (!x.is_number())
          return BadInput(prefix + "\x1f" + "Vector must hold numbers, got " + x.dump());
        const double d = x.get<double>();
        if (!std::isfinite(d))
          return BadInput(prefix + "\x1f" + "KNN vector values cannot be NaN or Infinity");
        vec.push_back(static_cast<float>(d));
      }
      if (vec.size() != k.dim) {
        return BadInput(
            prefix + "\x1f" +
            fmt::format("Vector dimension mismatch. Expected: {}, Given: {}", k.dim, vec.size()));
      }
      if (k.space == retrieval::VectorSpace::kCosineSimil &&
          std::all_of(vec.begin(), vec.end(), [](float f) { return f == 0; })) {
        return BadInput(prefix + "\x1f" +
                        "zero vector is not supported when space type is [cosinesimil]");
      }
      out.emplace(path, std::move(vec));
    }
    return out;
  }

  std::vector<std::string> TextFields() const {
    std::vector<std::string> out;
    for (const auto& [path, kind] : kinds) {
      if (kind == FieldKind::kText) out.push_back(path);
    }
    return out;
  }

  StatusOr<retrieval::LexicalIndex*> Lexical(const std::string& field) {
    auto it = lexical.find(field);
    if (it != lexical.end()) return it->second.get();
    const std::string parent = JoinPath(dir, "lexical");
    RETURN_IF_ERROR(Env::Default()->CreateDirs(parent));
    ASSIGN_OR_RETURN(auto li,
                     retrieval::LexicalIndex::Open(JoinPath(parent, SafeDirName(field)),
                                                   retrieval::LexicalIndex::Mode::kCreate));
    return (lexical[field] = std::move(li)).get();
  }

  // Puts a document (new or replaced) into the derived state. The lexical
  // indexes are left uncommitted.
  Status Put(const std::string& id, uint64_t label, int64_t version, int64_t seq,
             const json& source) {
    ASSIGN_OR_RETURN(auto vectors, Vectors(source, id));
    auto existing = docs.find(id);
    if (existing == docs.end()) {
      order.push_back(id);
    } else if (existing->second.label != label) {
      by_label.erase(existing->second.label);
    }
    DocMeta meta;
    meta.label = label;
    meta.version = version;
    meta.seq_no = seq;
    meta.values = FlattenValues(source, KnnFields());
    docs[id] = std::move(meta);
    by_label[label] = id;
    for (auto& [path, k] : knn) {
      auto v = vectors.find(path);
      if (v == vectors.end()) {
        if (k.vectors.erase(label) > 0) RETURN_IF_ERROR(k.index->Remove(label));
        continue;
      }
      RETURN_IF_ERROR(k.index->Add(label, v->second));
      k.vectors[label] = std::move(v->second);
    }
    for (const std::string& field : TextFields()) {
      const json* v = At(source, field);
      std::string text;
      if (v != nullptr) {
        for (const json& x : v->is_array() ? *v : json::array({*v})) {
          if (!x.is_string()) continue;
          if (!text.empty()) text += "\n";
          text += x.get<std::string>();
        }
      }
      if (text.empty() && !lexical.contains(field)) continue;
      ASSIGN_OR_RETURN(retrieval::LexicalIndex * li, Lexical(field));
      std::vector<retrieval::LexicalRecord> recs;
      if (!text.empty()) recs.push_back({id, "", text, {}});
      RETURN_IF_ERROR(li->ReplaceDocument(id, recs));
    }
    return Status::Ok();
  }

  Status Remove(const std::string& id) {
    auto it = docs.find(id);
    if (it == docs.end()) return Status::Ok();
    const uint64_t label = it->second.label;
    for (auto& [path, k] : knn) {
      if (k.vectors.erase(label) > 0) RETURN_IF_ERROR(k.index->Remove(label));
    }
    for (auto& [field, li] : lexical) RETURN_IF_ERROR(li->DeleteDocument(id));
    by_label.erase(label);
    docs.erase(it);
    order.erase(std::find(order.begin(), order.end(), id));
    return Status::Ok();
  }

  Status CommitLexical() {
    for (auto& [field, li] : lexical) RETURN_IF_ERROR(li->Commit());
    return Status::Ok();
  }
};

namespace {

// Exceptions do not cross this API; nlohmann throws on malformed stored JSON.
StatusOr<json> ParseStored(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Corruption("stored JSON of " + what + " does not parse");
  return j;
}

std::string GenerationFile(const std::string& dir) { return JoinPath(dir, "generation"); }

}  // namespace

Store::Store(db::Database* db, std::string root) : db_(db), root_(std::move(root)) {}

Store::~Store() {
  std::unique_lock lock(mu_);
  for (auto& [name, ix] : indexes_) (void)SaveLocked(*ix);
}

StatusOr<std::unique_ptr<Store>> Store::Open(db::Database* db, const std::string& root) {
  RETURN_IF_ERROR(Env::Default()->CreateDirs(root));
  std::unique_ptr<Store> s(new Store(db, root));
  RETURN_IF_ERROR(s->LoadAll());
  return s;
}

Status Store::SaveLocked(Index& ix) {
  RETURN_IF_ERROR(ix.CommitLexical());
  for (auto& [path, k] : ix.knn) {
    RETURN_IF_ERROR(k.index->Save(Env::Default(), JoinPath(ix.dir, SafeDirName(path) + ".vec")));
  }
  return Env::Default()->WriteFileAtomic(GenerationFile(ix.dir), std::to_string(ix.generation));
}

Status Store::LoadAll() {
  ASSIGN_OR_RETURN(
      db::Result rows,
      db_->Query("SELECT name, uuid, settings, mappings, created_ms, seq_no, next_label, "
                 "generation FROM opensearch_indexes ORDER BY name"));
  Env* env = Env::Default();
  for (size_t r = 0; r < rows.size(); ++r) {
    auto ix = std::make_unique<Index>();
    ix->name = rows.Text(r, 0);
    ix->uuid = rows.Text(r, 1);
    ASSIGN_OR_RETURN(ix->settings, ParseStored(rows.Text(r, 2), "index " + ix->name + " settings"));
    ASSIGN_OR_RETURN(ix->mappings, ParseStored(rows.Text(r, 3), "index " + ix->name + " mappings"));
    ix->created_ms = rows.Int(r, 4);
    ix->seq_no = rows.Int(r, 5);
    ix->next_label = rows.Int(r, 6);
    ix->generation = rows.Int(r, 7);
    ix->dir = JoinPath(root_, ix->name);
    RETURN_IF_ERROR(ix->ParseMappings().WithContext("index " + ix->name));
    // Current files: the vector indexes load from disk and the lexical ones
    // are kept; otherwise everything derived is rebuilt.
    std::string gen;
    bool current = env->ReadFileToString(GenerationFile(ix->dir), &gen).ok() &&
                   gen == std::to_string(ix->generation);
    if (current) {
      for (auto& [path, k] : ix->knn) {
        auto loaded =
            retrieval::VectorIndex::Load(env, JoinPath(ix->dir, SafeDirName(path) + ".vec"));
        if (!loaded.ok() || (*loaded)->dimension() != k.dim || (*loaded)->space() != k.space) {
          current = false;
          break;
        }
        k.index = std::move(*loaded);
      }
    }
    if (!current) {
      std::error_code ec;
      std::filesystem::remove_all(ix->dir, ec);
      RETURN_IF_ERROR(ix->ParseMappings());  // fresh, empty vector indexes
      for (auto& [path, k] : ix->knn) {
        ASSIGN_OR_RETURN(k.index, retrieval::VectorIndex::Create(k.dim, k.space, k.params));
      }
    }
    RETURN_IF_ERROR(env->CreateDirs(ix->dir));
    std::vector<db::Value> p = {ix->name};
    ASSIGN_OR_RETURN(db::Result docs,
                     db_->Query("SELECT id, label, version, seq_no, source FROM opensearch_docs "
                                "WHERE index_name = ? ORDER BY label",
                                p));
    for (size_t d = 0; d < docs.size(); ++d) {
      const std::string& id = docs.Text(d, 0);
      ASSIGN_OR_RETURN(json source, ParseStored(docs.Text(d, 4), "document " + id));
      const auto label = static_cast<uint64_t>(docs.Int(d, 1));
      if (current) {
        // The files already hold the document: only the in-memory state.
        ix->order.push_back(id);
        DocMeta meta{label, docs.Int(d, 2), docs.Int(d, 3), FlattenValues(source, ix->KnnFields())};
        ix->docs[id] = std::move(meta);
        ix->by_label[label] = id;
        ASSIGN_OR_RETURN(auto vectors, ix->Vectors(source, id));
        for (auto& [path, vec] : vectors) ix->knn[path].vectors[label] = std::move(vec);
      } else {
        RETURN_IF_ERROR(ix->Put(id, label, docs.Int(d, 2), docs.Int(d, 3), source));
      }
    }
    if (current) {
      for (const std::string& field : ix->TextFields()) {
        if (env->IsDirectory(JoinPath(JoinPath(ix->dir, "lexical"), SafeDirName(field)))) {
          RETURN_IF_ERROR(ix->Lexical(field).status());
        }
      }
    } else {
      RETURN_IF_ERROR(SaveLocked(*ix));
    }
    indexes_[ix->name] = std::move(ix);
  }
  return Status::Ok();
}

Status Store::CreateIndex(const std::string& name, const json& body) {
  RETURN_IF_ERROR(ValidateIndexName(name));
  if (!body.is_null() && !body.is_object())
    return InvalidArgument("the index body must be a JSON object");
  json settings = json::object();
  json mappings = json::object();
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() == "settings") {
        settings = it.value();
      } else if (it.key() == "mappings") {
        mappings = it.value();
      } else if (it.key() != "aliases") {
        return InvalidArgument("unknown key [" + it.key() + "] for create index");
      }
    }
  }
  if (!mappings.is_object()) return BadInput("[mappings] must be an object");
  std::unique_lock lock(mu_);
  if (indexes_.contains(name)) {
    return AlreadyExists("index [" + name + "/" + indexes_[name]->uuid + "] already exists");
  }
  auto ix = std::make_unique<Index>();
  ix->name = name;
  ix->uuid = GenerateId().substr(0, 22);
  ix->settings = NormaliseSettings(settings);
  ix->mappings = mappings;
  ix->created_ms = NowMs();
  ix->dir = JoinPath(root_, name);
  RETURN_IF_ERROR(ix->ParseMappings());
  std::error_code ec;
  std::filesystem::remove_all(ix->dir, ec);  // leftovers of a deleted index of that name
  RETURN_IF_ERROR(Env::Default()->CreateDirs(ix->dir));
  std::vector<db::Value> p = {name, ix->uuid, ix->settings.dump(), ix->mappings.dump(),
                              ix->created_ms};
  RETURN_IF_ERROR(
      db_->Exec("INSERT INTO opensearch_indexes (name, uuid, settings, mappings, created_ms, "
                "seq_no, next_label, "
                "generation) VALUES (?, ?, ?, ?, ?, 0, 1, 0)",
                p));
  RETURN_IF_ERROR(SaveLocked(*ix));
  indexes_[name] = std::move(ix);
  return Status::Ok();
}

Status Store::DeleteIndex(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = indexes_.find(name);
  if (it == indexes_.end()) return NotFound("no such index [" + name + "]");
  Status deleted = db_->InTransaction([&](db::Transaction& tx) {
    std::vector<db::Value> p = {name};
    RETURN_IF_ERROR(tx.Exec("DELETE FROM opensearch_docs WHERE index_name = ?", p));
    return tx.Exec("DELETE FROM opensearch_indexes WHERE name = ?", p);
  });
  if (!deleted.ok()) return deleted;
  const std::string dir = it->second->dir;
  indexes_.erase(it);  // closes the Xapian databases before their folder goes
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return Status::Ok();
}

bool Store::HasIndex(const std::string& name) const {
  std::shared_lock lock(mu_);
  return indexes_.contains(name);
}

std::vector<std::string> Store::IndexNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, unused] : indexes_) out.push_back(name);
  return out;
}

StatusOr<json> Store::IndexInfo(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = indexes_.find(name);
  if (it == indexes_.end()) return NotFound("no such index [" + name + "]");
  const Index& ix = *it->second;
  json settings = ix.settings;
  json& index = settings["index"];
  // The fields OpenSearch adds to every index's settings (string-valued, as it returns them).
  if (!index.contains("number_of_shards")) index["number_of_shards"] = "1";
  if (!index.contains("number_of_replicas")) index["number_of_replicas"] = "1";
  index["uuid"] = ix.uuid;
  index["provided_name"] = ix.name;
  index["creation_date"] = std::to_string(ix.created_ms);
  index["version"] = {{"created", "136327827"}};
  json mappings = ix.mappings;
  return json{{"aliases", json::object()}, {"mappings", mappings}, {"settings", settings}};
}

StatusOr<std::vector<WriteResult>> Store::Write(const std::string& index,
                                                const std::vector<WriteOp>& ops, bool refresh) {
  RETURN_IF_ERROR(ValidateIndexName(index));
  bool created = false;
  {
    std::shared_lock lock(mu_);
    created = !indexes_.contains(index);
  }
  if (created) {
    Status s = CreateIndex(index, json::object());
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
  }
  std::unique_lock lock(mu_);
  auto found = indexes_.find(index);
  if (found == indexes_.end()) return NotFound("no such index [" + index + "]");
  Index& ix = *found->second;

  // NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
  struct State {
    bool exists = false;
    uint64_t label = 0;
    int64_t version = 0;
    json source;
  };
  struct Pending {
    std::string id;
    std::optional<json> source;  // nullopt: delete
    uint64_t label = 0;
    int64_t version = 0;
    int64_t seq_no = 0;
  };
  std::unordered_map<std::string, State> overlay;  // this request's view of the documents
  auto current = [&](const std::string& id) -> StatusOr<State> {
    if (auto it = overlay.find(id); it != overlay.end()) return it->second;
    State s;
    auto it = ix.docs.find(id);
    if (it == ix.docs.end()) return s;
    s.exists = true;
    s.label = it->second.label;
    s.version = it->second.version;
    std::vector<db::Value> p = {index, id};
    ASSIGN_OR_RETURN(
        db::Result r,
        db_->Query("SELECT source FROM opensearch_docs WHERE index_name = ? AND id = ?", p));
    if (r.empty()) return Corruption("document [" + id + "] is indexed but not in the database");
    ASSIGN_OR_RETURN(s.source, ParseStored(r.Text(0, 0), "document " + id));
    return s;
  };

  const json mappings_before = ix.mappings;
  const auto kinds_before = ix.kinds;
  const int64_t seq_before = ix.seq_no;
  const int64_t label_before = ix.next_label;
  std::vector<WriteResult> results;
  std::vector<Pending> pending;
  for (const WriteOp& op : ops) {
    WriteResult r;
    r.id = op.id.empty() && (op.kind == WriteOp::Kind::kIndex || op.kind == WriteOp::Kind::kCreate)
               ? GenerateId()
               : op.id;
    if (r.id.empty()) {
      r.status = 400;
      r.error_type = "action_request_validation_exception";
      r.error_reason = "Validation Failed: 1: id is missing;";
      results.push_back(std::move(r));
      continue;
    }
    if (r.id.size() > 512) {
      r.status = 400;
      r.error_type = "illegal_argument_exception";
      r.error_reason =
          "id [" + r.id.substr(0, 32) + "...] is too long, must be no longer than 512 bytes";
      results.push_back(std::move(r));
      continue;
    }
    ASSIGN_OR_RETURN(State st, current(r.id));
    std::optional<json> next;
    if (op.kind == WriteOp::Kind::kDelete) {
      if (!st.exists) {
        r.status = 404;
        r.result = "not_found";
        r.version = 1;
        r.seq_no = ++ix.seq_no;
        results.push_back(std::move(r));
        continue;
      }
    } else if (op.kind == WriteOp::Kind::kCreate && st.exists) {
      r.status = 409;
      r.error_type = "version_conflict_engine_exception";
      r.error_reason =
          fmt::format("[{}]: version conflict, document already exists (current version [{}])",
                      r.id, st.version);
      results.push_back(std::move(r));
      continue;
    } else if (op.kind == WriteOp::Kind::kUpdate) {
      if (!op.source.is_object()) {
        r.status = 400;
        r.error_type = "action_request_validation_exception";
        r.error_reason = "Validation Failed: 1: script or doc is missing;";
        results.push_back(std::move(r));
        continue;
      }
      if (!st.exists && !op.doc_as_upsert) {
        r.status = 404;
        r.error_type = "document_missing_exception";
        r.error_reason = "[" + r.id + "]: document missing";
        results.push_back(std::move(r));
        continue;
      }
      json merged = st.exists ? st.source : json::object();
      merged.merge_patch(op.source);  // a partial doc merges into the source, nulls remove
      if (st.exists && merged == st.source) {
        r.status = 200;
        r.result = "noop";
        r.version = st.version;
        r.seq_no = ix.seq_no;
        results.push_back(std::move(r));
        continue;
      }
      next = std::move(merged);
    } else {
      next = op.source;
    }
    if (next) {
      if (!next->is_object()) {
        r.status = 400;
        r.error_type = "mapper_parsing_exception";
        r.error_reason = "failed to parse, document is empty or not an object";
        results.push_back(std::move(r));
        continue;
      }
      auto vectors = ix.Vectors(*next, r.id);
      if (!vectors.ok()) {
        const std::string& m = vectors.status().message();
        const size_t sep = m.find('\x1f');
        r.status = 400;
        r.error_type = "mapper_parsing_exception";
        r.error_reason = m.substr(0, sep);
        if (sep != std::string::npos) {
          r.cause_type = "illegal_argument_exception";
          r.cause_reason = m.substr(sep + 1);
        }
        results.push_back(std::move(r));
        continue;
      }
      ix.MapDynamically(*next);
    }
    Pending p;
    p.id = r.id;
    p.source = next;
    p.label = st.exists ? st.label : static_cast<uint64_t>(ix.next_label++);
    p.version = st.version + 1;
    p.seq_no = ++ix.seq_no;
    r.version = p.version;
    r.seq_no = p.seq_no;
    if (!next) {
      r.status = 200;
      r.result = "deleted";
    } else {
      r.status = st.exists ? 200 : 201;
      r.result = st.exists ? "updated" : "created";
    }
    State after;
    after.exists = next.has_value();
    after.label = p.label;
    after.version = p.version;
    if (next) after.source = *next;
    overlay[r.id] = std::move(after);
    pending.push_back(std::move(p));
    results.push_back(std::move(r));
  }

  auto restore = [&] {
    ix.mappings = mappings_before;
    ix.kinds = kinds_before;
    ix.seq_no = seq_before;
    ix.next_label = label_before;
  };
  Status st = db_->InTransaction([&](db::Transaction& tx) {
    for (const Pending& p : pending) {
      if (!p.source) {
        std::vector<db::Value> v = {index, p.id};
        RETURN_IF_ERROR(tx.Exec("DELETE FROM opensearch_docs WHERE index_name = ? AND id = ?", v));
        continue;
      }
      std::vector<db::Value> v = {index,     p.id,     static_cast<int64_t>(p.label),
                                  p.version, p.seq_no, p.source->dump()};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO opensearch_docs (index_name, id, label, version, seq_no, source) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (index_name, id) DO UPDATE SET "
                  "label = excluded.label, version = excluded.version, seq_no = excluded.seq_no, "
                  "source = excluded.source",
                  v));
    }
    std::vector<db::Value> v = {ix.mappings.dump(), ix.seq_no, ix.next_label, ix.generation + 1,
                                index};
    return tx.Exec(
        "UPDATE opensearch_indexes SET mappings = ?, seq_no = ?, next_label = ?, generation = ? "
        "WHERE name = ?",
        v);
  });
  if (!st.ok()) {
    restore();
    return st;
  }
  ++ix.generation;
  // The database holds the writes; now the derived state. A failure here
  // leaves the files behind the database: the next Open rebuilds them.
  Status applied = ix.ParseMappings();  // dynamic text fields may be new
  for (const Pending& p : pending) {
    if (!applied.ok()) break;
    applied = p.source ? ix.Put(p.id, p.label, p.version, p.seq_no, *p.source) : ix.Remove(p.id);
  }
  if (applied.ok()) applied = ix.CommitLexical();
  if (applied.ok() && refresh) applied = SaveLocked(ix);
  if (!applied.ok())
    return applied.WithContext("index [" + index +
                               "] (rebuilt from the database at the next start)");
  return results;
}

StatusOr<std::optional<Store::Doc>> Store::GetDoc(const std::string& index,
                                                  const std::string& id) const {
  std::shared_lock lock(mu_);
  if (!indexes_.contains(index)) return NotFound("no such index [" + index + "]");
  std::vector<db::Value> p = {index, id};
  ASSIGN_OR_RETURN(db::Result r, db_->Query("SELECT version, seq_no, source FROM opensearch_docs "
                                            "WHERE index_name = ? AND id = ?",
                                            p));
  if (r.empty()) return std::optional<Doc>();
  Doc d;
  d.id = id;
  d.version = r.Int(0, 0);
  d.seq_no = r.Int(0, 1);
  ASSIGN_OR_RETURN(d.source, ParseStored(r.Text(0, 2), "document " + id));
  return std::optional<Doc>(std::move(d));
}

Status Store::Refresh(const std::string& index) {
  std::unique_lock lock(mu_);
  auto it = indexes_.find(index);
  if (it == indexes_.end()) return NotFound("no such index [" + index + "]");
  return SaveLocked(*it->second);
}

StatusOr<json> Store::Search(const std::string& index, const json& body,
                             const std::string& pipeline) const {
  const auto start = std::chrono::steady_clock::now();
  std::optional<Pipeline> pipe;
  if (!pipeline.empty()) {
    ASSIGN_OR_RETURN(auto stored, GetPipeline(pipeline));
    if (!stored) return NotFound("search pipeline [" + pipeline + "] is not defined");
    ASSIGN_OR_RETURN(pipe, ParsePipeline(*stored));
  }
  ASSIGN_OR_RETURN(SearchRequest req, ParseSearchRequest(body));
  std::shared_lock lock(mu_);
  auto it = indexes_.find(index);
  if (it == indexes_.end()) return NotFound("no such index [" + index + "]");
  ASSIGN_OR_RETURN(SearchResult res, RunSearch(*it->second, req, pipe ? &*pipe : nullptr));
  json hits = json::array();
  for (const SearchHit& h : res.hits) {
    json hit = {{"_index", index}, {"_id", h.id}, {"_score", h.score}};
    if (req.source.enabled) {
      std::vector<db::Value> p = {index, h.id};
      ASSIGN_OR_RETURN(
          db::Result r,
          db_->Query("SELECT source FROM opensearch_docs WHERE index_name = ? AND id = ?", p));
      if (r.empty())
        return Corruption("document [" + h.id + "] is indexed but not in the database");
      ASSIGN_OR_RETURN(json src, ParseStored(r.Text(0, 0), "document " + h.id));
      hit["_source"] = FilterSource(src, req.source);
    }
    hits.push_back(std::move(hit));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return json{{"took", took.count()},
              {"timed_out", false},
              {"_shards", {{"total", 1}, {"successful", 1}, {"skipped", 0}, {"failed", 0}}},
              {"hits",
               {{"total", {{"value", res.total}, {"relation", "eq"}}},
                {"max_score", res.max_score ? json(*res.max_score) : json(nullptr)},
                {"hits", hits}}}};
}

StatusOr<size_t> Store::Count(const std::string& index, const json& body) const {
  json query;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "query")
        return InvalidArgument("request does not support [" + it.key() + "]");
      query = it.value();
    }
  } else if (!body.is_null()) {
    return InvalidArgument("the count body must be a JSON object");
  }
  std::shared_lock lock(mu_);
  auto it = indexes_.find(index);
  if (it == indexes_.end()) return NotFound("no such index [" + index + "]");
  if (query.is_object() && query.contains("hybrid"))
    return InvalidArgument("[hybrid] is not allowed in _count");
  return RunCount(*it->second, query);
}

Status Store::PutPipeline(const std::string& id, const json& body) {
  if (id.empty()) return InvalidArgument("a search pipeline needs an id");
  RETURN_IF_ERROR(ParsePipeline(body).status());
  std::vector<db::Value> p = {id, body.dump()};
  return db_->Exec(
      "INSERT INTO opensearch_pipelines (id, body) VALUES (?, ?) "
      "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
      p);
}

StatusOr<std::optional<json>> Store::GetPipeline(const std::string& id) const {
  std::vector<db::Value> p = {id};
  ASSIGN_OR_RETURN(db::Result r,
                   db_->Query("SELECT body FROM opensearch_pipelines WHERE id = ?", p));
  if (r.empty()) return std::optional<json>();
  ASSIGN_OR_RETURN(json body, ParseStored(r.Text(0, 0), "search pipeline " + id));
  return std::optional<json>(std::move(body));
}

StatusOr<std::vector<std::pair<std::string, json>>> Store::Pipelines() const {
  ASSIGN_OR_RETURN(db::Result r,
                   db_->Query("SELECT id, body FROM opensearch_pipelines ORDER BY id"));
  std::vector<std::pair<std::string, json>> out;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(json body, ParseStored(r.Text(i, 1), "search pipeline " + r.Text(i, 0)));
    out.emplace_back(r.Text(i, 0), std::move(body));
  }
  return out;
}

Status Store::DeletePipeline(const std::string& id) {
  std::vector<db::Value> p = {id};
  ASSIGN_OR_RETURN(db::Result r, db_->Query("DELETE FROM opensearch_pipelines WHERE id = ?", p));
  if (r.affected() == 0) return NotFound("search pipeline [" + id + "] not found");
  return Status::Ok();
}

}  // namespace sagebox::rag::opensearch
