// `sagebox label`: human feedback with a review → rework loop. The CLI is the manager's
// and the requester's tool on the server's machine: create projects, add members, import
// manifests (and convert the public datasets), watch status and metrics, export. The
// annotators and reviewers work in the web UI or through /api/label/. The work is in
// label/store/label_store.h; this file parses flags and prints.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "cli/platform.h"
#include "core/env.h"
#include "core/table.h"
#include "label/manifest.h"
#include "label/store/label_store.h"

namespace sagebox::cli {

namespace {

using label::Caller;
using label::LabelStore;

// The CLI runs where the data is, so it acts as the local admin (as an open server does).
Caller Cli() { return Caller{"local", true}; }

struct Opened {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<LabelStore> store;
};

StatusOr<Opened> Open(const Globals& g) {
  Opened o;
  ASSIGN_OR_RETURN(o.db, OpenDatabase(g));
  o.store = std::make_unique<LabelStore>(o.db.get(), Env::Default(), g.data);
  return o;
}

Status CheckFormat(const std::string& f) {
  if (f != "table" && f != "json")
    return InvalidArgument("--format " + f + ": expected table or json");
  return Status::Ok();
}

StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(Env::Default()->ReadFileToString(path, &text));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return BadInput(path + ": not valid JSON");
  return j;
}

// The manifest lines of `path`: a Ground Truth manifest as is, or a public dataset
// converted first (`--from oasst|squad`).
StatusOr<std::string> ManifestText(const std::string& path, const std::string& from) {
  std::string text;
  RETURN_IF_ERROR(Env::Default()->ReadFileToString(path, &text));
  if (from.empty() || from == "manifest") return text;
  StatusOr<std::vector<nlohmann::json>> lines = std::vector<nlohmann::json>{};
  if (from == "oasst") {
    lines = label::ConvertOasstTrees(text, path);
  } else if (from == "squad") {
    lines = label::ConvertSquad(text, path);
  } else {
    return InvalidArgument("--from " + from + ": expected manifest, oasst or squad");
  }
  if (!lines.ok()) return lines.status();
  std::string out;
  for (const auto& l : *lines) out += l.dump() + "\n";
  return out;
}

int CreateProject(const Globals& g, const std::string& name, const std::string& kind,
                  const std::string& config_path, const std::string& format) {
  if (Status s = CheckFormat(format); !s.ok()) return Fail(s);
  nlohmann::json cfg = nlohmann::json::object();
  if (!config_path.empty()) {
    auto j = ReadJsonFile(config_path);
    if (!j.ok()) return Fail(j.status());
    cfg = *j;
  }
  if (!kind.empty()) {
    if (cfg.is_object() && cfg.contains("kind") && cfg["kind"] != kind) {
      return Fail(InvalidArgument("--kind " + kind + " differs from the config's kind " +
                                  cfg["kind"].dump()));
    }
    if (cfg.is_object()) cfg["kind"] = kind;
  }
  auto config = label::ParseProjectConfig(cfg, config_path.empty() ? "--kind" : config_path);
  if (!config.ok()) return Fail(config.status());
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->CreateProject(Cli(), name, *config);
  if (!p.ok()) return Fail(p.status());
  if (format == "json") {
    std::printf("%s\n",
                nlohmann::json(
                    {{"id", p->id}, {"name", p->name}, {"kind", label::KindName(p->config.kind)}})
                    .dump(2)
                    .c_str());
  } else {
    std::printf("created %s project \"%s\" (id %lld)\n",
                std::string(label::KindName(p->config.kind)).c_str(), p->name.c_str(),
                static_cast<long long>(p->id));
  }
  return 0;
}

int Import(const Globals& g, const std::string& project, const std::string& path,
           const std::string& from) {
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->GetProject(Cli(), project);
  if (!p.ok()) return Fail(p.status());
  auto text = ManifestText(path, from);
  if (!text.ok()) return Fail(text.status());
  auto lines = label::ParseManifest(Env::Default(), *text, path, p->config);
  if (!lines.ok()) return Fail(lines.status());
  auto r = o->store->Import(Cli(), p->id, *lines);
  if (!r.ok()) return Fail(r.status());
  std::printf("imported %d items into %d batch%s of \"%s\" (%d media file%s into the blob store)\n",
              r->items, r->batches, r->batches == 1 ? "" : "es", p->name.c_str(), r->media,
              r->media == 1 ? "" : "s");
  return 0;
}

int Convert(const std::string& path, const std::string& from, const std::string& out) {
  if (from.empty() || from == "manifest")
    return Fail(InvalidArgument("--from: expected oasst or squad"));
  auto text = ManifestText(path, from);
  if (!text.ok()) return Fail(text.status());
  if (out.empty() || out == "-") {
    (void)std::fwrite(text->data(), 1, text->size(), stdout);
    return 0;
  }
  Status s = Env::Default()->WriteFileAtomic(out, *text);
  if (!s.ok()) return Fail(s);
  return 0;
}

int AddMember(const Globals& g, const std::string& project, const std::string& user,
              const std::string& role, const std::string& rate) {
  std::optional<Decimal> r;
  if (!rate.empty()) {
    Decimal d;
    if (!Decimal::Parse(rate, &d))
      return Fail(InvalidArgument("--rate " + rate + ": expected a decimal"));
    r = d;
  }
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->GetProject(Cli(), project);
  if (!p.ok()) return Fail(p.status());
  Status s = o->store->AddMember(Cli(), p->id, user, role, r);
  if (!s.ok()) return Fail(s);
  std::printf("%s is now %s of \"%s\"\n", user.c_str(),
              role == "annotator" ? "an annotator" : ("a " + role).c_str(), p->name.c_str());
  return 0;
}

int Members(const Globals& g, const std::string& project, const std::string& format) {
  if (Status s = CheckFormat(format); !s.ok()) return Fail(s);
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->GetProject(Cli(), project);
  if (!p.ok()) return Fail(p.status());
  auto ms = o->store->ListMembers(Cli(), p->id);
  if (!ms.ok()) return Fail(ms.status());
  if (format == "json") {
    std::printf("%s\n", ms->dump(2).c_str());
    return 0;
  }
  TextTable t({"user", "role", "hourly rate (USD)"},
              {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kRight});
  for (const auto& m : *ms) {
    t.AddRow({m["user"].get<std::string>(), m["role"].get<std::string>(),
              m.contains("hourly_rate") ? m["hourly_rate"].get<std::string>()
                                        : "project's " + p->config.hourly_rate.ToFixed(2)});
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

int Projects(const Globals& g, const std::string& format) {
  if (Status s = CheckFormat(format); !s.ok()) return Fail(s);
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto ps = o->store->ListProjects(Cli());
  if (!ps.ok()) return Fail(ps.status());
  std::vector<nlohmann::json> rows;
  for (const auto& p : *ps) {
    auto s = o->store->Summary(Cli(), p.id);
    if (!s.ok()) return Fail(s.status());
    rows.push_back(*s);
  }
  if (format == "json") {
    std::printf("%s\n", nlohmann::json(rows).dump(2).c_str());
    return 0;
  }
  if (rows.empty()) {
    std::printf("no label projects yet: sagebox label project create NAME --kind KIND\n");
    return 0;
  }
  TextTable t({"id", "project", "kind", "items", "resolved", "review queue"},
              {TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kLeft,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight});
  for (const auto& r : rows) {
    t.AddRow({r["id"].dump(), r["project"].get<std::string>(), r["kind"].get<std::string>(),
              r["items"].dump(), r["items_resolved"].dump(), r["review_queue"].dump()});
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

int Status_(const Globals& g, const std::string& project, const std::string& format) {
  if (Status s = CheckFormat(format); !s.ok()) return Fail(s);
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->GetProject(Cli(), project);
  if (!p.ok()) return Fail(p.status());
  auto s = o->store->Summary(Cli(), p->id);
  if (!s.ok()) return Fail(s.status());
  auto batches = o->store->Batches(Cli(), p->id);
  if (!batches.ok()) return Fail(batches.status());
  if (format == "json") {
    nlohmann::json j = *s;
    j["batch_list"] = nlohmann::json::array();
    for (const auto& b : *batches) {
      j["batch_list"].push_back({{"id", b.id},
                                 {"seq", b.seq},
                                 {"state", b.state},
                                 {"items", b.items},
                                 {"resolved", b.resolved}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf(
      "%s (%s, id %lld): %lld items, %lld resolved (overlap %lld), %lld in the review queue\n",
      p->name.c_str(), (*s)["kind"].get<std::string>().c_str(), static_cast<long long>(p->id),
      static_cast<long long>((*s)["items"].get<int64_t>()),
      static_cast<long long>((*s)["items_resolved"].get<int64_t>()),
      static_cast<long long>((*s)["overlap"].get<int64_t>()),
      static_cast<long long>((*s)["review_queue"].get<int64_t>()));
  std::string states;
  for (const auto& [k, v] : (*s)["assignments"].items()) {
    states += fmt::format("{}{} {}", states.empty() ? "" : ", ", v.get<int64_t>(), k);
  }
  std::printf("assignments: %s\n", states.empty() ? "none yet" : states.c_str());
  TextTable t({"batch", "state", "items", "resolved"},
              {TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kRight,
               TextTable::Align::kRight});
  for (const auto& b : *batches) {
    t.AddRow({fmt::format("{} (id {})", b.seq, b.id), b.state, std::to_string(b.items),
              std::to_string(b.resolved)});
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

int Metrics(const Globals& g, const std::string& project, const std::string& format) {
  if (Status s = CheckFormat(format); !s.ok()) return Fail(s);
  auto o = Open(g);
  if (!o.ok()) return Fail(o.status());
  auto p = o->store->GetProject(Cli(), project);
  if (!p.ok()) return Fail(p.status());
  auto m = o->store->Metrics(Cli(), p->id);
  if (!m.ok()) return Fail(m.status());
  if (format == "json") {
    std::printf("%s\n", m->dump(2).c_str());
    return 0;
  }
  auto num = [](const nlohmann::json& v, const char* f) {
    return v.is_null() ? std::string("-") : fmt::format(fmt::runtime(f), v.get<double>());
  };
  const auto& j = *m;
  std::printf("%s: %lld items, %lld submissions, %lld accepted\n", p->name.c_str(),
              static_cast<long long>(j["items"].get<int64_t>()),
              static_cast<long long>(j["submissions"].get<int64_t>()),
              static_cast<long long>(j["accepted"].get<int64_t>()));
  std::printf("first-review acceptance %s, rework rounds %s (max %lld), gold accuracy %s\n",
              num(j["first_review_acceptance"], "{:.1%}").c_str(),
              num(j["rework_rounds"]["mean"], "{:.2f}").c_str(),
              static_cast<long long>(j["rework_rounds"]["max"].get<int64_t>()),
              num(j["gold"]["accuracy"], "{:.3f}").c_str());
  std::printf("active seconds per task %s, cost %s USD, per accepted label %s USD\n",
              num(j["active_seconds_per_task"], "{:.0f}").c_str(),
              j["cost"].get<std::string>().c_str(),
              j["cost_per_accepted_label"].is_null()
                  ? "-"
                  : j["cost_per_accepted_label"].get<std::string>().c_str());
  std::printf("agreement: %s\n", j["agreement"].dump().c_str());
  TextTable t({"user", "tasks", "accepted", "first-review acc.", "gold", "active s", "cost USD"},
              {TextTable::Align::kLeft, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight});
  for (const auto& u : j["people"]) {
    t.AddRow({u["user"].get<std::string>(), u["tasks"].dump(), u["accepted"].dump(),
              num(u["first_review_acceptance"], "{:.1%}"), num(u["gold_accuracy"], "{:.3f}"),
              u["active_seconds"].dump(), u["cost"].get<std::string>()});
  }
  std::printf("%s", t.Render().c_str());
  return 0;
}

struct ExportFlags {
  std::string project, format, pairs, style, dimension, scope = "accepted", out;
  bool closed_book = false;
};

int Export(const Globals& g, const ExportFlags& f) {
  auto format = label::ParseExportFormat(f.format);
  if (!format.ok()) return Fail(format.status());
  label::ExportOptions o;
  o.format = *format;
  o.style = f.style;
  o.dimension = f.dimension;
  o.closed_book = f.closed_book;
  if (!f.pairs.empty()) {
    auto pp = label::ParsePairPolicy(f.pairs);
    if (!pp.ok()) return Fail(pp.status());
    o.pairs = *pp;
  }
  if (f.scope != "accepted" && f.scope != "reviewed") {
    return Fail(InvalidArgument("--scope " + f.scope + ": expected accepted or reviewed"));
  }
  auto opened = Open(g);
  if (!opened.ok()) return Fail(opened.status());
  auto p = opened->store->GetProject(Cli(), f.project);
  if (!p.ok()) return Fail(p.status());
  auto r = opened->store->Export(
      Cli(), p->id, o,
      f.scope == "accepted" ? label::ExportScope::kAccepted : label::ExportScope::kReviewed);
  if (!r.ok()) return Fail(r.status());
  std::string body;
  if (Status s = Env::Default()->ReadFileToString(r->path, &body); !s.ok()) return Fail(s);
  if (f.out.empty() || f.out == "-") {
    (void)std::fwrite(body.data(), 1, body.size(), stdout);
  } else if (Status s = Env::Default()->WriteFileAtomic(f.out, body); !s.ok()) {
    return Fail(s);
  }
  (void)std::fprintf(stderr,
                     "export %lld: %s of \"%s\", %d items, %d annotations, %lld bytes, sha256 %s\n",
                     static_cast<long long>(r->id), f.format.c_str(), p->name.c_str(), r->items,
                     r->annotations, static_cast<long long>(r->bytes), r->sha256.c_str());
  if (r->items == 0) {
    (void)std::fprintf(stderr,
                       "note: nothing accepted to export yet (the requester accepts batches; "
                       "--scope reviewed takes reviewer-accepted work before that)\n");
  }
  return 0;
}

}  // namespace

void AddLabelCommands(CLI::App& app, Globals& g, int* exit_code) {
  auto* label = app.add_subcommand(
      "label",
      "Human feedback for generative AI: QA pairs, rankings, image and video captions, with "
      "review and rework\n"
      "Examples:\n"
      "  sagebox label project create qa --kind qa-pairs --config qa.json\n"
      "  sagebox label import qa xquad.en.json --from squad\n"
      "  sagebox label members add qa alice annotator --rate 18.50\n"
      "  sagebox label status qa\n"
      "  sagebox label export prefs --format preference --pairs all-pairs -o dpo.jsonl\n"
      "Annotators and reviewers work in the web UI (`sagebox serve`, tab Label) or through "
      "/api/label/ (docs/label.md).");
  label->require_subcommand(1);

  auto* project = label->add_subcommand("project", "Create and list projects");
  project->require_subcommand(1);
  auto* create = project->add_subcommand(
      "create",
      "Create a project (you become its manager)\n"
      "The config is JSON: kind, instructions, overlap, review_rate, max_rework_rounds,\n"
      "reservation_seconds, batch_size, hourly_rate, question_types, responses and\n"
      "requirements (docs/label.md lists every key).");
  auto cf = std::make_shared<std::array<std::string, 4>>();  // name, kind, config, format
  (*cf)[3] = "table";
  create->add_option("NAME", (*cf)[0], "Project name")->required();
  create->add_option("--kind", (*cf)[1], "qa-pairs, ranking, image-caption or video-caption");
  create->add_option("--config", (*cf)[2], "Project config (JSON file)");
  create->add_option("--format", (*cf)[3], "table or json");
  create->callback([&g, cf, exit_code] {
    *exit_code = CreateProject(g, (*cf)[0], (*cf)[1], (*cf)[2], (*cf)[3]);
  });
  auto list_format = std::make_shared<std::string>("table");
  auto* list = project->add_subcommand("list", "The projects with their progress");
  list->add_option("--format", *list_format, "table or json");
  list->callback([&g, list_format, exit_code] { *exit_code = Projects(g, *list_format); });

  auto im = std::make_shared<std::array<std::string, 3>>();  // project, manifest, from
  auto* imp = label->add_subcommand(
      "import",
      "Import a Ground Truth input manifest (JSON Lines) as new batches, all or nothing\n"
      "Lines have `source` (text) or `source-ref` (a local file, copied into the blob store);\n"
      "ranking lines have `prompt` and `responses`. --from oasst|squad converts the public\n"
      "datasets (OpenAssistant trees, SQuAD/XQuAD JSON) on the way in.");
  imp->add_option("PROJECT", (*im)[0], "Project name or id")->required();
  imp->add_option("MANIFEST", (*im)[1], "Manifest file")->required();
  imp->add_option("--from", (*im)[2], "manifest (default), oasst or squad");
  imp->callback([&g, im, exit_code] { *exit_code = Import(g, (*im)[0], (*im)[1], (*im)[2]); });

  auto cv = std::make_shared<std::array<std::string, 3>>();  // file, from, out
  auto* conv = label->add_subcommand(
      "convert", "Convert a public dataset into a Ground Truth input manifest (JSON Lines)");
  conv->add_option("FILE", (*cv)[0], "OpenAssistant *_tree.jsonl or SQuAD-shaped JSON")->required();
  conv->add_option("--from", (*cv)[1], "oasst or squad")->required();
  conv->add_option("-o,--output", (*cv)[2], "Output file (default stdout)");
  conv->callback([cv, exit_code] { *exit_code = Convert((*cv)[0], (*cv)[1], (*cv)[2]); });

  auto* members = label->add_subcommand("members", "Project members and their roles");
  members->require_subcommand(1);
  auto mm = std::make_shared<std::array<std::string, 4>>();  // project, user, role, rate
  auto* add = members->add_subcommand(
      "add", "Give USER a ROLE in PROJECT: manager, annotator, reviewer or requester");
  add->add_option("PROJECT", (*mm)[0], "Project name or id")->required();
  add->add_option("USER", (*mm)[1], "User name (sagebox users)")->required();
  add->add_option("ROLE", (*mm)[2], "manager, annotator, reviewer or requester")->required();
  add->add_option("--rate", (*mm)[3], "Hourly rate in USD for cost per label (e.g. 18.50)");
  add->callback(
      [&g, mm, exit_code] { *exit_code = AddMember(g, (*mm)[0], (*mm)[1], (*mm)[2], (*mm)[3]); });

  auto ml = std::make_shared<std::array<std::string, 2>>();
  (*ml)[1] = "table";
  auto* mlist =
      members->add_subcommand("list", "The members of PROJECT with their roles and rates");
  mlist->add_option("PROJECT", (*ml)[0], "Project name or id")->required();
  mlist->add_option("--format", (*ml)[1], "table or json");
  mlist->callback([&g, ml, exit_code] { *exit_code = Members(g, (*ml)[0], (*ml)[1]); });

  auto st = std::make_shared<std::array<std::string, 2>>();
  (*st)[1] = "table";
  auto* status = label->add_subcommand("status", "Items, assignments and batches of a project");
  status->add_option("PROJECT", (*st)[0], "Project name or id")->required();
  status->add_option("--format", (*st)[1], "table or json");
  status->callback([&g, st, exit_code] { *exit_code = Status_(g, (*st)[0], (*st)[1]); });

  auto mt = std::make_shared<std::array<std::string, 2>>();
  (*mt)[1] = "table";
  auto* metrics = label->add_subcommand(
      "metrics", "Acceptance, rework rounds, gold accuracy, active time, cost and agreement");
  metrics->add_option("PROJECT", (*mt)[0], "Project name or id")->required();
  metrics->add_option("--format", (*mt)[1], "table or json");
  metrics->callback([&g, mt, exit_code] { *exit_code = Metrics(g, (*mt)[0], (*mt)[1]); });

  auto ef = std::make_shared<ExportFlags>();
  auto* exp = label->add_subcommand(
      "export",
      "Export accepted work as training data (an immutable file, recorded with its sha256)\n"
      "Formats: gt-manifest, sft (qa-pairs), preference (ranking), coco-captions,\n"
      "activitynet. Examples:\n"
      "  sagebox label export prefs --format preference --pairs best-vs-rest -o dpo.jsonl\n"
      "  sagebox label export qa --format sft --style openai -o sft.jsonl");
  exp->add_option("PROJECT", ef->project, "Project name or id")->required();
  exp->add_option("--format", ef->format,
                  "gt-manifest, sft, preference, coco-captions, activitynet")
      ->required();
  exp->add_option("--pairs", ef->pairs, "preference: all-pairs (default), best-vs-rest, adjacent");
  exp->add_option("--style", ef->style,
                  "sft: messages (TRL, default), prompt-completion, openai; preference: trl "
                  "(default), openai");
  exp->add_option("--dimension", ef->dimension, "preference: only this ranking dimension");
  exp->add_flag("--closed-book", ef->closed_book, "sft: the question without the passage");
  exp->add_option("--scope", ef->scope,
                  "accepted (batches the requester accepted; default) or reviewed");
  exp->add_option("-o,--output", ef->out, "Output file (default stdout)");
  exp->callback([&g, ef, exit_code] { *exit_code = Export(g, *ef); });
}

}  // namespace sagebox::cli
