#include "setd/proto/reply_reader.hpp"

#include <charconv>

namespace setd::proto {

namespace {

struct Reader {
  std::string_view buf;
  size_t pos = 0;
  bool incomplete = false;

  std::optional<std::string_view> line() {
    const size_t end = buf.find("\r\n", pos);
    if (end == std::string_view::npos) {
      incomplete = true;
      return std::nullopt;
    }
    auto l = buf.substr(pos, end - pos);
    pos = end + 2;
    return l;
  }

  static RespValue error(std::string msg) {
    RespValue v;
    v.kind = RespValue::Kind::kError;
    v.str = "protocol: " + std::move(msg);
    return v;
  }

  std::optional<RespValue> value() {
    if (pos >= buf.size()) {
      incomplete = true;
      return std::nullopt;
    }
    const char type = buf[pos++];
    auto l = line();
    if (!l) return std::nullopt;
    RespValue v;
    long long n = 0;
    auto number = [&](std::string_view s) {
      auto r = std::from_chars(s.data(), s.data() + s.size(), n);
      return r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    switch (type) {
      case '+':
        v.kind = RespValue::Kind::kSimple;
        v.str = std::string(*l);
        return v;
      case '-':
        v.kind = RespValue::Kind::kError;
        v.str = std::string(*l);
        return v;
      case ':':
        if (!number(*l)) return error("bad integer");
        v.kind = RespValue::Kind::kInteger;
        v.integer = n;
        return v;
      case '_':
        v.kind = RespValue::Kind::kNull;
        return v;
      case ',':
        v.kind = RespValue::Kind::kDouble;
        v.str = std::string(*l);
        return v;
      case '(':
        v.kind = RespValue::Kind::kBigNumber;
        v.str = std::string(*l);
        return v;
      case '#':
        v.kind = RespValue::Kind::kBoolean;
        v.integer = (*l == "t");
        return v;
      case '$':
      case '=':
      case '!': {
        if (!number(*l)) return error("bad bulk length");
        if (n < 0) return v;  // null
        if (buf.size() - pos < static_cast<size_t>(n) + 2) {
          incomplete = true;
          return std::nullopt;
        }
        v.str = std::string(buf.substr(pos, static_cast<size_t>(n)));
        pos += static_cast<size_t>(n) + 2;
        v.kind = type == '$'   ? RespValue::Kind::kBulk
                 : type == '=' ? RespValue::Kind::kVerbatim
                               : RespValue::Kind::kError;
        if (type == '=' && v.str.size() >= 4) v.str.erase(0, 4);
        return v;
      }
      case '*':
      case '%':
      case '~':
      case '>': {
        if (!number(*l)) return error("bad aggregate length");
        if (n < 0) return v;  // null array
        v.kind = type == '*'   ? RespValue::Kind::kArray
                 : type == '%' ? RespValue::Kind::kMap
                 : type == '~' ? RespValue::Kind::kSet
                               : RespValue::Kind::kPush;
        const long long count = type == '%' ? 2 * n : n;
        v.elements.reserve(static_cast<size_t>(std::min<long long>(count, 1 << 16)));
        for (long long i = 0; i < count; ++i) {
          auto e = value();
          if (!e) return std::nullopt;
          v.elements.push_back(std::move(*e));
        }
        return v;
      }
      default:
        return error(std::string("unknown type byte '") + type + "'");
    }
  }
};

void render(const RespValue& v, std::string& out) {
  using K = RespValue::Kind;
  switch (v.kind) {
    case K::kSimple:
      out += v.str;
      break;
    case K::kError:
      out += "(error) " + v.str;
      break;
    case K::kInteger:
      out += "(integer) " + std::to_string(v.integer);
      break;
    case K::kBulk:
    case K::kVerbatim:
      out += "\"" + v.str + "\"";
      break;
    case K::kNull:
      out += "(nil)";
      break;
    case K::kDouble:
      out += "(double) " + v.str;
      break;
    case K::kBigNumber:
      out += "(big) " + v.str;
      break;
    case K::kBoolean:
      out += v.integer ? "(true)" : "(false)";
      break;
    case K::kArray:
    case K::kMap:
    case K::kSet:
    case K::kPush: {
      out += v.kind == K::kMap ? "{" : v.kind == K::kSet ? "~[" : v.kind == K::kPush ? ">[" : "[";
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (i) out += v.kind == K::kMap && i % 2 ? ": " : ", ";
        render(v.elements[i], out);
      }
      out += v.kind == K::kMap ? "}" : "]";
      break;
    }
  }
}

}  // namespace

std::string RespValue::to_string() const {
  std::string out;
  render(*this, out);
  return out;
}

std::optional<RespValue> read_reply(std::string_view buf, size_t& consumed) {
  Reader r{buf};
  auto v = r.value();
  if (!v) return std::nullopt;
  consumed = r.pos;
  return v;
}

}  // namespace setd::proto
