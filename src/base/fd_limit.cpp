#include "setd/base/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace setd::base {

FdLimitResult adjust_fd_limit(long long maxclients) {
  FdLimitResult r;
  r.maxclients = maxclients;
  const auto maxfiles = static_cast<rlim_t>(maxclients + kReservedFds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == -1) {
    r.warnings.push_back("Unable to obtain the current NOFILE limit (" +
                         std::string(std::strerror(errno)) +
                         "), assuming 1024 and setting the max clients configuration "
                         "accordingly.");
    r.maxclients = 1024 - kReservedFds;
    return r;
  }
  const rlim_t oldlimit = limit.rlim_cur;
  if (oldlimit >= maxfiles) return r;
  rlim_t best = maxfiles;
  int error = 0;
  while (best > oldlimit) {
    constexpr rlim_t kStep = 16;
    limit.rlim_cur = best;
    limit.rlim_max = best;
    if (setrlimit(RLIMIT_NOFILE, &limit) != -1) break;
    error = errno;
    if (best < kStep) {
      best = oldlimit;
      break;
    }
    best -= kStep;
  }
  if (best < oldlimit) best = oldlimit;
  if (best < maxfiles) {
    if (best <= static_cast<rlim_t>(kReservedFds)) {
      r.fatal = true;
      r.warnings.push_back("Your current 'ulimit -n' of " + std::to_string(oldlimit) +
                           " is not enough for the server to start. Please increase your open "
                           "file limit to at least " +
                           std::to_string(maxfiles) + ". Exiting.");
      r.maxclients = 0;
      return r;
    }
    r.maxclients = static_cast<long long>(best) - kReservedFds;
    r.warnings.push_back("You requested maxclients of " + std::to_string(maxclients) +
                         " requiring at least " + std::to_string(maxfiles) +
                         " max file descriptors.");
    r.warnings.push_back("Server can't set maximum open files to " + std::to_string(maxfiles) +
                         " because of OS error: " + std::strerror(error) + ".");
    r.warnings.push_back("Current maximum open files is " + std::to_string(best) +
                         ". maxclients has been reduced to " + std::to_string(r.maxclients) +
                         " to compensate for low ulimit. If you need higher maxclients increase "
                         "'ulimit -n'.");
  } else {
    r.notice = "Increased maximum number of open files to " + std::to_string(maxfiles) +
               " (it was originally set to " + std::to_string(oldlimit) + ").";
  }
  return r;
}

}  // namespace setd::base
