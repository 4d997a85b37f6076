#include "setd/server/process.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace setd::server {

bool expand_proc_title(std::string_view tmpl, const ProcTitleVars& vars, std::string& out) {
  std::string res;
  size_t p = 0;
  while (p < tmpl.size()) {
    const size_t sv = tmpl.find('{', p);
    if (sv == std::string_view::npos) {
      res.append(tmpl.substr(p));
      break;
    }
    res.append(tmpl.substr(p, sv - p));
    if (sv + 1 >= tmpl.size()) return false;  // a template ending in '{'
    if (tmpl[sv + 1] == '{') {                // "{{": a literal '{'
      res.push_back('{');
      p = sv + 2;
      continue;
    }
    const size_t ev = tmpl.find('}', sv + 1);
    if (ev == std::string_view::npos) return false;
    const std::string_view name = tmpl.substr(sv + 1, ev - sv - 1);
    if (name == "title")
      res += vars.title;
    else if (name == "listen-addr")
      res += vars.listen_addr;
    else if (name == "server-mode")
      res += vars.server_mode;
    else if (name == "config-file")
      res += vars.config_file;
    else if (name == "port")
      res += std::to_string(vars.port);
    else if (name == "tls-port")
      res += std::to_string(vars.tls_port);
    else if (name == "unixsocket")
      res += vars.unixsocket;
    else
      return false;
    p = ev + 1;
  }
  const size_t first = res.find_first_not_of(' ');
  if (first == std::string::npos) {
    out.clear();
  } else {
    out = res.substr(first, res.find_last_not_of(' ') - first + 1);
  }
  return true;
}

ProcTitleVars proc_title_vars(const Settings& s, std::string title, std::string config_file) {
  ProcTitleVars v;
  v.title = std::move(title);
  v.config_file = config_file.empty() ? "-" : std::move(config_file);
  v.port = s.port;
  v.tls_port = s.tls_port;
  // setd has no unix socket listener: as Redis's {listen-addr} without one.
  if (s.port != 0 || s.tls_port != 0)
    v.listen_addr = (s.bind.empty() ? std::string("*") : s.bind[0]) + ":" +
                    std::to_string(s.port != 0 ? s.port : s.tls_port);
  else
    v.listen_addr = "unixsocket:";
  return v;
}

namespace {

char* g_title_base = nullptr;  // argv[0]'s memory
size_t g_title_room = 0;       // bytes from there to the end of the area

}  // namespace

void proc_title_init(int argc, char** argv) {
  if (argc <= 0 || argv == nullptr || argv[0] == nullptr) return;
  // The contiguous area: argv's strings, then the environment's.
  char* base = argv[0];
  char* end = base + std::strlen(base) + 1;
  for (int i = 1; i < argc; ++i)
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  size_t env_count = 0;
  while (environ != nullptr && environ[env_count] != nullptr) ++env_count;
  // The environment moves to the heap, so that its memory can hold a title.
  char** env_copy = static_cast<char**>(std::calloc(env_count + 1, sizeof(char*)));
  if (env_copy == nullptr) return;
  for (size_t i = 0; i < env_count; ++i) {
    if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
    env_copy[i] = ::strdup(environ[i]);
    if (env_copy[i] == nullptr) return;
  }
  environ = env_copy;
  // argv's strings too (they are read after this), and glibc's name of the
  // program.
  for (int i = 0; i < argc; ++i)
    if (char* dup = ::strdup(argv[i])) argv[i] = dup;
  if (char* dup = ::strdup(program_invocation_name)) program_invocation_name = dup;
  if (char* dup = ::strdup(program_invocation_short_name)) program_invocation_short_name = dup;
  g_title_base = base;
  g_title_room = static_cast<size_t>(end - base);
}

void set_proc_title(const std::string& title) {
  if (g_title_base == nullptr || g_title_room < 2) return;
  const size_t n = std::min(title.size(), g_title_room - 1);
  std::memcpy(g_title_base, title.data(), n);
  std::memset(g_title_base + n, 0, g_title_room - n);
}

std::string apply_oom_score_adj(const Settings& s, bool replica) {
  // The score before setd changed it (relative values add to it), and the
  // last value written.
  static bool adjusted = false;
  static int base = 0;
  static int written = INT_MIN;
  int val = 0;
  if (s.oom_score_adj != 0) {
    if (!adjusted) {
      char buf[64] = {};
      const int fd = ::open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::read(fd, buf, sizeof(buf) - 1) < 0) {
        spdlog::warn("Unable to read oom_score_adj: {}", std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return "Failed to set current oom_score_adj. Check server logs.";
      }
      ::close(fd);
      base = std::atoi(buf);
      adjusted = true;
    }
    val = s.oom_score_adj_values[replica ? 1 : 0];
    if (s.oom_score_adj == 1) val += base;  // relative
    val = std::clamp(val, -1000, 1000);
  } else if (adjusted) {
    adjusted = false;
    val = base;
  } else {
    return "";
  }
  if (val == written) return "";
  const std::string text = std::to_string(val) + "\n";
  const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, text.data(), text.size()) < 0) {
    spdlog::warn("Unable to write oom_score_adj: {}", std::strerror(errno));
    if (fd >= 0) ::close(fd);
    written = INT_MIN;
    return "Failed to set current oom_score_adj. Check server logs.";
  }
  ::close(fd);
  written = s.oom_score_adj != 0 ? val : INT_MIN;
  return "";
}

std::string disable_transparent_huge_pages() {
#ifdef PR_SET_THP_DISABLE
  if (::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) return std::strerror(errno);
  return "";
#else
  return "PR_SET_THP_DISABLE is not supported";
#endif
}

}  // namespace setd::server
