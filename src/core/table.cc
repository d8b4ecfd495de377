#include "core/table.h"

#include <algorithm>

namespace sagebox {

namespace {
// Display width of UTF-8 text (counts code points; good enough for tables).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string Cut(const std::string& s, size_t max) {
  if (max == 0 || Width(s) <= max) return s;
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (w + 1 >= max) break;
      ++w;
    }
    out.push_back(s[i]);
  }
  return out + "\u2026";
}
}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::vector<Align> align)
    : header_(std::move(header)), align_(std::move(align)) {
  align_.resize(header_.size(), Align::kLeft);
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render(size_t max_width) const {
  std::vector<size_t> w(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) w[c] = Width(Cut(header_[c], max_width));
  for (const auto& r : rows_) {
    for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], Width(Cut(r[c], max_width)));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string v = Cut(cells[c], max_width);
      size_t pad = w[c] - Width(v);
      if (c > 0) out += "  ";
      if (align_[c] == Align::kRight)
        out += std::string(pad, ' ') + v;
      else
        out += v + (c + 1 < cells.size() ? std::string(pad, ' ') : "");
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::string rule;
  for (size_t c = 0; c < w.size(); ++c) {
    if (c > 0) rule += "  ";
    rule += std::string(w[c], '-');
  }
  out += rule + "\n";
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

std::string TextTable::RenderCsv() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out += ',';
      out += CsvField(cells[c]);
    }
    out += '\n';
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string GroupThousands(const std::string& s) {
  size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  std::string ip = s.substr(start, int_end - start);
  std::string grouped;
  for (size_t i = 0; i < ip.size(); ++i) {
    if (i > 0 && (ip.size() - i) % 3 == 0) grouped += ',';
    grouped += ip[i];
  }
  return s.substr(0, start) + grouped + s.substr(int_end);
}

}  // namespace sagebox
