// The event loop as the server module sees it: a way to run work later on
// the loop's thread. The network layer implements it (net::Server); unit tests
// run without one (ServerState::loop == nullptr), and code that would
// schedule work then does it at once or when the test drives it.
//
// Dependency rule (module server): never Asio.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace setd::server {

class Client;

class EventLoop {
 public:
  virtual ~EventLoop() = default;
  // Runs `fn` on the loop soon, after the I/O that is ready now.
  virtual void post(std::function<void()> fn) = 0;
  // Runs `fn` on the loop after `us` microseconds.
  virtual void post_after(int64_t us, std::function<void()> fn) = 0;
  // Serves the I/O that is ready now and returns, from inside a command
  // that runs long (a script past busy-reply-threshold), as Redis's
  // processEventsWhileBlocked: other clients get their -BUSY replies and
  // SCRIPT KILL gets through.
  virtual void process_events_while_blocked() {}
};

// Runs commands for the server module (AOF replay at start-up): implemented
// by the command dispatcher, which sits above this module.
class CommandExecutor {
 public:
  virtual ~CommandExecutor() = default;
  // Runs one command line for `c` as the AOF loader does (no ACL, no
  // MISCONF); returns "" or an error naming the command ("Unknown command").
  virtual std::string execute_for_load(Client& c, const std::vector<std::string>& args) = 0;
};

}  // namespace setd::server
