#include "setd/server/slowlog.hpp"

#include <ctime>

namespace setd::server {

void SlowLog::push(std::span<const std::string_view> args, long long duration_us, std::string peer,
                   std::string name, size_t max_len) {
  Entry e;
  const size_t argc = args.size();
  const size_t kept = argc > kMaxArgc ? kMaxArgc : argc;
  e.args.reserve(kept);
  for (size_t j = 0; j < kept; ++j) {
    if (kept != argc && j == kept - 1) {
      e.args.push_back("... (" + std::to_string(argc - kept + 1) + " more arguments)");
    } else if (args[j].size() > kMaxString) {
      std::string s(args[j].substr(0, kMaxString));
      s += "... (" + std::to_string(args[j].size() - kMaxString) + " more bytes)";
      e.args.push_back(std::move(s));
    } else {
      e.args.emplace_back(args[j]);
    }
  }
  e.time = static_cast<long long>(std::time(nullptr));
  e.duration = duration_us;
  e.id = next_id_++;
  e.peer = std::move(peer);
  e.name = std::move(name);
  entries_.push_front(std::move(e));
  trim(max_len);
}

}  // namespace setd::server
