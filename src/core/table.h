// table.h: aligned text tables for people, and CSV for machines.
//
// Every command that prints rows uses these two, so all output looks alike:
// a header, a rule, columns padded to their widest cell, numbers right
// aligned. CSV quoting follows RFC 4180.
//
// Thread-safety: a value type.
#pragma once

#include <string>
#include <vector>

namespace sagebox {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  explicit TextTable(std::vector<std::string> header, std::vector<Align> align = {});
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Aligned text ending in a newline. Cells longer than `max_width` are cut
  // with "…" (0 = no limit).
  std::string Render(size_t max_width = 0) const;
  std::string RenderCsv() const;

 private:
  std::vector<std::string> header_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// Quotes a CSV field if it needs it.
std::string CsvField(const std::string& s);
// Formats a decimal string with thousands separators: "12345.6789" -> "12,345.6789".
std::string GroupThousands(const std::string& s);

}  // namespace sagebox
