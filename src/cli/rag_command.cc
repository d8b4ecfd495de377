// `sagebox rag`: question answering over a knowledge base of your own documents.
// ingest (files and folders into a named index), ask (an answer with its sources),
// eval (BEIR measures per retriever), indexes (what exists), drop. The work is in
// retrieval/kb/knowledge_base.h and rag/ask/ask.h (search, answer, log); this file
// parses flags and prints.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "cli/platform.h"
#include "core/env.h"
#include "core/progress.h"
#include "core/table.h"
#include "rag/ask/ask.h"
#include "rag/prompt.h"
#include "retrieval/kb/knowledge_base.h"
#include "retrieval/providers/provider_spec.h"
#include "retrieval/remote/remote_index.h"

namespace sagebox::cli {

namespace {

// An ingest's progress on `progress`: bytes while files are parsed, then chunks as they
// are embedded and indexed (against the parse stage's byte total, so the bar stays full).
retrieval::IngestProgressFn ShowIngestProgress(Progress* progress) {
  return [progress, bytes_total = uint64_t{0}](const retrieval::IngestProgress& p) mutable {
    if (p.stage == retrieval::IngestProgress::Stage::kParse) {
      bytes_total = p.total;
      progress->Update(p.done, p.total, p.chunks);
    } else {
      progress->Update(bytes_total, bytes_total, p.done);
    }
  };
}

using retrieval::IndexSettings;
using retrieval::KnowledgeBase;
using retrieval::SearchMode;

struct IngestFlags {
  std::string index;
  std::vector<std::string> paths;
  int64_t chunk_size = 600;
  int64_t chunk_overlap = 20;
  std::string splitter = "recursive";
  std::string embedder;
  std::string opensearch;  // a cluster's URL: ingest there instead of the local index
  std::string opensearch_auth;
  std::string shard;  // "I/N"
};

// The remote backend's options from the --opensearch flags.
StatusOr<retrieval::remote::RemoteOptions> RemoteOptionsFromFlags(const std::string& url,
                                                                  const std::string& auth) {
  retrieval::remote::RemoteOptions o;
  ASSIGN_OR_RETURN(o.client, retrieval::remote::ClientOptionsFromFlags(url, auth));
  return o;
}

// `rag ingest --opensearch URL [--shard I/N]`: this worker's share into the cluster.
int IngestRemote(const IngestFlags& f, const IndexSettings& s) {
  auto shard = retrieval::remote::ParseShard(f.shard.empty() ? "0/1" : f.shard);
  if (!shard.ok()) return Fail(shard.status());
  auto o = RemoteOptionsFromFlags(f.opensearch, f.opensearch_auth);
  if (!o.ok()) return Fail(o.status());
  Progress progress("ingest " + f.index, Progress::StderrIsTerminal());
  auto report = retrieval::remote::IngestRemote(*o, f.index, f.paths, s, *shard,
                                                ShowIngestProgress(&progress));
  progress.Done();
  if (!report.ok()) return Fail(report.status());
  const auto& r = *report;
  const double secs = std::max(r.seconds, 1e-9);
  std::printf(
      "index %s at %s%s: shard %d/%d: %zu of %zu files, %zu documents; %zu chunks (%zu with "
      "vectors) in %zu _bulk requests, %s in %.2f s (%.2f MB/s, %.0f chunks/s)\n",
      f.index.c_str(), f.opensearch.c_str(), r.created ? " (created)" : "", shard->index,
      shard->count, r.files, r.files_total, r.documents, r.chunks, r.vectors, r.requests,
      HumanBytes(r.bytes).c_str(), r.seconds, static_cast<double>(r.bytes) / 1e6 / secs,
      static_cast<double>(r.chunks) / secs);
  return 0;
}

StatusOr<std::unique_ptr<KnowledgeBase>> OpenIndex(db::Database* db, const Globals& g,
                                                   const std::string& index, bool read_only,
                                                   std::optional<IndexSettings> create = {}) {
  retrieval::OpenOptions o;
  o.data_dir = g.data;
  o.read_only = read_only;
  o.create = std::move(create);
  auto kb = KnowledgeBase::Open(db, index, o);
  if (!kb.ok() && kb.status().code() == StatusCode::kNotFound && !o.create.has_value()) {
    return kb.status().WithContext(
        "see `sagebox rag indexes`, or create it with `sagebox rag ingest " + index + " PATH...`");
  }
  return kb;
}

int Ingest(const Globals& g, const IngestFlags& f, const CLI::App* cmd) {
  IndexSettings s;
  s.chunk_size = f.chunk_size;
  s.chunk_overlap = f.chunk_overlap;
  s.splitter = f.splitter;
  s.embedder = f.embedder;
  if (!f.opensearch.empty()) return IngestRemote(f, s);
  if (!f.shard.empty()) {
    return Fail(
        InvalidArgument("--shard splits the files over workers of one OpenSearch "
                        "cluster: it needs --opensearch URL"));
  }
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  auto kb = OpenIndex(database->get(), g, f.index, false, s);
  if (!kb.ok()) return Fail(kb.status());
  // Settings are fixed at creation: a flag given again must agree with them.
  const IndexSettings& have = (*kb)->settings();
  auto differs = [&](const char* flag, const std::string& was, const std::string& now) {
    if (cmd->count(flag) == 0 || was == now) return false;
    (void)std::fprintf(stderr,
                       "sagebox: index \"%s\" was created with %s %s, not %s; drop it (`sagebox "
                       "rag drop %s`) to change that\n",
                       f.index.c_str(), flag, was.empty() ? "(none)" : was.c_str(), now.c_str(),
                       f.index.c_str());
    return true;
  };
  if (differs("--chunk-size", std::to_string(have.chunk_size), std::to_string(f.chunk_size)) ||
      differs("--chunk-overlap", std::to_string(have.chunk_overlap),
              std::to_string(f.chunk_overlap)) ||
      differs("--splitter", have.splitter, f.splitter) ||
      differs("--embedder", have.embedder, f.embedder)) {
    return 1;
  }
  Progress progress("ingest " + f.index, Progress::StderrIsTerminal());
  auto report = (*kb)->Ingest(f.paths, ShowIngestProgress(&progress));
  progress.Done();
  if (!report.ok()) return Fail(report.status());
  const auto& r = *report;
  const double secs = std::max(r.seconds, 1e-9);
  std::printf(
      "index %s: %zu files (%zu unchanged), documents %zu added, %zu replaced, %zu unchanged, "
      "%zu deleted; %zu chunks (%zu with vectors), %s in %.2f s (%.2f MB/s, %.0f chunks/s)\n",
      f.index.c_str(), r.files, r.files_unchanged, r.added, r.replaced, r.unchanged, r.deleted,
      r.chunks, r.vectors, HumanBytes(r.bytes).c_str(), r.seconds,
      static_cast<double>(r.bytes) / 1e6 / secs, static_cast<double>(r.chunks) / secs);
  return 0;
}

struct AskFlags {
  std::string index;
  std::string question;
  int k = 3;
  std::string mode = "auto";
  std::string fusion = "rrf";
  std::vector<double> weights;
  std::string generator;
  std::string template_file;
  std::string format = "table";
  std::string opensearch;  // search a cluster's index instead of the local one
  std::string opensearch_auth;
  std::string embedder;  // with --opensearch: overrides the index's own
};

std::string OneLine(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

int Ask(const Globals& g, const AskFlags& f) {
  if (f.format != "table" && f.format != "json") {
    return Fail(InvalidArgument("--format " + f.format + ": expected table or json"));
  }
  if (f.k < 1) return Fail(InvalidArgument("--k " + std::to_string(f.k) + ": expected >= 1"));
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  // The local index, or with --opensearch the cluster's (retrieval/remote/).
  if (!f.embedder.empty() && f.opensearch.empty()) {
    return Fail(
        InvalidArgument("--embedder on ask is for --opensearch indexes; a local index "
                        "uses the embedder it was created with"));
  }
  std::unique_ptr<KnowledgeBase> kb;
  std::unique_ptr<retrieval::remote::RemoteIndex> remote;
  rag::Searcher searcher;
  searcher.index = f.index;
  if (f.opensearch.empty()) {
    auto opened = OpenIndex(database->get(), g, f.index, true);
    if (!opened.ok()) return Fail(opened.status());
    kb = std::move(opened).value();
    searcher.has_embedder = kb->has_embedder();
    searcher.search = [&kb](const std::string& q, const retrieval::SearchOptions& o) {
      return kb->Search(q, o);
    };
  } else {
    auto o = RemoteOptionsFromFlags(f.opensearch, f.opensearch_auth);
    if (!o.ok()) return Fail(o.status());
    auto opened = retrieval::remote::RemoteIndex::Open(*o, f.index, f.embedder);
    if (!opened.ok()) return Fail(opened.status());
    remote = std::move(opened).value();
    searcher.has_embedder = remote->has_embedder();
    searcher.search = [&remote](const std::string& q, const retrieval::SearchOptions& so) {
      return remote->Search(q, so);
    };
  }
  rag::AskRequest req;
  req.question = f.question;
  req.k = f.k;
  req.mode = f.mode;
  req.fusion = f.fusion;
  req.weights = f.weights;
  if (!f.template_file.empty()) {
    if (Status s = Env::Default()->ReadFileToString(f.template_file, &req.prompt_template);
        !s.ok()) {
      return Fail(s);
    }
    if (Status s = rag::ValidateTemplate(req.prompt_template); !s.ok()) {
      return Fail(s.WithContext(f.template_file));
    }
  }
  std::unique_ptr<retrieval::Generator> generator;
  if (!f.generator.empty()) {
    auto gen = retrieval::MakeGenerator(f.generator);
    if (!gen.ok()) return Fail(gen.status());
    generator = std::move(gen).value();
    req.generator = generator.get();
  }
  auto r = rag::Ask(**database, searcher, req);
  if (!r.ok()) return Fail(r.status());

  if (f.format == "json") {
    std::printf("%s\n", rag::AskResultJson(*r).dump(2).c_str());
    return 0;
  }
  std::printf("%s\n\n", r->answer.c_str());
  std::printf("provider %s, %s retrieval, %.1f ms, cost $%s (question %lld)\n", r->provider.c_str(),
              r->mode.c_str(), r->latency_ms, r->cost_usd.value_or("unknown").c_str(),
              static_cast<long long>(r->id));
  if (r->sources.empty()) {
    std::printf("no sources: nothing in index %s matches\n", f.index.c_str());
    return 0;
  }
  TextTable t({"#", "source", "page", "score", "chunk", "passage"},
              {TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kLeft});
  for (size_t i = 0; i < r->sources.size(); ++i) {
    const auto& h = r->sources[i];
    t.AddRow({std::to_string(i + 1), h.source, h.page > 0 ? std::to_string(h.page) : "-",
              fmt::format("{:.4f}", h.score), h.chunk_id.substr(h.doc_id.size()), OneLine(h.text)});
  }
  std::printf("%s", t.Render(100).c_str());
  return 0;
}

struct EvalFlags {
  std::string index;
  std::string queries;
  std::string qrels;
  std::string format = "table";
  std::string fusion = "rrf";
  std::vector<double> weights;
};

int Eval(const Globals& g, const EvalFlags& f) {
  if (f.format != "table" && f.format != "json") {
    return Fail(InvalidArgument("--format " + f.format + ": expected table or json"));
  }
  auto fusion = retrieval::ParseFusionMethod(f.fusion);
  if (!fusion.ok()) return Fail(fusion.status());
  auto queries = retrieval::ReadBeirQueries(Env::Default(), f.queries);
  if (!queries.ok()) return Fail(queries.status());
  auto qrels = retrieval::ReadQrels(Env::Default(), f.qrels);
  if (!qrels.ok()) return Fail(qrels.status());
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  auto kb = OpenIndex(database->get(), g, f.index, true);
  if (!kb.ok()) return Fail(kb.status());
  std::vector<SearchMode> modes = {SearchMode::kBm25};
  std::string note;
  if ((*kb)->has_embedder()) {
    modes.push_back(SearchMode::kDense);
    modes.push_back(SearchMode::kHybrid);
  } else {
    note = "dense and hybrid: skipped, index " + f.index +
           " has no embedder (create it with --embedder, e.g. --embedder words)";
  }
  nlohmann::json results = nlohmann::json::object();
  TextTable t({"retriever", "nDCG@10", "Recall@100", "MRR@10", "queries", "seconds"},
              {TextTable::Align::kLeft, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight});
  for (SearchMode m : modes) {
    retrieval::SearchOptions so;
    so.mode = m;
    so.fusion = *fusion;
    so.weights = f.weights;
    const auto start = std::chrono::steady_clock::now();
    auto e = retrieval::EvaluateIndex(**kb, *queries, *qrels, so);
    if (!e.ok()) return Fail(e.status());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string name(retrieval::SearchModeName(m));
    results[name] = {{"ndcg@10", e->ndcg},
                     {"recall@100", e->recall},
                     {"mrr@10", e->mrr},
                     {"queries", e->queries},
                     {"seconds", secs}};
    t.AddRow({name, fmt::format("{:.4f}", e->ndcg), fmt::format("{:.4f}", e->recall),
              fmt::format("{:.4f}", e->mrr), std::to_string(e->queries),
              fmt::format("{:.2f}", secs)});
  }
  if (f.format == "json") {
    nlohmann::json j = {{"index", f.index}, {"queries", queries->size()}, {"results", results}};
    if ((*kb)->has_embedder()) {
      j["fusion"] = f.fusion;
      if (!f.weights.empty()) j["weights"] = f.weights;
    }
    if (!note.empty()) j["note"] = note;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s", t.Render().c_str());
  if (!note.empty()) std::printf("%s\n", note.c_str());
  return 0;
}

int Indexes(const Globals& g, bool as_json) {
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  auto all = retrieval::ListIndexes(**database);
  if (!all.ok()) return Fail(all.status());
  if (as_json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& i : *all) j.push_back(retrieval::IndexInfoJson(i));
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (all->empty()) {
    std::printf("no indexes yet: sagebox rag ingest NAME PATH...\n");
    return 0;
  }
  TextTable t({"index", "documents", "chunks", "bytes", "chunking", "embedder"},
              {TextTable::Align::kLeft, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kLeft});
  for (const auto& i : *all) {
    t.AddRow({i.name, std::to_string(i.stats.documents), std::to_string(i.stats.chunks),
              HumanBytes(static_cast<uint64_t>(i.stats.bytes)),
              fmt::format("{} {}/{}", i.settings.splitter, i.settings.chunk_size,
                          i.settings.chunk_overlap),
              i.settings.embedder.empty()
                  ? "none (BM25 only)"
                  : fmt::format("{} ({} dims)", i.settings.embedder, i.dimension)});
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

int Drop(const Globals& g, const std::string& index) {
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  if (Status s = retrieval::DropIndex(**database, g.data, index); !s.ok()) return Fail(s);
  std::printf("dropped index %s\n", index.c_str());
  return 0;
}

}  // namespace

void AddRagCommands(CLI::App& app, Globals& g, int* exit_code) {
  auto* rag = app.add_subcommand(
      "rag",
      "Answers questions from your own documents, with the sources cited: a named index of "
      "HTML, Markdown, reStructuredText, text and PDF files (and BEIR corpus.jsonl), searched "
      "by BM25, by vectors, or both fused; answered by extracting the best sentences (offline, "
      "no model) or by a model you name.\n"
      "Examples:\n"
      "  sagebox rag ingest docs ./doc                      # BM25 only, chunks of 600/20\n"
      "  sagebox rag ingest docs2 ./doc --embedder words    # + word vectors (see --embedder)\n"
      "  sagebox rag ask docs \"How do I use local mode?\"\n"
      "  sagebox rag ask docs \"...\" --format json --k 5 --mode hybrid\n"
      "  sagebox rag ask docs \"...\" --generator openai:llama3@http://127.0.0.1:8080/v1\n"
      "  sagebox rag eval cran --queries queries.jsonl --qrels qrels.tsv\n"
      "  sagebox rag ingest docs ./doc --opensearch https://HOST --shard 0/4   # worker 0 of 4\n"
      "  sagebox rag ask docs \"...\" --opensearch https://HOST\n"
      "  sagebox rag indexes");
  rag->require_subcommand(1);

  auto ingest = std::make_shared<IngestFlags>();
  auto* in = rag->add_subcommand(
      "ingest",
      "Adds files and folders to INDEX (created on first use with the chunking and embedder "
      "flags, fixed afterwards). Folders are read recursively (hidden entries and unknown "
      "extensions skipped; *.jsonl only as corpus.jsonl). Every file is parsed before "
      "anything is stored: one bad file stops the ingest with `FILE: what is wrong`, exit 2, "
      "and the index stays as it was. Unchanged files (same SHA-256) are skipped; a changed "
      "file replaces its chunks.");
  in->add_option("index", ingest->index, "Index name (A-Z a-z 0-9 _ . -)")->required();
  in->add_option("paths", ingest->paths, "Files and folders")->required();
  in->add_option("--chunk-size", ingest->chunk_size,
                 "Largest chunk, in characters (LangChain's chunk_size)")
      ->capture_default_str();
  in->add_option("--chunk-overlap", ingest->chunk_overlap,
                 "Characters repeated between consecutive chunks")
      ->capture_default_str();
  in->add_option("--splitter", ingest->splitter,
                 "recursive (RecursiveCharacterTextSplitter: paragraphs, lines, words) or "
                 "character (CharacterTextSplitter on lines)")
      ->capture_default_str();
  in->add_option("--embedder", ingest->embedder,
                 "Vectors for dense search: sagemaker:ENDPOINT[@URL] (add ,format=hf for a "
                 "Hugging Face model, ,format=kserve,target=MODEL for `sagebox endpoint "
                 "serve`), openai:MODEL[@URL], or "
                 "words (averaged word vectors: only in a build configured with "
                 "-DSAGEBOX_WORD_VECTORS=ON; they scored below BM25 on Cranfield); none = BM25 "
                 "only");
  in->add_option("--opensearch", ingest->opensearch,
                 "Ingest into this OpenSearch cluster's INDEX instead of the local one: "
                 "http(s)://host[:port][/prefix], e.g. https://search-x.eu-west-1.es."
                 "amazonaws.com or sagebox serve's http://127.0.0.1:8080/opensearch. Documents "
                 "are LangChain's OpenSearchVectorSearch shape (vector_field, text, metadata), "
                 "so LangChain can search them too");
  in->add_option("--opensearch-auth", ingest->opensearch_auth,
                 "none, basic (user:password from $SAGEBOX_OPENSEARCH_USER; the default when "
                 "it is set) or sigv4[:SERVICE] (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                 "AWS_REGION; service es, or aoss for Serverless)");
  in->add_option("--shard", ingest->shard,
                 "I/N: this worker takes only the files whose path (relative to the PATH "
                 "argument it is under) hashes to shard I of N (0-based), like a processing "
                 "job's ShardedByS3Key; run N workers with the same PATHs and flags, I = 0..N-1, "
                 "and together they ingest every file once (needs --opensearch)");
  in->callback([&g, ingest, in, exit_code] { *exit_code = Ingest(g, *ingest, in); });

  auto ask = std::make_shared<AskFlags>();
  auto* a = rag->add_subcommand(
      "ask",
      "Answers QUESTION from INDEX: the answer, the provider that wrote it, the latency, and "
      "the numbered sources (source, page, score, passage) the answer cites as [n]. Every "
      "question is logged in the database with its results, answer, latency and cost.");
  a->add_option("index", ask->index, "Index name")->required();
  a->add_option("question", ask->question, "The question, in quotes")->required();
  a->add_option("--k", ask->k, "Passages retrieved and shown")->capture_default_str();
  a->add_option("--mode", ask->mode,
                "bm25, dense, hybrid, or auto (hybrid when the index has an embedder)")
      ->capture_default_str();
  a->add_option("--fusion", ask->fusion,
                "Hybrid fusion: rrf (reciprocal rank, k=60) or minmax (normalised mean)")
      ->capture_default_str();
  a->add_option("--weights", ask->weights,
                "Hybrid weights BM25,DENSE, each in [0, 1], summing to 1 (default equal)")
      ->delimiter(',')
      ->expected(2);
  a->add_option("--generator", ask->generator,
                "A model instead of the extractive answer: sagemaker:ENDPOINT[@URL] or "
                "openai:MODEL[@URL] (the prompt is the article's template)");
  a->add_option("--template", ask->template_file,
                "Prompt template file with {context} and {question} (with --generator)");
  a->add_option("--format", ask->format, "table (for people) or json (for programs)")
      ->capture_default_str();
  a->add_option("--opensearch", ask->opensearch,
                "Search INDEX on this OpenSearch cluster instead of the local index (see "
                "ingest --opensearch); BM25 is a match query, dense a knn query, hybrid both "
                "fused here");
  a->add_option("--opensearch-auth", ask->opensearch_auth,
                "none, basic ($SAGEBOX_OPENSEARCH_USER) or sigv4[:SERVICE], as for ingest");
  a->add_option("--embedder", ask->embedder,
                "With --opensearch: embeds the question for dense/hybrid search, for an index "
                "without sagebox's settings (e.g. one LangChain wrote); default the index's own");
  a->callback([&g, ask, exit_code] { *exit_code = Ask(g, *ask); });

  auto eval = std::make_shared<EvalFlags>();
  auto* e = rag->add_subcommand(
      "eval",
      "Measures retrieval on a test collection in BEIR format: nDCG@10, Recall@100 and "
      "MRR@10 for BM25, and for dense and hybrid when the index has an embedder. Ingest the "
      "collection's corpus.jsonl into INDEX first; several chunks of one document count "
      "once, at their best rank.");
  e->add_option("index", eval->index, "Index name")->required();
  e->add_option("--queries", eval->queries, "BEIR queries.jsonl ({\"_id\",\"text\"} per line)")
      ->required();
  e->add_option("--qrels", eval->qrels, "Judgments: query-id corpus-id score (TSV)")->required();
  e->add_option("--fusion", eval->fusion, "Hybrid fusion: rrf or minmax")->capture_default_str();
  e->add_option("--weights", eval->weights,
                "Hybrid weights BM25,DENSE, each in [0, 1], summing to 1 (default equal)")
      ->delimiter(',')
      ->expected(2);
  e->add_option("--format", eval->format, "table or json")->capture_default_str();
  e->callback([&g, eval, exit_code] { *exit_code = Eval(g, *eval); });

  auto as_json = std::make_shared<bool>(false);
  auto* ix = rag->add_subcommand("indexes", "Lists the indexes: documents, chunks, settings.");
  ix->add_flag("--json", *as_json, "JSON instead of a table");
  ix->callback([&g, as_json, exit_code] { *exit_code = Indexes(g, *as_json); });

  auto drop_name = std::make_shared<std::string>();
  auto* dr = rag->add_subcommand("drop", "Deletes an index: its documents, chunks and files.");
  dr->add_option("index", *drop_name, "Index name")->required();
  dr->callback([&g, drop_name, exit_code] { *exit_code = Drop(g, *drop_name); });
}

}  // namespace sagebox::cli
