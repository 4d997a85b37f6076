#include "setd/server/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "setd/acl/users.hpp"
#include "setd/base/glob.hpp"
#include "setd/base/split_args.hpp"
#include "setd/base/strconv.hpp"
#include "setd/server/process.hpp"

namespace setd::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out.push_back(' ');
    out += p;
  }
  return out;
}

// Quotes a value for a config file line when it needs it.
std::string quote_if_needed(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \t\"'\\") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string int_range_error(long long lo, long long hi) {
  return "argument must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
         " inclusive";
}

// Builders for the common directive kinds.
template <class T>
std::function<std::string(Settings&, std::string_view)> int_parser(T Settings::*field, long long lo,
                                                                   long long hi) {
  return [field, lo, hi](Settings& s, std::string_view v) -> std::string {
    long long n = 0;
    if (!base::string_to_ll(v, n)) return "argument couldn't be parsed into an integer";
    if (n < lo || n > hi) return int_range_error(lo, hi);
    s.*field = static_cast<T>(n);
    return "";
  };
}
template <class T>
std::function<std::string(const Settings&)> int_formatter(T Settings::*field) {
  return [field](const Settings& s) { return std::to_string(s.*field); };
}

std::function<std::string(Settings&, std::string_view)> memory_parser(long long Settings::*field,
                                                                      long long lo) {
  return [field, lo](Settings& s, std::string_view v) -> std::string {
    auto n = parse_memory(v);
    if (!n) return "argument must be a memory value";
    if (*n < lo) return int_range_error(lo, LLONG_MAX);
    s.*field = *n;
    return "";
  };
}

std::function<std::string(Settings&, std::string_view)> bool_parser(bool Settings::*field) {
  return [field](Settings& s, std::string_view v) -> std::string {
    const std::string l = lower(v);
    if (l == "yes")
      s.*field = true;
    else if (l == "no")
      s.*field = false;
    else
      return "argument must be 'yes' or 'no'";
    return "";
  };
}

std::function<std::string(Settings&, std::string_view)> string_parser(
    std::string Settings::*field) {
  return [field](Settings& s, std::string_view v) -> std::string {
    s.*field = std::string(v);
    return "";
  };
}

// strtoll(text, &end, 10) with end at the string's end, as Redis checks save
// fields: leading whitespace and a sign are allowed, "" reads as 0 and values
// beyond 64 bits saturate.
std::optional<long long> c_strtoll(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  bool neg = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
  const size_t digits_at = i;
  unsigned long long mag = 0;
  bool overflow = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const unsigned d = static_cast<unsigned>(text[i] - '0');
    if (mag > (ULLONG_MAX - d) / 10)
      overflow = true;
    else
      mag = mag * 10 + d;
  }
  if (i == digits_at) return text.empty() ? std::optional<long long>(0) : std::nullopt;
  if (i != text.size()) return std::nullopt;
  if (neg) {
    if (overflow || mag > static_cast<unsigned long long>(LLONG_MAX) + 1) return LLONG_MIN;
    return static_cast<long long>(0 - mag);
  }
  if (overflow || mag > static_cast<unsigned long long>(LLONG_MAX)) return LLONG_MAX;
  return static_cast<long long>(mag);
}

// save: Redis 7.0's setConfigSaveOption. The value is split on single
// spaces; "" means no save points; otherwise seconds (>= 1) and changes
// (>= 0) pairs. Stored as CONFIG GET prints it: "%jd %d" per pair, so changes
// are truncated to an int as Redis does.
std::string parse_save(Settings& s, std::string_view v) {
  std::vector<std::string> fields;
  if (!v.empty()) {
    size_t start = 0;
    for (;;) {
      const size_t sp = v.find(' ', start);
      fields.emplace_back(v.substr(start, sp == std::string_view::npos ? sp : sp - start));
      if (sp == std::string_view::npos) break;
      start = sp + 1;
    }
  }
  if (fields.size() == 1 && fields[0].empty()) fields.clear();
  if (fields.size() % 2 != 0) return "Invalid save parameters";
  std::vector<long long> nums;
  for (size_t j = 0; j < fields.size(); ++j) {
    auto n = c_strtoll(fields[j]);
    if (!n || (j % 2 == 0 && *n < 1) || (j % 2 == 1 && *n < 0)) return "Invalid save parameters";
    nums.push_back(*n);
  }
  std::string out;
  for (size_t j = 0; j < nums.size(); j += 2) {
    if (j) out += ' ';
    out += std::to_string(nums[j]) + ' ' +
           std::to_string(static_cast<int32_t>(static_cast<uint32_t>(nums[j + 1])));
  }
  s.save = out;
  return "";
}

const char* const kClassNames[] = {"normal", "slave", "pubsub"};

// latency-tracking-info-percentiles: Redis 7.0's
// setConfigLatencyTrackingInfoPercentilesOutputOption. The value is split on
// single spaces ("" means none); each part must read whole as a double
// (strtod: hex and "inf" too, no leading space, no NaN, no overflow) within
// [0, 100].
std::string parse_percentiles(Settings& s, std::string_view v) {
  std::vector<double> out;
  size_t start = 0;
  while (!v.empty()) {
    const size_t sp = v.find(' ', start);
    const std::string part(v.substr(start, sp == std::string_view::npos ? sp : sp - start));
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(part.c_str(), &end);
    if (part.empty() || std::isspace(static_cast<unsigned char>(part[0])) ||
        static_cast<size_t>(end - part.c_str()) != part.size() ||
        (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL || d == 0.0)) || std::isnan(d))
      return "Invalid latency-tracking-info-percentiles parameters";
    if (d > 100.0 || d < 0.0)
      return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
    out.push_back(d);
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  s.latency_tracking_info_percentiles = std::move(out);
  return "";
}

// An enum directive's parser and formatter from (name, value) pairs, as
// Redis's createEnumConfig: names case-insensitive; a value with several
// names prints as the first.
std::function<std::string(Settings&, std::string_view)> enum_parser(
    int Settings::*field, std::vector<std::pair<std::string, int>> names) {
  return [field, names](Settings& s, std::string_view v) -> std::string {
    const std::string l = lower(v);
    for (const auto& [n, val] : names)
      if (n == l) {
        s.*field = val;
        return "";
      }
    std::string err = "argument(s) must be one of the following: ";
    for (size_t i = 0; i < names.size(); ++i) err += (i ? ", " : "") + names[i].first;
    return err;
  };
}
std::function<std::string(const Settings&)> enum_formatter(
    int Settings::*field, std::vector<std::pair<std::string, int>> names) {
  return [field, names](const Settings& s) -> std::string {
    for (const auto& [n, val] : names)
      if (val == s.*field) return n;
    return "";
  };
}

// A directive of several enum words at once, as Redis's multi-argument enum
// configs: the value is the OR of the words' values (names as
// enum_parser's); a name whose value is 0 adds nothing and is what prints
// when no other bit is set. `check` may refuse a combination.
std::function<std::string(Settings&, std::string_view)> flags_parser(
    int Settings::*field, std::vector<std::pair<std::string, int>> names,
    std::string (*check)(int flags)) {
  return [field, names, check](Settings& s, std::string_view v) -> std::string {
    const auto words = base::split_args(v);
    int flags = 0;
    bool bad = !words || words->empty();
    for (size_t i = 0; !bad && i < words->size(); ++i) {
      const std::string w = lower((*words)[i]);
      const auto it = std::find_if(names.begin(), names.end(),
                                   [&](const auto& name) { return name.first == w; });
      bad = it == names.end();
      if (!bad) flags |= it->second;
    }
    if (bad) {
      std::string err = "argument(s) must be one of the following: ";
      for (size_t i = 0; i < names.size(); ++i) err += (i ? ", " : "") + names[i].first;
      return err;
    }
    if (std::string err = check(flags); !err.empty()) return err;
    s.*field = flags;
    return "";
  };
}
std::function<std::string(const Settings&)> flags_formatter(
    int Settings::*field, std::vector<std::pair<std::string, int>> names) {
  return [field, names](const Settings& s) -> std::string {
    std::string out;
    for (const auto& [n, val] : names)
      if (val != 0 && (s.*field & val) == val) out += (out.empty() ? "" : " ") + n;
    if (!out.empty()) return out;
    for (const auto& [n, val] : names)
      if (val == 0) return n;
    return "";
  };
}

}  // namespace

std::string format_percentile(double p) {
  char buf[512];
  int n = std::snprintf(buf, sizeof(buf), "%f", p);
  if (n < 0) return "";
  std::string out(buf, static_cast<size_t>(std::min(n, static_cast<int>(sizeof(buf)) - 1)));
  if (out.find('.') != std::string::npos) {
    while (!out.empty() && out.back() == '0') out.pop_back();
    if (!out.empty() && out.back() == '.') out.pop_back();
  }
  return out;
}

std::optional<long long> parse_memory(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) ||
                                  (digits == 0 && text[digits] == '-')))
    ++digits;
  long long base_value = 0;
  if (!base::string_to_ll(text.substr(0, digits), base_value)) return std::nullopt;
  const std::string unit = lower(text.substr(digits));
  long long mul = 1;
  if (unit.empty() || unit == "b")
    mul = 1;
  else if (unit == "k")
    mul = 1000;
  else if (unit == "kb")
    mul = 1024;
  else if (unit == "m")
    mul = 1000 * 1000;
  else if (unit == "mb")
    mul = 1024 * 1024;
  else if (unit == "g")
    mul = 1000LL * 1000 * 1000;
  else if (unit == "gb")
    mul = 1024LL * 1024 * 1024;
  else
    return std::nullopt;
  if (base_value < 0) return std::nullopt;
  if (base_value > LLONG_MAX / mul) return std::nullopt;
  return base_value * mul;
}

std::optional<int> parse_notify_flags(std::string_view text) {
  int flags = 0;
  for (char c : text) {
    switch (c) {
      case 'A':
        flags |= notify::kAll;
        break;
      case 'g':
        flags |= notify::kGeneric;
        break;
      case '$':
        flags |= notify::kString;
        break;
      case 'l':
        flags |= notify::kList;
        break;
      case 's':
        flags |= notify::kSet;
        break;
      case 'h':
        flags |= notify::kHash;
        break;
      case 'z':
        flags |= notify::kZset;
        break;
      case 'x':
        flags |= notify::kExpired;
        break;
      case 'e':
        flags |= notify::kEvicted;
        break;
      case 'K':
        flags |= notify::kKeyspace;
        break;
      case 'E':
        flags |= notify::kKeyevent;
        break;
      case 't':
        flags |= notify::kStream;
        break;
      case 'm':
        flags |= notify::kKeyMiss;
        break;
      case 'd':
        flags |= notify::kModule;
        break;
      case 'n':
        flags |= notify::kNew;
        break;
      default:
        return std::nullopt;
    }
  }
  return flags;
}

std::string notify_flags_to_string(int flags) {
  std::string out;
  if ((flags & notify::kAll) == notify::kAll) {
    out += 'A';
  } else {
    if (flags & notify::kGeneric) out += 'g';
    if (flags & notify::kString) out += '$';
    if (flags & notify::kList) out += 'l';
    if (flags & notify::kSet) out += 's';
    if (flags & notify::kHash) out += 'h';
    if (flags & notify::kZset) out += 'z';
    if (flags & notify::kExpired) out += 'x';
    if (flags & notify::kEvicted) out += 'e';
    if (flags & notify::kStream) out += 't';
    if (flags & notify::kModule) out += 'd';
    // Inside the else, as Redis 7.0 prints it: "An" reads back as "A" (the
    // flag itself stays set).
    if (flags & notify::kNew) out += 'n';
  }
  if (flags & notify::kKeyspace) out += 'K';
  if (flags & notify::kKeyevent) out += 'E';
  if (flags & notify::kKeyMiss) out += 'm';
  return out;
}

const char* policy_name(MaxmemoryPolicy p) noexcept {
  switch (p) {
    case MaxmemoryPolicy::kVolatileLru:
      return "volatile-lru";
    case MaxmemoryPolicy::kVolatileLfu:
      return "volatile-lfu";
    case MaxmemoryPolicy::kVolatileRandom:
      return "volatile-random";
    case MaxmemoryPolicy::kVolatileTtl:
      return "volatile-ttl";
    case MaxmemoryPolicy::kAllkeysLru:
      return "allkeys-lru";
    case MaxmemoryPolicy::kAllkeysLfu:
      return "allkeys-lfu";
    case MaxmemoryPolicy::kAllkeysRandom:
      return "allkeys-random";
    case MaxmemoryPolicy::kNoEviction:
      return "noeviction";
  }
  return "noeviction";
}

void Config::add(Directive d) {
  d.default_value = d.format(settings_);
  directives_.push_back(std::move(d));
}

template <class T>
void Config::add_int(const std::string& name, T Settings::*field, long long lo, long long hi,
                     std::vector<std::string> aliases) {
  add({name, std::move(aliases), false, false, false, int_parser(field, lo, hi),
       int_formatter(field), ""});
}

void Config::add_bool(const std::string& name, bool Settings::*field, bool immutable,
                      std::vector<std::string> aliases) {
  add({name, std::move(aliases), immutable, false, false, bool_parser(field),
       [field](const Settings& s) { return std::string(s.*field ? "yes" : "no"); }, ""});
}

void Config::add_string(const std::string& name, std::string Settings::*field, bool immutable,
                        bool is_protected, bool base_name_only) {
  add({name,
       {},
       immutable,
       false,
       is_protected,
       [field, name, base_name_only](Settings& s, std::string_view v) -> std::string {
         if (base_name_only && v.find('/') != std::string_view::npos)
           return name + " can't be a path, just a filename";
         s.*field = std::string(v);
         return "";
       },
       [field](const Settings& s) { return s.*field; },
       ""});
}

void Config::add_enable_mode(const std::string& name, EnableMode Settings::*field) {
  add({name,
       {},
       true,
       false,
       false,
       [field](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "no")
           s.*field = EnableMode::kNo;
         else if (l == "yes")
           s.*field = EnableMode::kYes;
         else if (l == "local")
           s.*field = EnableMode::kLocal;
         else
           return "argument(s) must be one of the following: no, yes, local";
         return "";
       },
       [field](const Settings& s) -> std::string {
         switch (s.*field) {
           case EnableMode::kNo:
             return "no";
           case EnableMode::kYes:
             return "yes";
           case EnableMode::kLocal:
             return "local";
         }
         return "no";
       },
       ""});
}

void Config::set_applier(const std::string& name, std::function<std::string(const Settings&)> fn) {
  appliers_[name] = std::move(fn);
}

Config::Config() {
  // bind and port may change at run time: the network layer moves the
  // listeners (its appliers), as Redis's changeBindAddr / changeListenPort.
  add({"bind",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         auto words = base::split_args(v);
         // Redis's CONFIG_BINDADDR_MAX; "" is no address at all.
         if (!words || words->size() > 16) return "Too many bind addresses specified.";
         s.bind = *words;
         return "";
       },
       [](const Settings& s) { return join(s.bind); },
       ""});
  add({"port",
       {},
       false,
       false,
       false,
       int_parser(&Settings::port, 0, 65535),
       int_formatter(&Settings::port),
       ""});
  add({"tcp-backlog",
       {},
       true,
       false,
       false,
       int_parser(&Settings::tcp_backlog, 0, INT_MAX),
       int_formatter(&Settings::tcp_backlog),
       ""});
  add({"timeout",
       {},
       false,
       false,
       false,
       int_parser(&Settings::timeout, 0, INT_MAX),
       int_formatter(&Settings::timeout),
       ""});
  add({"tcp-keepalive",
       {},
       false,
       false,
       false,
       int_parser(&Settings::tcp_keepalive, 0, INT_MAX),
       int_formatter(&Settings::tcp_keepalive),
       ""});
  add({"busy-reply-threshold",
       {"lua-time-limit"},
       false,
       false,
       false,
       int_parser(&Settings::busy_reply_threshold, 0, LONG_MAX),
       int_formatter(&Settings::busy_reply_threshold),
       ""});
  add({"script-memory-limit",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::script_memory_limit, 0),
       int_formatter(&Settings::script_memory_limit),
       ""});
  add({"busy-poll-us",
       {},
       false,
       false,
       false,
       int_parser(&Settings::busy_poll_us, 0, 1000000),
       int_formatter(&Settings::busy_poll_us),
       ""});
  // TLS. What the files hold is checked when the TLS context is built
  // (start-up, CONFIG SET: see net/tls.hpp), as in Redis.
  add({"tls-port",
       {},
       false,
       false,
       false,
       int_parser(&Settings::tls_port, 0, 65535),
       int_formatter(&Settings::tls_port),
       ""});
  // The metrics endpoint (setd's own; net/metrics_http.hpp binds it).
  add({"metrics-port",
       {},
       false,
       false,
       false,
       int_parser(&Settings::metrics_port, 0, 65535),
       int_formatter(&Settings::metrics_port),
       ""});
  add({"metrics-bind",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         auto words = base::split_args(v);
         if (!words || words->empty()) return "metrics-bind needs at least one address";
         if (words->size() > 16) return "Too many bind addresses specified.";
         s.metrics_bind = *words;
         return "";
       },
       [](const Settings& s) { return join(s.metrics_bind); },
       ""});
  add_string("tls-cert-file", &Settings::tls_cert_file, false);
  add_string("tls-key-file", &Settings::tls_key_file, false);
  add_string("tls-key-file-pass", &Settings::tls_key_file_pass, false);
  add_string("tls-ca-cert-file", &Settings::tls_ca_cert_file, false);
  add_string("tls-ca-cert-dir", &Settings::tls_ca_cert_dir, false);
  add_string("tls-dh-params-file", &Settings::tls_dh_params_file, false);
  add_string("tls-protocols", &Settings::tls_protocols, false);
  add_string("tls-ciphers", &Settings::tls_ciphers, false);
  add_string("tls-ciphersuites", &Settings::tls_ciphersuites, false);
  add({"tls-auth-clients",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "no")
           s.tls_auth_clients = TlsAuthClients::kNo;
         else if (l == "yes")
           s.tls_auth_clients = TlsAuthClients::kYes;
         else if (l == "optional")
           s.tls_auth_clients = TlsAuthClients::kOptional;
         else
           return "argument(s) must be one of the following: no, yes, optional";
         return "";
       },
       [](const Settings& s) -> std::string {
         switch (s.tls_auth_clients) {
           case TlsAuthClients::kNo:
             return "no";
           case TlsAuthClients::kYes:
             return "yes";
           case TlsAuthClients::kOptional:
             return "optional";
         }
         return "yes";
       },
       ""});
  add_bool("tls-prefer-server-ciphers", &Settings::tls_prefer_server_ciphers);
  add_bool("tls-session-caching", &Settings::tls_session_caching);
  add({"tls-session-cache-size",
       {},
       false,
       false,
       false,
       int_parser(&Settings::tls_session_cache_size, 0, INT_MAX),
       int_formatter(&Settings::tls_session_cache_size),
       ""});
  add({"tls-session-cache-timeout",
       {},
       false,
       false,
       false,
       int_parser(&Settings::tls_session_cache_timeout, 0, INT_MAX),
       int_formatter(&Settings::tls_session_cache_timeout),
       ""});
  add({"tls-handshake-timeout",
       {},
       false,
       false,
       false,
       int_parser(&Settings::tls_handshake_timeout, 0, INT_MAX),
       int_formatter(&Settings::tls_handshake_timeout),
       ""});
  add({"databases",
       {},
       true,
       false,
       false,
       int_parser(&Settings::databases, 1, INT_MAX),
       int_formatter(&Settings::databases),
       ""});
  add({"maxclients",
       {},
       false,
       false,
       false,
       int_parser(&Settings::maxclients, 1, 4294967295LL),
       int_formatter(&Settings::maxclients),
       ""});
  add({"loglevel",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l != "debug" && l != "verbose" && l != "notice" && l != "warning")
           return "argument(s) must be one of the following: debug, verbose, notice, warning";
         s.loglevel = l;
         return "";
       },
       [](const Settings& s) { return s.loglevel; },
       ""});
  add({"logfile",
       {},
       true,
       false,
       false,
       string_parser(&Settings::logfile),
       [](const Settings& s) { return s.logfile; },
       ""});
  add({"pidfile",
       {},
       true,
       false,
       false,
       string_parser(&Settings::pidfile),
       [](const Settings& s) { return s.pidfile; },
       ""});
  add({"hz",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         long long n = 0;
         if (!base::string_to_ll(v, n)) return "argument couldn't be parsed into an integer";
         if (n < 0 || n > INT_MAX) return int_range_error(0, INT_MAX);
         s.hz = std::clamp(n, 1LL, 500LL);  // Redis clamps hz to [1, 500]
         return "";
       },
       int_formatter(&Settings::hz),
       ""});
  // The process: its title, OOM score, huge pages, start-up.
  add_bool("set-proc-title", &Settings::set_proc_title, true);
  add({"proc-title-template",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         // Valid when it expands (known variables, balanced braces) to
         // something with an empty {title}, as Redis's
         // validateProcTitleTemplate.
         std::string out;
         if (!expand_proc_title(v, proc_title_vars(s, "", ""), out) || out.empty())
           return "template format is invalid or contains unknown variables";
         s.proc_title_template = std::string(v);
         return "";
       },
       [](const Settings& s) { return s.proc_title_template; },
       ""});
  {
    const std::vector<std::pair<std::string, int>> names = {
        {"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}};
    add({"oom-score-adj",
         {},
         false,
         false,
         false,
         enum_parser(&Settings::oom_score_adj, names),
         enum_formatter(&Settings::oom_score_adj, names),
         ""});
  }
  add({"oom-score-adj-values",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         // Redis's setConfigOOMScoreAdjValuesOption: three values split on
         // single spaces, each a whole strtoll within [-2000, 2000].
         std::vector<std::string> parts;
         size_t start = 0;
         for (;;) {
           const size_t sp = v.find(' ', start);
           parts.emplace_back(v.substr(start, sp == std::string_view::npos ? sp : sp - start));
           if (sp == std::string_view::npos) break;
           start = sp + 1;
         }
         if (parts.size() != 3) return "wrong number of arguments";
         std::vector<int> values;
         for (const auto& p : parts) {
           auto n = c_strtoll(p);
           if (!n || *n < -2000 || *n > 2000)
             return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
           values.push_back(static_cast<int>(*n));
         }
         s.oom_score_adj_values = values;
         return "";
       },
       [](const Settings& s) {
         std::string out;
         for (const int v : s.oom_score_adj_values) {
           if (!out.empty()) out += ' ';
           out += std::to_string(v);
         }
         return out;
       },
       ""});
  add_bool("disable-thp", &Settings::disable_thp, true);
  add_bool("daemonize", &Settings::daemonize, true);
  {
    const std::vector<std::pair<std::string, int>> names = {
        {"upstart", 1}, {"systemd", 2}, {"auto", 3}, {"no", 0}};
    add({"supervised",
         {},
         true,
         false,
         false,
         enum_parser(&Settings::supervised, names),
         enum_formatter(&Settings::supervised, names),
         ""});
  }
  add_bool("always-show-logo", &Settings::always_show_logo, true);
  // setd serves every client on its one thread: io-threads 1 only (as
  // Redis with io-threads 1, io-threads-do-reads then changes nothing).
  add({"io-threads",
       {},
       true,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         long long n = 0;
         if (!base::string_to_ll(v, n)) return "argument couldn't be parsed into an integer";
         if (n < 1 || n > 128) return int_range_error(1, 128);
         if (n != 1) return "setd serves all clients on one thread: io-threads must be 1";
         s.io_threads = n;
         return "";
       },
       int_formatter(&Settings::io_threads),
       ""});
  add_bool("io-threads-do-reads", &Settings::io_threads_do_reads, true);
  // setd loads no modules and has no MODULE command: enable-module-command
  // stays "no" (Redis's default, which refuses MODULE).
  add({"enable-module-command",
       {},
       true,
       false,
       false,
       [](Settings&, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "no") return "";
         if (l == "yes" || l == "local")
           return "setd has no modules (no MODULE command): enable-module-command must be no";
         return "argument(s) must be one of the following: no, yes, local";
       },
       [](const Settings&) { return std::string("no"); },
       ""});
  // SHUTDOWN's flags for each signal (Redis's shutdown-on-sig* enums).
  const std::vector<std::pair<std::string, int>> shutdown_words = {{"default", 0},
                                                                   {"save", kShutdownSave},
                                                                   {"nosave", kShutdownNosave},
                                                                   {"now", kShutdownNow},
                                                                   {"force", kShutdownForce}};
  const auto shutdown_check = [](int flags) -> std::string {
    if ((flags & kShutdownSave) && (flags & kShutdownNosave))
      return "shutdown options SAVE and NOSAVE can't be used simultaneously";
    return "";
  };
  for (const auto& [name, field] :
       {std::pair{"shutdown-on-sigint", &Settings::shutdown_on_sigint},
        std::pair{"shutdown-on-sigterm", &Settings::shutdown_on_sigterm}})
    add({name,
         {},
         false,
         false,
         false,
         flags_parser(field, shutdown_words, shutdown_check),
         flags_formatter(field, shutdown_words),
         "default"});
  add({"maxmemory",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::maxmemory, 0),
       int_formatter(&Settings::maxmemory),
       ""});
  add({"maxmemory-clients",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         // Bytes, or "N%" of maxmemory (stored negated), as Redis's
         // MEMORY_CONFIG | PERCENT_CONFIG.
         if (!v.empty() && v.back() == '%') {
           long long pct = 0;
           if (!base::string_to_ll(v.substr(0, v.size() - 1), pct) || pct < 0)
             return "argument must be a memory or percent value";
           if (pct > 100) return "percentage argument must be less or equal to 100";
           s.maxmemory_clients = -pct;
           return "";
         }
         auto n = parse_memory(v);
         if (!n || *n < 0) return "argument must be a memory or percent value";
         s.maxmemory_clients = *n;
         return "";
       },
       [](const Settings& s) {
         return s.maxmemory_clients < 0 ? std::to_string(-s.maxmemory_clients) + "%"
                                        : std::to_string(s.maxmemory_clients);
       },
       "0"});
  add({"maxmemory-policy",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         for (int i = 0; i <= static_cast<int>(MaxmemoryPolicy::kNoEviction); ++i) {
           const auto p = static_cast<MaxmemoryPolicy>(i);
           if (l == policy_name(p)) {
             s.maxmemory_policy = p;
             return "";
           }
         }
         return "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                "noeviction";
       },
       [](const Settings& s) { return std::string(policy_name(s.maxmemory_policy)); },
       ""});
  add_int("maxmemory-samples", &Settings::maxmemory_samples, 1, INT_MAX);
  add_int("maxmemory-eviction-tenacity", &Settings::maxmemory_eviction_tenacity, 0, 100);
  add_int("lfu-log-factor", &Settings::lfu_log_factor, 0, INT_MAX);
  add_int("lfu-decay-time", &Settings::lfu_decay_time, 0, INT_MAX);
  add_bool("replica-ignore-maxmemory", &Settings::replica_ignore_maxmemory, false,
           {"slave-ignore-maxmemory"});
  add_bool("lazyfree-lazy-user-del", &Settings::lazyfree_lazy_user_del);
  add_bool("lazyfree-lazy-user-flush", &Settings::lazyfree_lazy_user_flush);
  add_bool("lazyfree-lazy-eviction", &Settings::lazyfree_lazy_eviction);
  add_bool("lazyfree-lazy-expire", &Settings::lazyfree_lazy_expire);
  add_bool("lazyfree-lazy-server-del", &Settings::lazyfree_lazy_server_del);
  add_bool("replica-lazy-flush", &Settings::replica_lazy_flush, false, {"slave-lazy-flush"});
  add_bool("activerehashing", &Settings::activerehashing);
  add_int("active-expire-effort", &Settings::active_expire_effort, 1, 10);
  add({"proto-max-bulk-len",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::proto_max_bulk_len, 1024 * 1024),
       int_formatter(&Settings::proto_max_bulk_len),
       ""});
  add({"client-query-buffer-limit",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::client_query_buffer_limit, 1024 * 1024),
       int_formatter(&Settings::client_query_buffer_limit),
       ""});
  add({"set-max-intset-entries",
       {},
       false,
       false,
       false,
       int_parser(&Settings::set_max_intset_entries, 0, LLONG_MAX),
       int_formatter(&Settings::set_max_intset_entries),
       ""});
  add({"set-max-listpack-entries",
       {},
       false,
       false,
       false,
       int_parser(&Settings::set_max_listpack_entries, 0, LLONG_MAX),
       int_formatter(&Settings::set_max_listpack_entries),
       ""});
  add({"set-max-listpack-value",
       {},
       false,
       false,
       false,
       int_parser(&Settings::set_max_listpack_value, 0, LLONG_MAX),
       int_formatter(&Settings::set_max_listpack_value),
       ""});
  add({"set-events",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "all")
           s.set_events = SetEvents::kAll;
         else if (l == "writes")
           s.set_events = SetEvents::kWrites;
         else if (l == "none")
           s.set_events = SetEvents::kNone;
         else
           return "argument(s) must be one of the following: all, writes, none";
         return "";
       },
       [](const Settings& s) -> std::string {
         switch (s.set_events) {
           case SetEvents::kAll:
             return "all";
           case SetEvents::kWrites:
             return "writes";
           case SetEvents::kNone:
             return "none";
         }
         return "all";
       },
       ""});
  add({"notify-keyspace-events",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         auto flags = parse_notify_flags(v);
         if (!flags) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
         s.notify_keyspace_events = *flags;
         return "";
       },
       [](const Settings& s) { return notify_flags_to_string(s.notify_keyspace_events); },
       ""});
  add({"client-output-buffer-limit",
       {},
       false,
       true,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         auto words = base::split_args(v);
         if (!words || words->empty() || words->size() % 4 != 0)
           return "Wrong number of arguments in buffer limit configuration.";
         OutputLimit limits[3] = {s.output_limits[0], s.output_limits[1], s.output_limits[2]};
         for (size_t i = 0; i < words->size(); i += 4) {
           const std::string cls = lower((*words)[i]);
           int idx = -1;
           if (cls == "normal") idx = 0;
           if (cls == "slave" || cls == "replica") idx = 1;
           if (cls == "pubsub") idx = 2;
           // "master" is a client class too, but has no limit of its own.
           if (idx < 0) return "Invalid client class specified in buffer limit configuration.";
           auto hard = parse_memory((*words)[i + 1]);
           auto soft = parse_memory((*words)[i + 2]);
           long long secs = 0;
           if (!hard || !soft || !base::string_to_ll((*words)[i + 3], secs) || secs < 0)
             return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
           limits[idx] = {static_cast<unsigned long long>(*hard),
                          static_cast<unsigned long long>(*soft), secs};
         }
         std::copy(std::begin(limits), std::end(limits), std::begin(s.output_limits));
         return "";
       },
       [](const Settings& s) {
         std::string out;
         for (int i = 0; i < 3; ++i) {
           if (i) out += ' ';
           out += std::string(kClassNames[i]) + " " + std::to_string(s.output_limits[i].hard) +
                  " " + std::to_string(s.output_limits[i].soft) + " " +
                  std::to_string(s.output_limits[i].soft_seconds);
         }
         return out;
       },
       ""});
  add({"save", {}, false, true, false, parse_save, [](const Settings& s) { return s.save; }, ""});
  // dir: the working directory, as in Redis (chdir on set, getcwd on get).
  add({"dir",
       {},
       false,
       false,
       true,
       [](Settings&, std::string_view v) -> std::string {
         if (::chdir(std::string(v).c_str()) != 0) return std::strerror(errno);
         return "";
       },
       [](const Settings&) -> std::string {
         char buf[4096];
         return ::getcwd(buf, sizeof(buf)) ? std::string(buf) : std::string();
       },
       ""});
  add_string("dbfilename", &Settings::dbfilename, false, true, true);
  add_bool("rdbcompression", &Settings::rdbcompression);
  add_bool("rdbchecksum", &Settings::rdbchecksum);
  add_bool("stop-writes-on-bgsave-error", &Settings::stop_writes_on_bgsave_error);
  add_bool("rdb-save-incremental-fsync", &Settings::rdb_save_incremental_fsync);
  add({"rdb-key-save-delay",
       {},
       false,
       false,
       false,
       int_parser(&Settings::rdb_key_save_delay, INT_MIN, INT_MAX),
       int_formatter(&Settings::rdb_key_save_delay),
       "",
       true});
  add_bool("rdb-skip-unsupported-types", &Settings::rdb_skip_unsupported_types);
  add_bool("appendonly", &Settings::appendonly);
  add_string("appendfilename", &Settings::appendfilename, true, false, true);
  add_string("appenddirname", &Settings::appenddirname, true, false, true);
  add({"appendfsync",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "always")
           s.appendfsync = AppendFsync::kAlways;
         else if (l == "everysec")
           s.appendfsync = AppendFsync::kEverysec;
         else if (l == "no")
           s.appendfsync = AppendFsync::kNo;
         else
           return "argument(s) must be one of the following: always, everysec, no";
         return "";
       },
       [](const Settings& s) -> std::string {
         switch (s.appendfsync) {
           case AppendFsync::kAlways:
             return "always";
           case AppendFsync::kEverysec:
             return "everysec";
           case AppendFsync::kNo:
             return "no";
         }
         return "everysec";
       },
       ""});
  add_bool("no-appendfsync-on-rewrite", &Settings::no_appendfsync_on_rewrite);
  add({"auto-aof-rewrite-percentage",
       {},
       false,
       false,
       false,
       int_parser(&Settings::auto_aof_rewrite_percentage, 0, INT_MAX),
       int_formatter(&Settings::auto_aof_rewrite_percentage),
       ""});
  add({"auto-aof-rewrite-min-size",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::auto_aof_rewrite_min_size, 0),
       int_formatter(&Settings::auto_aof_rewrite_min_size),
       ""});
  add_bool("aof-load-truncated", &Settings::aof_load_truncated);
  add_bool("aof-use-rdb-preamble", &Settings::aof_use_rdb_preamble);
  add_bool("aof-rewrite-incremental-fsync", &Settings::aof_rewrite_incremental_fsync);
  add_enable_mode("enable-debug-command", &Settings::enable_debug_command);
  add_enable_mode("enable-protected-configs", &Settings::enable_protected_configs);
  add_bool("protected-mode", &Settings::protected_mode);
  add_string("requirepass", &Settings::requirepass, false);
  add_string("aclfile", &Settings::aclfile, true);
  add({"acllog-max-len",
       {},
       false,
       false,
       false,
       int_parser(&Settings::acllog_max_len, 0, LLONG_MAX),
       int_formatter(&Settings::acllog_max_len),
       ""});
  add({"acl-pubsub-default",
       {},
       false,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         const std::string l = lower(v);
         if (l == "allchannels")
           s.acl_pubsub_default_all = true;
         else if (l == "resetchannels")
           s.acl_pubsub_default_all = false;
         else
           return "argument(s) must be one of the following: allchannels, resetchannels";
         return "";
       },
       [](const Settings& s) -> std::string {
         return s.acl_pubsub_default_all ? "allchannels" : "resetchannels";
       },
       ""});
  // Instruments: SLOWLOG, LATENCY, INFO latencystats.
  add_int("slowlog-log-slower-than", &Settings::slowlog_log_slower_than, -1, LLONG_MAX);
  add_int("slowlog-max-len", &Settings::slowlog_max_len, 0, LONG_MAX);
  add_int("tracking-table-max-keys", &Settings::tracking_table_max_keys, 0, LONG_MAX);
  add_int("latency-monitor-threshold", &Settings::latency_monitor_threshold, 0, LLONG_MAX);
  add_bool("latency-tracking", &Settings::latency_tracking);
  add({"latency-tracking-info-percentiles",
       {},
       false,
       false,
       false,
       parse_percentiles,
       [](const Settings& s) {
         std::string out;
         for (const double p : s.latency_tracking_info_percentiles) {
           if (!out.empty()) out += ' ';
           out += format_percentile(p);
         }
         return out;
       },
       ""});
  // Replication.
  add({"replicaof",
       {"slaveof"},
       true,
       false,
       false,
       [](Settings& s, std::string_view v) -> std::string {
         if (v.empty()) {
           s.replicaof.clear();
           return "";
         }
         const size_t sp = v.find(' ');
         long long port = 0;
         if (sp == std::string_view::npos || v.find(' ', sp + 1) != std::string_view::npos ||
             sp == 0)
           return "wrong number of arguments";
         if (lower(v.substr(0, sp)) == "no" && lower(v.substr(sp + 1)) == "one") {
           s.replicaof.clear();
           return "";
         }
         if (!base::string_to_ll(v.substr(sp + 1), port) || port < 0 || port > 65535)
           return "Invalid master port";
         s.replicaof = std::string(v);
         return "";
       },
       [](const Settings& s) { return s.replicaof; },
       ""});
  add_string("masterauth", &Settings::masterauth, false);
  add_string("masteruser", &Settings::masteruser, false);
  add({"repl-backlog-size",
       {},
       false,
       false,
       false,
       memory_parser(&Settings::repl_backlog_size, 1),
       int_formatter(&Settings::repl_backlog_size),
       ""});
  add_int("repl-backlog-ttl", &Settings::repl_backlog_ttl, 0, LONG_MAX);
  add_bool("repl-diskless-sync", &Settings::repl_diskless_sync);
  add_int("repl-diskless-sync-delay", &Settings::repl_diskless_sync_delay, 0, INT_MAX);
  add_int("repl-diskless-sync-max-replicas", &Settings::repl_diskless_sync_max_replicas, 0,
          INT_MAX);
  // setd always receives an image to disk, then loads it (Redis's default).
  add({"repl-diskless-load",
       {},
       false,
       false,
       false,
       [](Settings&, std::string_view v) -> std::string {
         if (lower(v) != "disabled")
           return "argument(s) must be one of the following: disabled (setd loads a master's "
                  "image from disk only)";
         return "";
       },
       [](const Settings&) { return std::string("disabled"); },
       ""});
  add_int("repl-timeout", &Settings::repl_timeout, 1, INT_MAX);
  add_int("repl-ping-replica-period", &Settings::repl_ping_replica_period, 1, INT_MAX,
          {"repl-ping-slave-period"});
  add_bool("replica-read-only", &Settings::replica_read_only, false, {"slave-read-only"});
  add_bool("replica-serve-stale-data", &Settings::replica_serve_stale_data, false,
           {"slave-serve-stale-data"});
  add_int("replica-priority", &Settings::replica_priority, 0, INT_MAX, {"slave-priority"});
  add_bool("replica-announced", &Settings::replica_announced);
  add({"replica-announce-ip",
       {"slave-announce-ip"},
       false,
       false,
       false,
       string_parser(&Settings::replica_announce_ip),
       [](const Settings& s) { return s.replica_announce_ip; },
       ""});
  add_int("replica-announce-port", &Settings::replica_announce_port, 0, 65535,
          {"slave-announce-port"});
  add_int("min-replicas-to-write", &Settings::min_replicas_to_write, 0, INT_MAX,
          {"min-slaves-to-write"});
  add_int("min-replicas-max-lag", &Settings::min_replicas_max_lag, 0, INT_MAX,
          {"min-slaves-max-lag"});
}

const Config::Directive* Config::find(std::string_view name) const {
  const std::string l = lower(name);
  for (const auto& d : directives_) {
    if (d.name == l) return &d;
    for (const auto& a : d.aliases)
      if (a == l) return &d;
  }
  return nullptr;
}

std::vector<std::string> Config::names() const {
  std::vector<std::string> out;
  for (const auto& d : directives_) out.push_back(d.name);
  return out;
}

std::string Config::set(std::string_view name, std::string_view value, bool runtime) {
  const Directive* d = find(name);
  if (!d) return "unknown";
  if (runtime && d->immutable) return "can't set immutable config";
  return d->parse(settings_, value);
}

std::string Config::set_many(std::span<const std::string_view> pairs, bool allow_protected) {
  // As Redis 7.0's configSetCommand: first every name is checked (unknown,
  // immutable, protected, given twice: an alias and its directive count as
  // two names), the first problem answering; then the values are parsed on
  // a copy, so that a failure changes nothing; then the side effects run.
  struct Item {
    const Directive* d;
    std::string name;  // the name given, lower-cased (directive or alias)
    std::string_view value;
  };
  std::vector<Item> items;
  std::set<std::string> seen;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    const Directive* d = find(pairs[i]);
    if (!d)
      return "ERR Unknown option or number of arguments for CONFIG SET - '" +
             std::string(pairs[i]) + "'";
    const std::string prefix =
        "ERR CONFIG SET failed (possibly related to argument '" + std::string(pairs[i]) + "') - ";
    if (d->immutable) return prefix + "can't set immutable config";
    if (d->is_protected && !allow_protected) return prefix + "can't set protected config";
    std::string name = lower(pairs[i]);
    if (!seen.insert(name).second) return prefix + "duplicate parameter";
    items.push_back({d, std::move(name), pairs[i + 1]});
  }
  // Errors name the parameter as Redis's table does (lower case).
  auto failed = [](const std::string& name, const std::string& err) {
    return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + err;
  };
  Settings trial = settings_;
  for (const Item& it : items)
    if (std::string err = it.d->parse(trial, it.value); !err.empty()) return failed(it.name, err);
  std::set<std::string> applied;
  for (const Item& it : items) {
    auto ap = appliers_.find(it.d->name);
    if (ap == appliers_.end() || !applied.insert(it.d->name).second) continue;
    if (std::string err = ap->second(trial); !err.empty()) return failed(it.name, err);
  }
  settings_ = trial;
  std::set<std::string> told;
  for (const Item& it : items)
    if (told.insert(it.d->name).second)
      for (const auto& fn : listeners_) fn(it.d->name);
  return "";
}

std::vector<std::pair<std::string, std::string>> Config::get(
    std::span<const std::string_view> patterns) const {
  // As Redis 7.0's configGetCommand: a name without glob characters is looked
  // up directly and echoed as the client wrote it; a pattern is matched
  // against every name (directives and aliases) and yields each name that
  // matches (`*` lists "replicaof" and "slaveof", both with the value).
  // Matches are kept in a case-insensitive dict, so the first spelling of a
  // name wins. Pairs come out in table order (Redis's is its dict order).
  struct Match {
    const Directive* d;
    size_t rank;  // position in the table, aliases after their directive
    std::string shown;
  };
  std::vector<Match> found;
  auto has = [&](std::string_view name) {
    const std::string l = lower(name);
    for (const auto& m : found)
      if (lower(m.shown) == l) return true;
    return false;
  };
  auto rank_of = [&](const Directive* d, std::string_view key) {
    const size_t base = static_cast<size_t>(d - directives_.data()) * 64;
    for (size_t i = 0; i < d->aliases.size(); ++i)
      if (d->aliases[i] == key) return base + 1 + i;
    return base;
  };
  for (auto p : patterns) {
    if (p.find_first_of("[*?") == std::string_view::npos) {
      if (has(p)) continue;
      if (const Directive* d = find(p)) found.push_back({d, rank_of(d, lower(p)), std::string(p)});
      continue;
    }
    for (const auto& d : directives_) {
      if (d.hidden) continue;  // exact names only, as Redis's HIDDEN_CONFIG
      // Each name (a directive's or an alias's) once: an alias is listed
      // beside its directive, as Redis 7.0's config dict holds both.
      auto consider = [&](const std::string& key) {
        if (has(key)) return;
        if (base::glob_match(p, key, true)) found.push_back({&d, rank_of(&d, key), key});
      };
      consider(d.name);
      for (const auto& a : d.aliases) consider(a);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Match& a, const Match& b) { return a.rank < b.rank; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(found.size());
  for (const auto& m : found) out.emplace_back(m.shown, m.d->format(settings_));
  return out;
}

std::string Config::load(const std::string& file_text, const std::vector<std::string>& cli_args) {
  // Command-line options become config lines after the file's, as in Redis.
  std::vector<std::string> lines;
  {
    std::istringstream in(file_text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  std::string cli_line;
  for (const auto& arg : cli_args) {
    if (arg.size() > 2 && arg.rfind("--", 0) == 0) {
      if (!cli_line.empty()) lines.push_back(cli_line);
      cli_line = arg.substr(2);
    } else {
      cli_line += ' ';
      cli_line += quote_if_needed(arg);
    }
  }
  if (!cli_line.empty()) lines.push_back(cli_line);

  std::set<const Directive*> multi_seen;
  acl::Users user_checker;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string line = lines[n];
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto words = base::split_args(line);
    auto fatal = [&](const std::string& why) {
      return "\n*** FATAL CONFIG FILE ERROR (setd) ***\nReading the configuration file, at line " +
             std::to_string(n + 1) + "\n>>> '" + line.substr(first) + "'\n" + why;
    };
    if (!words) return fatal("Unbalanced quotes in configuration line");
    if (words->empty()) continue;
    if (lower((*words)[0]) == "user" && words->size() >= 2) {
      // ACL users: checked now (Redis's ACLAppendUserForLoading), created
      // at start-up once every directive is known.
      std::vector<std::string_view> views(words->begin(), words->end());
      user_checker.all_channels_default = settings_.acl_pubsub_default_all;
      if (std::string err = user_checker.add_config_user(views); !err.empty()) return fatal(err);
      settings_.users.emplace_back(words->begin() + 1, words->end());
      continue;
    }
    const Directive* d = find((*words)[0]);
    if (!d || words->size() < 2) {
      // "save" and a few others may legitimately take an empty value.
      if (d && words->size() == 1)
        words->push_back("");
      else
        return fatal("Bad directive or wrong number of arguments");
    }
    std::vector<std::string> values(words->begin() + 1, words->end());
    // Redis splits a lone save value on spaces (`save "900 1"`), but takes
    // several words as they are, so a word with a space is not a number.
    if (d->name == "save" && values.size() > 1)
      for (const auto& w : values)
        if (w.find(' ') != std::string::npos) return fatal("Invalid save parameters");
    std::string value = values.size() == 1 ? values[0] : join(values);
    // Later save lines add save points, except `save ""`, which clears them.
    const std::string kept =
        d->multi_line && d->name == "save" && multi_seen.count(d) ? settings_.save : "";
    multi_seen.insert(d);
    std::string err = d->parse(settings_, value);
    if (!err.empty()) return fatal(err);
    if (!kept.empty() && !value.empty() && !settings_.save.empty())
      settings_.save = kept + " " + settings_.save;
  }
  return "";
}

namespace {

constexpr const char* kRewriteSignature = "# Generated by CONFIG REWRITE";

// Redis's rewriteConfigFormatMemory: "1gb", "512mb", "4kb" when the amount
// is a whole number of those, else bytes.
std::string format_memory(long long bytes) {
  constexpr long long kGb = 1024LL * 1024 * 1024, kMb = 1024 * 1024, kKb = 1024;
  if (bytes != 0 && bytes % kGb == 0) return std::to_string(bytes / kGb) + "gb";
  if (bytes != 0 && bytes % kMb == 0) return std::to_string(bytes / kMb) + "mb";
  if (bytes != 0 && bytes % kKb == 0) return std::to_string(bytes / kKb) + "kb";
  return std::to_string(bytes);
}

// How CONFIG REWRITE writes a directive's line, as Redis 7.0's rewrite
// functions: a number, yes/no or enum name as it is; a memory amount with
// its unit; a string quoted (sdscatrepr). A "nullable" string (Redis's
// EMPTY_STRING_IS_NULL) has no line at all when empty.
enum class RewriteKind : uint8_t { kPlain, kMemory, kString, kNullableString };

RewriteKind rewrite_kind(const std::string& name) {
  static const std::set<std::string> memory = {"maxmemory",
                                               "proto-max-bulk-len",
                                               "client-query-buffer-limit",
                                               "repl-backlog-size",
                                               "auto-aof-rewrite-min-size",
                                               "script-memory-limit",
                                               "set-max-listpack-value"};
  static const std::set<std::string> strings = {
      "aclfile", "dbfilename", "appendfilename", "appenddirname", "proc-title-template", "logfile"};
  static const std::set<std::string> nullable = {
      "pidfile",          "replica-announce-ip", "masteruser",
      "masterauth",       "requirepass",         "tls-cert-file",
      "tls-key-file",     "tls-key-file-pass",   "tls-dh-params-file",
      "tls-ca-cert-file", "tls-ca-cert-dir",     "tls-protocols",
      "tls-ciphers",      "tls-ciphersuites"};
  if (memory.count(name)) return RewriteKind::kMemory;
  if (strings.count(name)) return RewriteKind::kString;
  if (nullable.count(name)) return RewriteKind::kNullableString;
  return RewriteKind::kPlain;
}

std::string repr(std::string_view v) {
  std::string out;
  base::append_repr(out, v);
  return out;
}

// Redis's rewriteConfigState: the old file's lines, which of them each
// option had, and which options were rewritten.
struct RewriteState {
  std::vector<std::string> lines;
  std::map<std::string, std::vector<size_t>> option_lines;  // in file order
  std::set<std::string> processed;
  bool needs_signature = true;

  // rewriteConfigRewriteLine: the option's next old line takes `line`; with
  // none left, `line` is appended when forced (after the signature).
  void rewrite_line(const std::string& option, std::string line, bool force) {
    processed.insert(option);
    auto it = option_lines.find(option);
    if (it == option_lines.end()) {
      if (!force) return;
      if (needs_signature) {
        lines.emplace_back(kRewriteSignature);
        needs_signature = false;
      }
      lines.push_back(std::move(line));
      return;
    }
    lines[it->second.front()] = std::move(line);
    it->second.erase(it->second.begin());
    if (it->second.empty()) option_lines.erase(it);
  }
};

}  // namespace

std::string Config::rewrite(const std::string& path,
                            const std::vector<std::string>& user_lines) const {
  // Step 1, as Redis's rewriteConfigReadOldFile: every line trimmed;
  // comments and blank lines kept; a line that is no directive (nor one of
  // the lines only the config file knows) becomes a "# ??? " comment;
  // aliases count as their directive.
  RewriteState st;
  {
    // A missing file is rewritten from nothing, as Redis does.
    std::string text;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buf[65536];
      size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
      std::fclose(f);
    } else if (errno != ENOENT) {
      return std::string("ERR Rewriting config file: ") + std::strerror(errno);
    }
    std::vector<std::string> raw;
    if (!text.empty()) {
      size_t start = 0;
      for (;;) {
        const size_t nl = text.find('\n', start);
        raw.push_back(text.substr(start, nl == std::string::npos ? nl : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
    for (std::string& l : raw) {
      const size_t b = l.find_first_not_of("\r\n\t ");
      l = b == std::string::npos ? std::string()
                                 : l.substr(b, l.find_last_not_of("\r\n\t ") - b + 1);
      if (l.empty() || l[0] == '#') {
        if (st.needs_signature && l == kRewriteSignature) st.needs_signature = false;
        st.lines.push_back(l);
        continue;
      }
      auto words = base::split_args(l);
      const std::string first = words && !words->empty() ? lower((*words)[0]) : std::string();
      const Directive* d = words && !words->empty() ? find(first) : nullptr;
      if (!words || words->empty() ||
          (d == nullptr && first != "include" && first != "rename-command" && first != "user" &&
           first != "loadmodule" && first != "sentinel")) {
        st.lines.push_back("# ??? " + l);
        continue;
      }
      st.option_lines[d != nullptr ? d->name : first].push_back(st.lines.size());
      st.lines.push_back(l);
    }
  }

  // Step 2: every directive, in place or appended when not at its default.
  for (const auto& d : directives_) {
    const std::string& name = d.name;
    const std::string v = d.format(settings_);
    const bool changed = v != d.default_value;
    if (name == "save") {
      // Redis's rewriteConfigSaveOption: one line per save point, always.
      if (settings_.save.empty()) {
        st.rewrite_line(name, "save \"\"", true);
      } else {
        std::istringstream in(settings_.save);
        std::string secs, changes;
        while (in >> secs >> changes) st.rewrite_line(name, "save " + secs + " " + changes, true);
      }
      st.processed.insert(name);
    } else if (name == "client-output-buffer-limit") {
      const Settings defaults;
      const char* const names[] = {"normal", "replica", "pubsub"};
      for (int j = 0; j < 3; ++j) {
        const OutputLimit& l = settings_.output_limits[j];
        const OutputLimit& def = defaults.output_limits[j];
        const bool force =
            l.hard != def.hard || l.soft != def.soft || l.soft_seconds != def.soft_seconds;
        st.rewrite_line(name,
                        name + " " + names[j] + " " +
                            format_memory(static_cast<long long>(l.hard)) + " " +
                            format_memory(static_cast<long long>(l.soft)) + " " +
                            std::to_string(l.soft_seconds),
                        force);
      }
    } else if (name == "replicaof") {
      // A master has no replicaof line (rewriteConfigReplicaOfOption).
      if (v.empty())
        st.processed.insert(name);
      else
        st.rewrite_line(name, name + " " + v, true);
    } else if (name == "bind") {
      if (!changed)
        st.processed.insert(name);
      else
        st.rewrite_line(name, name + " " + (v.empty() ? std::string("\"\"") : v), true);
    } else if (name == "dir") {
      if (v.empty())
        st.processed.insert(name);
      else
        st.rewrite_line(name, name + " " + repr(v), true);
    } else if (name == "notify-keyspace-events") {
      st.rewrite_line(name, name + " " + repr(v), settings_.notify_keyspace_events != 0);
    } else if (name == "latency-tracking-info-percentiles") {
      st.rewrite_line(name, name + " " + (v.empty() ? std::string("\"\"") : v), true);
    } else {
      switch (rewrite_kind(name)) {
        case RewriteKind::kPlain:
          st.rewrite_line(name, name + " " + v, changed);
          break;
        case RewriteKind::kMemory: {
          long long n = 0;
          base::string_to_ll(v, n);
          st.rewrite_line(name, name + " " + format_memory(n), changed);
          break;
        }
        case RewriteKind::kString:
          st.rewrite_line(name, name + " " + repr(v), changed);
          break;
        case RewriteKind::kNullableString:
          if (v.empty())
            st.processed.insert(name);
          else
            st.rewrite_line(name, name + " " + repr(v), true);
          break;
      }
    }
  }
  // ACL users (rewriteConfigUserOption; with an aclfile the caller passes
  // none, so the file's user lines all go), and no modules.
  for (const auto& u : user_lines) st.rewrite_line("user", u, true);
  st.processed.insert("user");
  st.processed.insert("loadmodule");

  // Step 3: the old lines of rewritten options that were not reused become
  // blank (rewriteConfigRemoveOrphaned); runs of blank lines become one.
  for (const auto& [option, nums] : st.option_lines)
    if (st.processed.count(option))
      for (const size_t n : nums) st.lines[n].clear();
  std::string content;
  bool was_empty = false;
  for (const auto& l : st.lines) {
    if (l.empty()) {
      if (was_empty) continue;
      was_empty = true;
    } else {
      was_empty = false;
    }
    content += l;
    content += '\n';
  }

  // Step 4: a temporary file, synced, then renamed over the old one.
  std::string tmp = path + ".XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return std::string("ERR Rewriting config file: ") + std::strerror(errno);
  size_t off = 0;
  int err = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      err = n < 0 ? errno : EIO;
      break;
    }
    off += static_cast<size_t>(n);
  }
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (err == 0 && ::fchmod(fd, 0644 & ~mask) != 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(tmp.c_str());
    return std::string("ERR Rewriting config file: ") + std::strerror(err);
  }
  return "";
}

}  // namespace setd::server
