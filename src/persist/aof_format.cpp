#include "setd/persist/aof_format.hpp"

#include <cstring>

#include "setd/base/strconv.hpp"

namespace setd::persist {

namespace {

constexpr size_t kManifestMaxLine = 1024;
constexpr size_t kAnnotationMaxLine = 1024;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// sdssplitargs: words separated by spaces, "double quoted" with \n \r \t \b
// \a \\ \" \xHH escapes, or 'single quoted' (only \' escaped). nullopt on
// unbalanced quotes or a quote not followed by a space.
std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) return out;
    std::string cur;
    bool inq = false, insq = false, done = false;
    while (!done) {
      if (inq) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            hex_digit(line[i + 2]) >= 0 && hex_digit(line[i + 3]) >= 0) {
          cur += static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3]));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          char c = line[i];
          switch (c) {
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'b':
              c = '\b';
              break;
            case 'a':
              c = '\a';
              break;
            default:
              break;
          }
          cur += c;
        } else if (line[i] == '"') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          cur += line[i];
        }
      } else if (insq) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          cur += '\'';
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          cur += line[i];
        }
      } else {
        if (i >= line.size() || is_space(line[i])) {
          done = true;
          continue;  // do not advance past the end
        }
        if (line[i] == '"')
          inq = true;
        else if (line[i] == '\'')
          insq = true;
        else
          cur += line[i];
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(cur));
  }
}

// sdsneedsrepr / sdscatrepr, for file names.
bool needs_repr(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\\' || c == '"' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' ||
        !std::isprint(c) || std::isspace(c))
      return true;
  return false;
}

std::string repr(std::string_view s) {
  std::string out;
  base::append_repr(out, s);
  return out;
}

bool is_base_name(std::string_view s) {
  return s.find('/') == std::string_view::npos && s.find('\\') == std::string_view::npos;
}

}  // namespace

std::string parse_aof_manifest(std::string_view text, AofManifest& out, int* line_no) {
  out = AofManifest{};
  long long maxseq = 0;
  int n = 0;
  size_t pos = 0;
  const auto set_line = [&] {
    if (line_no) *line_no = n;
  };
  if (text.empty()) {
    set_line();
    return "Found an empty AOF manifest";
  }
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    ++n;
    set_line();
    const std::string_view raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (raw.size() + 1 > kManifestMaxLine) return "The AOF manifest file contains too long line";
    if (!raw.empty() && raw[0] == '#') {
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      continue;
    }
    if (nl == std::string_view::npos) return "The AOF manifest file contains too long line";
    pos = nl + 1;
    size_t b = 0, e = raw.size();
    while (b < e && is_space(raw[b])) ++b;
    while (e > b && is_space(raw[e - 1])) --e;
    const std::string_view trimmed = raw.substr(b, e - b);
    if (trimmed.empty()) return "Invalid AOF manifest file format";
    auto words = split_args(trimmed);
    if (!words || words->size() < 6 || words->size() % 2 != 0)
      return "Invalid AOF manifest file format";
    AofFileInfo fi;
    for (size_t i = 0; i < words->size(); i += 2) {
      const std::string& k = (*words)[i];
      const std::string& v = (*words)[i + 1];
      if (strcasecmp(k.c_str(), "file") == 0) {
        fi.name = v;
        if (!is_base_name(fi.name)) return "File can't be a path, just a filename";
      } else if (strcasecmp(k.c_str(), "seq") == 0) {
        fi.seq = std::atoll(v.c_str());
      } else if (strcasecmp(k.c_str(), "type") == 0) {
        fi.type = v.empty() ? 0 : v[0];
      }
    }
    if (fi.name.empty() || fi.seq == 0 || fi.type == 0) return "Invalid AOF manifest file format";
    if (fi.type == 'b') {
      if (out.base) return "Found duplicate base file information";
      out.base_seq = fi.seq;
      out.base = std::move(fi);
    } else if (fi.type == 'h') {
      out.history.push_back(std::move(fi));
    } else if (fi.type == 'i') {
      if (fi.seq <= maxseq) return "Found a non-monotonic sequence number";
      maxseq = fi.seq;
      out.incr_seq = fi.seq;
      out.incrs.push_back(std::move(fi));
    } else {
      return "Unknown AOF file type";
    }
  }
  return "";
}

std::string format_aof_manifest(const AofManifest& m) {
  std::string out;
  const auto line = [&](const AofFileInfo& f) {
    out += "file ";
    out += needs_repr(f.name) ? repr(f.name) : f.name;
    out += " seq " + std::to_string(f.seq) + " type ";
    out += f.type;
    out += '\n';
  };
  if (m.base) line(*m.base);
  for (const auto& f : m.history) line(f);
  for (const auto& f : m.incrs) line(f);
  return out;
}

void append_command(std::string& out, const std::vector<std::string>& args) {
  append_command_range(out, args);
}

bool AofCommandReader::read_line(std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  for (;;) {
    char c;
    if (src_.read(&c, 1) != 1) return false;
    if (c == '\n') break;
    if (line.size() >= kAnnotationMaxLine) {
      too_long = true;
      return true;
    }
    line += c;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool AofCommandReader::read_exact(std::string& out, size_t n) {
  out.clear();
  // Grow with what arrives, 1 MB at a time, not with the announced length.
  while (out.size() < n) {
    const size_t want = std::min<size_t>(n - out.size(), 1 << 20);
    const size_t at = out.size();
    out.resize(at + want);
    const size_t got = src_.read(out.data() + at, want);
    if (got < want) {
      out.resize(at + got);
      return false;
    }
  }
  return true;
}

AofCommandReader::Status AofCommandReader::next(std::vector<std::string>& args) {
  std::string line;
  bool too_long = false;
  for (;;) {
    if (!read_line(line, too_long)) {
      if (!src_.error().empty()) return Status::kIoError;
      // A clean end only at a command boundary with nothing read.
      return line.empty() ? Status::kEnd : Status::kTruncated;
    }
    if (too_long) return Status::kBadFormat;
    if (!line.empty() && line[0] == '#') continue;  // annotation
    break;
  }
  if (line.empty() || line[0] != '*') return Status::kBadFormat;
  const long argc = std::atol(line.c_str() + 1);
  if (argc < 1) return Status::kBadFormat;
  args.clear();
  args.reserve(static_cast<size_t>(std::min<long>(argc, 1024)));
  for (long j = 0; j < argc; ++j) {
    if (!read_line(line, too_long))
      return src_.error().empty() ? Status::kTruncated : Status::kIoError;
    if (too_long || line.empty() || line[0] != '$') return Status::kBadFormat;
    const long len = std::strtol(line.c_str() + 1, nullptr, 10);
    if (len < 0) return Status::kBadFormat;
    std::string arg;
    if (!read_exact(arg, static_cast<size_t>(len)))
      return src_.error().empty() ? Status::kTruncated : Status::kIoError;
    char crlf[2];
    if (src_.read(crlf, 2) != 2)
      return src_.error().empty() ? Status::kTruncated : Status::kIoError;
    args.push_back(std::move(arg));
  }
  valid_up_to_ = src_.offset();
  return Status::kCommand;
}

}  // namespace setd::persist
