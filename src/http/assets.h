// assets.h: the dashboard's static files, built into the binary.
//
// The front end (web/) is bundled by esbuild at build time into three files
// (index.html, app.js, app.css), which the build embeds with .incbin, so the
// server never reads static files from disk: no path a client sends can
// reach the file system, and the binary runs anywhere on its own. A build
// without npm (SAGEBOX_WEB_UI=OFF) embeds a page that says how to get the
// dashboard instead.
//
// Thread-safety: immutable data.
#pragma once

#include <string_view>

namespace sagebox::http {

struct Asset {
  std::string_view path;          // URL path: "/", "/assets/app.js", "/assets/app.css"
  std::string_view content_type;  // with charset for text types
  std::string_view data;
};

// The asset served at `url_path` ("/index.html" is "/"), or nullptr.
const Asset* FindAsset(std::string_view url_path);
// True when the real dashboard was built in (not the fallback page).
bool DashboardBuilt();

}  // namespace sagebox::http
