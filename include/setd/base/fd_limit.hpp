// The process's open-file limit, raised to fit maxclients as Redis 7.0's
// adjustOpenFilesLimit does.
//
// Dependency rule (module base): the C++ standard library and libc only.
#pragma once

#include <string>
#include <vector>

namespace setd::base {

// File descriptors kept for the server's own use beyond its clients
// (listeners, files, replication): Redis's CONFIG_MIN_RESERVED_FDS.
inline constexpr long long kReservedFds = 32;

struct FdLimitResult {
  long long maxclients = 0;           // what fits (== wanted when it all fits)
  bool fatal = false;                 // not even one client fits: exit
  std::vector<std::string> warnings;  // Redis's log lines, to log as warnings
  std::string notice;                 // "Increased maximum number of open files ..."
};

// Raises RLIMIT_NOFILE (soft and hard) to maxclients + kReservedFds when it
// is lower, or as close below as the system allows (steps of 16), and says
// how many clients then fit.
FdLimitResult adjust_fd_limit(long long maxclients);

}  // namespace setd::base
