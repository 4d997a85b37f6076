// The process's own settings, as Redis 7.0 makes them: its title
// (set-proc-title, proc-title-template), Linux's OOM score
// (oom-score-adj, oom-score-adj-values) and transparent huge pages
// (disable-thp).
//
// Dependency rule (module server): base and the C library; no sockets.
#pragma once

#include <string>
#include <string_view>

#include "setd/server/config.hpp"

namespace setd::server {

// What the template variables stand for.
struct ProcTitleVars {
  std::string title;        // {title}: the command as started (argv[0])
  std::string listen_addr;  // {listen-addr}: "bind[0]:port"
  std::string server_mode;  // {server-mode}: "" ("[sentinel]" for Sentinel)
  std::string config_file;  // {config-file}: "-" without one
  int port = 0;
  int tls_port = 0;
  std::string unixsocket;
};

// Redis's sdstemplate + expandProcTitleTemplate: {name} is a variable, "{{"
// a literal '{'; an unknown variable or an unclosed '{' is an error
// (nullopt-like: returns false). The result is trimmed of spaces.
bool expand_proc_title(std::string_view tmpl, const ProcTitleVars& vars, std::string& out);

// The variables for `s` (listen-addr from bind and port, as Redis's
// redisProcTitleGetVariable).
ProcTitleVars proc_title_vars(const Settings& s, std::string title, std::string config_file);

// Makes room for a process title of any length: remembers argv's memory
// (and the environment's after it, which moves to the heap), as Redis's
// spt_init. Call once, first thing in main.
void proc_title_init(int argc, char** argv);
// Writes `title` over the command line (/proc/<pid>/cmdline, ps).
void set_proc_title(const std::string& title);

// oom-score-adj: writes /proc/self/oom_score_adj for a master or a replica
// as Redis's setOOMScoreAdj (relative values add to the score the process
// had when setd first changed it; "no" puts that score back). Returns "" or
// Redis's error text. Writes only when the value changes.
std::string apply_oom_score_adj(const Settings& s, bool replica);

// disable-thp: turns transparent huge pages off for this process
// (prctl(PR_SET_THP_DISABLE)). Returns "" or the reason it failed.
std::string disable_transparent_huge_pages();

}  // namespace setd::server
