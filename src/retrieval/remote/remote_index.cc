#include "retrieval/remote/remote_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <utility>

#include "retrieval/fusion.h"
#include "retrieval/parse/parse.h"
#include "retrieval/providers/provider_spec.h"

namespace sagebox::retrieval::remote {

namespace {

using Json = nlohmann::json;

// Texts per Embed call, as the local ingest (knowledge_base.cc) sends them.
constexpr size_t kEmbedRound = 64;

bool IsZero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0F; });
}

EmbedderFactory Factory(const RemoteOptions& o) {
  if (o.make_embedder) return o.make_embedder;
  return [](const std::string& spec) { return MakeEmbedder(spec); };
}

Json SettingsJson(const IndexSettings& s) {
  return Json{{"splitter", s.splitter},
              {"chunk_size", s.chunk_size},
              {"chunk_overlap", s.chunk_overlap},
              {"embedder", s.embedder},
              {"space", s.space}};
}

// The differences between the settings an index was created with (its
// _meta.sagebox) and the ones asked for, "chunk_size 600, not 300; ...".
std::string SettingsDiff(const Json& have, const IndexSettings& want) {
  const Json w = SettingsJson(want);
  std::string out;
  for (auto it = w.begin(); it != w.end(); ++it) {
    if (!have.contains(it.key()) || have[it.key()] == it.value()) continue;
    if (!out.empty()) out += "; ";
    out += fmt::format("{} {}, not {}", it.key(), have[it.key()].dump(), it.value().dump());
  }
  return out;
}

// The knn_vector field's space (OpenSearch's default l2 when unnamed), or nullopt when
// the mapping has no such field.
std::optional<std::string> VectorSpace(const Json& index_info, const std::string& field) {
  const Json* props = nullptr;
  if (index_info.contains("mappings") && index_info["mappings"].is_object() &&
      index_info["mappings"].contains("properties")) {
    props = &index_info["mappings"]["properties"];
  }
  if (props == nullptr || !props->is_object() || !props->contains(field)) return std::nullopt;
  const Json& f = (*props)[field];
  if (!f.is_object() || f.value("type", std::string()) != "knn_vector") return std::nullopt;
  std::string space = "l2";
  if (f.contains("space_type") && f["space_type"].is_string()) space = f["space_type"];
  if (f.contains("method") && f["method"].is_object() && f["method"].contains("space_type") &&
      f["method"]["space_type"].is_string()) {
    space = f["method"]["space_type"];
  }
  return space;
}

const Json* SageboxMeta(const Json& index_info) {
  if (!index_info.contains("mappings") || !index_info["mappings"].is_object()) return nullptr;
  const Json& m = index_info["mappings"];
  if (!m.contains("_meta") || !m["_meta"].is_object() || !m["_meta"].contains("sagebox") ||
      !m["_meta"]["sagebox"].is_object()) {
    return nullptr;
  }
  return &m["_meta"]["sagebox"];
}

// A search reply as a ranked list; each hit's JSON kept in `payload` by _id.
RankedList Ranked(const Json& reply, std::unordered_map<std::string, Json>* payload) {
  RankedList out;
  std::set<std::string> seen;
  for (const Json& h : reply["hits"]["hits"]) {
    if (!h.is_object() || !h.contains("_id") || !h["_id"].is_string()) continue;
    const std::string id = h["_id"];
    // An _id twice in one reply (a faulty proxy; fusion refuses repeats): the first,
    // best one counts.
    if (!seen.insert(id).second) continue;
    const double score =
        h.contains("_score") && h["_score"].is_number() ? h["_score"].get<double>() : 0.0;
    out.push_back({id, score});
    payload->emplace(id, h);
  }
  return out;
}

}  // namespace

StatusOr<Shard> ParseShard(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(
        fmt::format("--shard \"{}\": {} (expected I/N: worker I of N, "
                    "0 <= I < N, e.g. 0/4)",
                    text, why));
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  Shard s;
  auto num = [](std::string_view t, int* out) {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
    return ec == std::errc() && end == t.data() + t.size() && !t.empty();
  };
  if (!num(text.substr(0, slash), &s.index) || !num(text.substr(slash + 1), &s.count)) {
    return bad("I and N must be whole numbers");
  }
  if (s.count < 1 || s.count > 100000) return bad("N must be in 1..100000");
  if (s.index < 0 || s.index >= s.count) return bad("I must be in 0..N-1");
  return s;
}

int ShardOf(std::string_view key, int count) {
  // FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/): offset basis and prime.
  uint64_t h = 14695981039346656037ULL;
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return count <= 1 ? 0 : static_cast<int>(h % static_cast<uint64_t>(count));
}

StatusOr<std::vector<ShardFile>> CollectShard(Env* env, const std::vector<std::string>& paths,
                                              Shard shard, size_t* total) {
  std::vector<ShardFile> out;
  std::set<std::string> seen;
  size_t n = 0;
  for (const std::string& arg : paths) {
    ASSIGN_OR_RETURN(auto files, CollectFiles(env, {arg}));
    const bool is_dir = env->IsDirectory(arg);
    for (std::string& f : files) {
      if (!seen.insert(f).second) continue;
      ++n;
      std::string key;
      if (is_dir) {
        key = std::filesystem::path(f).lexically_relative(arg).generic_string();
      }
      if (key.empty() || key.starts_with("..")) {
        key = std::filesystem::path(f).filename().generic_string();
      }
      if (ShardOf(key, shard.count) != shard.index) continue;
      out.push_back({std::move(f), std::move(key)});
    }
  }
  if (total != nullptr) *total = n;
  return out;
}

nlohmann::json IndexBody(const IndexSettings& settings, int64_t dimension,
                         const RemoteOptions& options) {
  Json props = {{options.text_field, {{"type", "text"}}}};
  Json body = {
      {"mappings", {{"_meta", {{"sagebox", SettingsJson(settings)}}}, {"properties", props}}}};
  if (dimension > 0) {
    body["settings"] = {{"index", {{"knn", true}}}};
    // No engine: each OpenSearch version's default supports these spaces (nmslib is
    // deprecated from 2.19 and refused for new indexes in 3.0).
    body["mappings"]["properties"][options.vector_field] = {
        {"type", "knn_vector"},
        {"dimension", dimension},
        {"method", {{"name", "hnsw"}, {"space_type", settings.space}}}};
  }
  return body;
}

StatusOr<RemoteIngestReport> IngestRemote(const RemoteOptions& options, const std::string& index,
                                          const std::vector<std::string>& paths,
                                          const IndexSettings& settings, Shard shard,
                                          const IngestProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  Env* env = options.env != nullptr ? options.env : Env::Default();
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  ASSIGN_OR_RETURN(auto splitter, MakeSplitter(settings));
  RETURN_IF_ERROR(ParseVectorSpace(settings.space).status());
  ASSIGN_OR_RETURN(OpenSearchClient client, OpenSearchClient::Create(options.client));
  RemoteIngestReport report;
  ASSIGN_OR_RETURN(auto files, CollectShard(env, paths, shard, &report.files_total));
  report.files = files.size();

  // The index's settings first: a worker with other flags should fail before the
  // parse, not after.
  ASSIGN_OR_RETURN(auto info, client.GetIndex(index));
  auto check_settings = [&](const Json& i) -> Status {
    const Json* meta = SageboxMeta(i);
    if (meta == nullptr) return Status::Ok();  // LangChain's, or made by hand: taken as is
    const std::string diff = SettingsDiff(*meta, settings);
    if (diff.empty()) return Status::Ok();
    return InvalidArgument(fmt::format(
        "index \"{}\" at {} was created with {}; run with the same flags, or use a new index",
        index, client.url(), diff));
  };
  if (info.has_value()) RETURN_IF_ERROR(check_settings(*info));

  // 1. Parse and chunk every file; nothing is sent yet.
  uint64_t total_bytes = 0;
  for (const ShardFile& f : files) {
    auto size = env->FileSize(f.path);
    if (size.ok()) total_bytes += *size;
  }
  std::vector<ChunkedDocument> docs;
  size_t chunk_count = 0;
  for (const ShardFile& f : files) {
    auto size = env->FileSize(f.path);
    if (size.ok()) report.bytes += *size;
    ASSIGN_OR_RETURN(auto parsed, ParseAndChunk(env, f.path, *splitter));
    for (ChunkedDocument& d : parsed) {
      chunk_count += d.chunks.size();
      docs.push_back(std::move(d));
    }
    if (progress) {
      progress({IngestProgress::Stage::kParse, report.bytes, total_bytes, chunk_count});
    }
  }
  report.documents = docs.size();

  // 2. Embed every chunk.
  std::vector<std::vector<std::optional<std::vector<float>>>> vectors(docs.size());
  int64_t dimension = 0;
  if (!settings.embedder.empty()) {
    ASSIGN_OR_RETURN(auto embedder, Factory(options)(settings.embedder));
    std::vector<std::pair<size_t, size_t>> where;
    for (size_t i = 0; i < docs.size(); ++i) {
      vectors[i].assign(docs[i].chunks.size(), std::nullopt);
      for (size_t j = 0; j < docs[i].chunks.size(); ++j) where.emplace_back(i, j);
    }
    for (size_t at = 0; at < where.size(); at += kEmbedRound) {
      const size_t end = std::min(where.size(), at + kEmbedRound);
      std::vector<std::string> texts;
      for (size_t w = at; w < end; ++w) {
        texts.push_back(docs[where[w].first].chunks[where[w].second].text);
      }
      auto vecs = embedder->Embed(texts);
      if (!vecs.ok()) return vecs.status().WithContext("embedding with " + embedder->name());
      if (vecs->size() != texts.size()) {
        return Internal(fmt::format("{}: {} vectors for {} texts", embedder->name(), vecs->size(),
                                    texts.size()));
      }
      for (size_t w = at; w < end; ++w) {
        std::vector<float>& v = (*vecs)[w - at];
        if (dimension == 0) dimension = static_cast<int64_t>(v.size());
        if (static_cast<int64_t>(v.size()) != dimension) {
          return BadInput(fmt::format("{}: a vector of {} dimensions after ones of {}",
                                      embedder->name(), v.size(), dimension));
        }
        if (IsZero(v)) continue;  // no direction: found by BM25 only, as locally
        vectors[where[w].first][where[w].second] = std::move(v);
        ++report.vectors;
      }
      if (progress) progress({IngestProgress::Stage::kEmbed, end, where.size(), chunk_count});
    }
  }

  // 3. The index, when missing. Another worker may create it between our GET and
  // PUT: then its settings must agree with ours, as if it had been there before.
  if (!info.has_value()) {
    Status created = client.CreateIndex(index, IndexBody(settings, dimension, options));
    if (created.code() == StatusCode::kAlreadyExists) {
      ASSIGN_OR_RETURN(info, client.GetIndex(index));
      if (info.has_value()) RETURN_IF_ERROR(check_settings(*info));
    } else {
      RETURN_IF_ERROR(created);
      report.created = true;
    }
  }

  // 4. _bulk in batches of bulk_docs documents or about bulk_bytes.
  BulkResult failed;
  std::vector<BulkDoc> batch;
  size_t batch_bytes = 0;
  size_t sent = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(BulkResult r, client.Bulk(index, batch));
    ++report.requests;
    for (BulkFailure& f : r.failures) {
      f.item += failed.items;  // position in the whole ingest
      if (failed.failures.size() < kMaxReportedFailures) failed.failures.push_back(std::move(f));
    }
    failed.items += r.items;
    failed.failed += r.failed;
    sent += batch.size();
    batch.clear();
    batch_bytes = 0;
    if (progress) progress({IngestProgress::Stage::kIndex, sent, chunk_count, chunk_count});
    return Status::Ok();
  };
  for (size_t i = 0; i < docs.size(); ++i) {
    const Document& d = docs[i].doc;
    for (size_t j = 0; j < docs[i].chunks.size(); ++j) {
      const Chunk& c = docs[i].chunks[j];
      Json meta = {{"source", d.source},
                   {"title", d.title},
                   {"format", d.metadata.contains("format") ? d.metadata.at("format") : ""},
                   {"page", c.page},
                   {"doc_id", d.id},
                   {"ordinal", j},
                   {"byte_begin", c.begin},
                   {"byte_end", c.end}};
      if (d.metadata.contains("beir_id")) meta["beir_id"] = d.metadata.at("beir_id");
      Json source = {{options.text_field, c.text}, {"metadata", std::move(meta)}};
      if (j < vectors[i].size() && vectors[i][j].has_value()) {
        source[options.vector_field] = *vectors[i][j];
      }
      batch_bytes += c.text.size() + (vectors[i].empty() ? 0 : 12 * dimension) + 256;
      batch.push_back({d.id + "#" + std::to_string(j), std::move(source)});
      if (batch.size() >= options.bulk_docs || batch_bytes >= options.bulk_bytes) {
        RETURN_IF_ERROR(flush());
      }
    }
  }
  RETURN_IF_ERROR(flush());
  report.chunks = failed.items - failed.failed;
  if (failed.failed > 0) {
    return IoError(fmt::format("index \"{}\" at {}: _bulk: {}", index, client.url(),
                               DescribeFailures(failed)));
  }
  RETURN_IF_ERROR(client.Refresh(index));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

RemoteIndex::~RemoteIndex() = default;

StatusOr<std::unique_ptr<RemoteIndex>> RemoteIndex::Open(const RemoteOptions& options,
                                                         const std::string& index,
                                                         const std::string& embedder) {
  ASSIGN_OR_RETURN(OpenSearchClient client, OpenSearchClient::Create(options.client));
  ASSIGN_OR_RETURN(auto info, client.GetIndex(index));
  if (!info.has_value()) {
    return NotFound(fmt::format("no index \"{}\" at {}", index, client.url()));
  }
  std::unique_ptr<RemoteIndex> r(new RemoteIndex(std::move(client), options));
  r->name_ = index;
  r->has_vectors_ = VectorSpace(*info, options.vector_field).has_value();
  r->embedder_spec_ = embedder;
  if (r->embedder_spec_.empty()) {
    if (const Json* meta = SageboxMeta(*info); meta != nullptr) {
      r->embedder_spec_ = meta->value("embedder", std::string());
    }
  }
  if (!r->embedder_spec_.empty()) {
    auto e = Factory(options)(r->embedder_spec_);
    if (!e.ok()) return e.status().WithContext("index \"" + index + "\": embedder");
    r->embedder_ = std::move(e).value();
  }
  return r;
}

StatusOr<SearchHit> HitFromJson(const nlohmann::json& hit, const std::string& text_field) {
  if (!hit.is_object() || !hit.contains("_id") || !hit["_id"].is_string()) {
    return BadInput("search hit: no string \"_id\"");
  }
  SearchHit h;
  h.chunk_id = hit["_id"];
  const Json src = hit.value("_source", Json::object());
  if (!src.is_object() || !src.contains(text_field) || !src[text_field].is_string()) {
    return BadInput(fmt::format("search hit \"{}\": no string _source.{}", h.chunk_id, text_field));
  }
  h.text = src[text_field];
  if (hit.contains("_score") && hit["_score"].is_number()) h.score = hit["_score"];
  const Json m = src.value("metadata", Json::object());
  if (m.is_object()) {
    auto str = [&](const char* k) {
      return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string();
    };
    auto num = [&](const char* k) -> int64_t {
      return m.contains(k) && m[k].is_number_integer() ? m[k].get<int64_t>() : 0;
    };
    h.source = str("source");
    h.title = str("title");
    h.format = str("format");
    h.doc_id = str("doc_id");
    h.beir_id = str("beir_id");
    h.page = static_cast<int>(num("page"));
    h.ordinal = num("ordinal");
    h.byte_begin = num("byte_begin");
    h.byte_end = num("byte_end");
  }
  if (h.doc_id.empty()) h.doc_id = !h.source.empty() ? h.source : h.chunk_id;
  return h;
}

StatusOr<std::vector<SearchHit>> RemoteIndex::Search(const std::string& query,
                                                     const SearchOptions& options) const {
  if (options.k < 1) return InvalidArgument(fmt::format("k = {}: expected at least 1", options.k));
  if (!options.sources.empty() || !options.formats.empty()) {
    return InvalidArgument("source and format filters are not supported on a remote index yet");
  }
  if (options.mode == SearchMode::kHybrid && !options.weights.empty() &&
      options.weights.size() != 2) {
    return InvalidArgument(
        fmt::format("{} weights: hybrid takes two (bm25, dense)", options.weights.size()));
  }
  const bool use_bm25 = options.mode != SearchMode::kDense;
  const bool use_dense = options.mode != SearchMode::kBm25;
  if (use_dense && !has_embedder()) {
    return InvalidArgument(fmt::format(
        "index \"{}\" at {}: dense and hybrid search need {} (a knn_vector field \"{}\" and an "
        "embedder: the index's own, or --embedder)",
        name_, client_.url(), embedder_ == nullptr ? "an embedder" : "vectors",
        options_.vector_field));
  }
  const int candidates = options.candidates > 0 ? options.candidates : std::max(options.k, 100);
  // The vectors are not needed back: they would only fatten the reply.
  const Json excludes = {{"excludes", {options_.vector_field}}};
  std::unordered_map<std::string, Json> payload;

  RankedList bm25;
  if (use_bm25) {
    const Json body = {{"size", candidates},
                       {"_source", excludes},
                       {"query", {{"match", {{options_.text_field, {{"query", query}}}}}}}};
    ASSIGN_OR_RETURN(Json reply, client_.Search(name_, body));
    bm25 = Ranked(reply, &payload);
  }
  RankedList dense;
  if (use_dense) {
    ASSIGN_OR_RETURN(auto qv, embedder_->Embed({query}));
    if (qv.size() != 1) return Internal(embedder_->name() + ": no vector for the query");
    if (!IsZero(qv[0])) {
      const Json body = {
          {"size", candidates},
          {"_source", excludes},
          {"query", {{"knn", {{options_.vector_field, {{"vector", qv[0]}, {"k", candidates}}}}}}}};
      ASSIGN_OR_RETURN(Json reply, client_.Search(name_, body));
      dense = Ranked(reply, &payload);
    }
  }

  ASSIGN_OR_RETURN(const RankedList fused, CombineRetrievers(bm25, dense, options));
  std::vector<SearchHit> out;
  for (const ScoredId& s : fused) {
    auto h = HitFromJson(payload.at(s.id), options_.text_field);
    if (!h.ok()) return h.status().WithContext(fmt::format("{}/{}", client_.url(), name_));
    h->score = s.score;
    out.push_back(std::move(*h));
  }
  SetRetrieverRanks(bm25, dense, &out);
  return out;
}

}  // namespace sagebox::retrieval::remote
