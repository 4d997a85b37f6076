// The little HTTP/1.x the metrics endpoint speaks (net/metrics_http.hpp):
// it reads one request head, answers it and closes the connection. This
// part is pure (no sockets): what to answer to the bytes received so far.
//
// Accepted: "GET|HEAD <target> HTTP/1.0|1.1" followed by header lines
// ("name: value") and an empty line (CRLF or bare LF line ends). The head
// is bounded (kMaxHead bytes: 431 beyond); a request line that cannot be
// HTTP is refused as soon as it is seen (400), without waiting for more.
// Routing: /metrics (the query string ignored) answers 200 to GET and
// HEAD, 405 to other methods; every other path 404; HTTP/2+ 505.
//
// Dependency rule (module net): standard library only here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace setd::net::http {

inline constexpr size_t kMaxHead = 8192;

struct Verdict {
  // 0 = the head is not complete yet: read more.
  int status = 0;
  bool head_only = false;  // HEAD: headers without the body
  std::string_view reason() const {
    switch (status) {
      case 200:
        return "OK";
      case 400:
        return "Bad Request";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 408:
        return "Request Timeout";
      case 431:
        return "Request Header Fields Too Large";
      case 503:
        return "Service Unavailable";
      case 505:
        return "HTTP Version Not Supported";
      default:
        return "Error";
    }
  }
};

namespace detail {

// RFC 9110's tchar: what a method (and a header name) is made of.
inline bool tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
// A visible character (a target's, a header value's) or a space / tab.
inline bool vchar(char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; }

// Checks the request line (without its line end): 0 if fine, else a status.
inline int check_request_line(std::string_view line, std::string_view* method,
                              std::string_view* target) {
  const size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return 400;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return 400;
  *method = line.substr(0, sp1);
  *target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (const char c : *method)
    if (!tchar(c)) return 400;
  for (const char c : *target)
    if (!vchar(c)) return 400;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return 400;
  if (version[5] != '1') return 505;
  return 0;
}

// The path of an origin-form ("/metrics?x") or absolute-form
// ("http://host:9121/metrics") target, without the query or fragment.
inline std::string_view target_path(std::string_view target) {
  const size_t scheme = target.find("://");
  if (scheme != std::string_view::npos && target[0] != '/') {
    const size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const size_t end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

}  // namespace detail

// What to answer to `received` (the bytes of the connection so far), for a
// server whose only resource is `path`.
inline Verdict judge(std::string_view received, std::string_view path = "/metrics") {
  Verdict v;
  // The first character must start a method: TLS handshakes, RESP and
  // other binary garbage are refused at once.
  if (!received.empty() && !detail::tchar(received[0])) return {400};
  const size_t eol = received.find('\n');
  if (eol == std::string_view::npos) {
    // Not even a request line yet: a method is short and has no spaces or
    // control characters; anything else cannot become a request.
    for (const char c : received)
      if (c != ' ' && c != '\r' && !detail::vchar(c)) return {400};
    if (received.size() > kMaxHead) return {431};
    return v;
  }
  std::string_view line = received.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view method, target;
  if (const int bad = detail::check_request_line(line, &method, &target)) return {bad};
  // The headers: up to the first empty line.
  size_t pos = eol + 1;
  for (;;) {
    const size_t next = received.find('\n', pos);
    if (next == std::string_view::npos) {
      if (received.size() > kMaxHead) return {431};
      return v;
    }
    if (next + 1 > kMaxHead) return {431};
    std::string_view h = received.substr(pos, next - pos);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    pos = next + 1;
    if (h.empty()) break;
    const size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos) return {400};
    for (size_t i = 0; i < colon; ++i)
      if (!detail::tchar(h[i])) return {400};
    for (size_t i = colon + 1; i < h.size(); ++i)
      if (!detail::vchar(h[i]) && h[i] != ' ' && h[i] != '\t') return {400};
  }
  if (detail::target_path(target) != path) return {404};
  if (method != "GET" && method != "HEAD") return {405};
  v.status = 200;
  v.head_only = method == "HEAD";
  return v;
}

// The response: status line, headers (Connection: close) and, unless
// `head_only`, the body.
inline std::string response(int status, std::string_view reason, std::string_view content_type,
                            std::string_view body, bool head_only) {
  std::string out;
  out.reserve(160 + (head_only ? 0 : body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  if (status == 405) out += "\r\nAllow: GET, HEAD";
  out += "\r\nConnection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace setd::net::http
