#include "setd/base/split_args.hpp"

namespace setd::base {

namespace {

bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the line as a C string: '\0' at the end and from the first NUL on.
class Cursor {
 public:
  explicit Cursor(std::string_view line) : line_(line.substr(0, line.find('\0'))) {}
  char at(size_t offset = 0) const {
    return pos_ + offset < line_.size() ? line_[pos_ + offset] : '\0';
  }
  void advance(size_t n = 1) { pos_ += n; }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> args;
  Cursor p(line);
  for (;;) {
    while (p.at() != '\0' && is_c_space(p.at())) p.advance();
    if (p.at() == '\0') return args;

    std::string current;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      const char c = p.at();
      if (in_double) {
        if (c == '\\' && p.at(1) == 'x' && hex_value(p.at(2)) >= 0 && hex_value(p.at(3)) >= 0) {
          current.push_back(static_cast<char>(hex_value(p.at(2)) * 16 + hex_value(p.at(3))));
          p.advance(3);
        } else if (c == '\\' && p.at(1) != '\0') {
          p.advance();
          switch (p.at()) {
            case 'n':
              current.push_back('\n');
              break;
            case 'r':
              current.push_back('\r');
              break;
            case 't':
              current.push_back('\t');
              break;
            case 'b':
              current.push_back('\b');
              break;
            case 'a':
              current.push_back('\a');
              break;
            default:
              current.push_back(p.at());
              break;
          }
        } else if (c == '"') {
          // The closing quote must be followed by a space or nothing at all.
          if (p.at(1) != '\0' && !is_c_space(p.at(1))) return std::nullopt;
          done = true;
        } else if (c == '\0') {
          return std::nullopt;  // unterminated quotes
        } else {
          current.push_back(c);
        }
      } else if (in_single) {
        if (c == '\\' && p.at(1) == '\'') {
          p.advance();
          current.push_back('\'');
        } else if (c == '\'') {
          if (p.at(1) != '\0' && !is_c_space(p.at(1))) return std::nullopt;
          done = true;
        } else if (c == '\0') {
          return std::nullopt;  // unterminated quotes
        } else {
          current.push_back(c);
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            current.push_back(c);
            break;
        }
      }
      if (p.at() != '\0') p.advance();
    }
    args.push_back(std::move(current));
  }
}

}  // namespace setd::base
