// strings.h: the few ASCII string helpers every layer needs, in one place.
//
// AWS names (usage types, metric names, file suffixes) are ASCII, so these
// fold case byte by byte and never consult the locale.
//
// Thread-safety: pure functions and a stateless functor.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sagebox {

inline char AsciiLowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline std::string AsciiLower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = AsciiLowerChar(c);
  return r;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLowerChar(a[i]) != AsciiLowerChar(b[i])) return false;
  }
  return true;
}

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Hash for unordered containers keyed by std::string that are looked up by
// std::string_view without building a string (use with std::equal_to<>).
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace sagebox
