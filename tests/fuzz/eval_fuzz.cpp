// libFuzzer target: Lua scripts run by EVAL (or EVAL_RO, or loaded as a
// function library and called with FCALL) in-process, through the
// Dispatcher with the script engine installed (tests/support/runner.hpp).
//
// Input: one byte of options, then the script, then up to 8 arguments, the
// parts separated by NUL bytes. Options: bits 0-1 the mode (0-1 EVAL, 2
// EVAL_RO, 3 FUNCTION LOAD REPLACE of "#!lua name=fz\n" + script, then FCALL
// f), bits 2-4 how many arguments are keys, bit 5 the caller speaks RESP3.
//
// Scripts that never end: the engine's count hook checks the clock every
// 100000 Lua instructions, and past busy-reply-threshold (CONFIG SET to 5
// ms here) it serves "other clients" through the server's event loop
// (EventLoop::process_events_while_blocked). This target installs a loop of
// its own whose other client does what a person would: PING (must be
// -BUSY), then SCRIPT KILL or FUNCTION KILL; when that says UNKILLABLE (the
// script wrote), it does what SHUTDOWN NOSAVE does to the script
// (ScriptHost::abort_for_shutdown), without stopping the process. So loops,
// tail-call recursion and loadstring'd loops all end through the production
// kill path, with no knob in setd for tests. (A keyword filter could not
// catch `local function f() return f() end` or loadstring("whi".."le...").)
// What the hook cannot interrupt is one long C call (a pattern match on a
// big string): the Lua heap is capped at script-memory-limit 8mb, which
// bounds those.
//
// Checks, beyond "no crash, no sanitizer report": every reply is exactly one
// well-formed RESP value, the other client saw -BUSY whenever it was served,
// and after each input no script runs and PING answers PONG.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runner.hpp"
#include "setd/proto/reply_reader.hpp"
#include "setd/server/event_loop.hpp"

namespace {

using setd::testing::Runner;

// One reply, exactly, in `out`; traps otherwise.
void check_one_reply(const std::string& out) {
  size_t used = 0;
  std::string_view buf(out);
  auto v = setd::proto::read_reply(buf, used);
  if (!v || used != out.size()) __builtin_trap();
}

class FuzzLoop final : public setd::server::EventLoop {
 public:
  explicit FuzzLoop(Runner& r) : r_(r), other_(r.new_client()) {}

  void post(std::function<void()>) override {}
  void post_after(int64_t, std::function<void()>) override {}

  // The engine calls this from the script's hook once it runs past
  // busy-reply-threshold, and again every 100000 instructions after.
  void process_events_while_blocked() override {
    auto& scripts = *r_.state().scripts;
    if (!scripts.running() || !scripts.busy()) __builtin_trap();
    const auto ping = run({"PING"});
    if (ping.rfind("-BUSY ", 0) != 0) __builtin_trap();
    if (asked_) {
      // Killed scripts raise at once; an UNKILLABLE one gets here again.
      scripts.abort_for_shutdown();
      return;
    }
    asked_ = true;
    const auto kill = run({eval_ ? "SCRIPT" : "FUNCTION", "KILL"});
    if (kill == "+OK\r\n") return;
    if (kill.rfind("-UNKILLABLE ", 0) == 0)
      scripts.abort_for_shutdown();
    else
      __builtin_trap();
  }

  void arm(bool eval) {
    eval_ = eval;
    asked_ = false;
  }

 private:
  std::string run(std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> v(args);
    other_.out.clear();
    r_.dispatcher().dispatch(other_, v);
    check_one_reply(other_.out);
    std::string out = std::move(other_.out);
    other_.out.clear();
    return out;
  }

  Runner& r_;
  setd::server::Client& other_;
  bool eval_ = true;
  bool asked_ = false;
};

struct World {
  Runner runner;
  FuzzLoop loop{runner};
  setd::server::Client& checker = runner.new_client();
  uint64_t inputs = 0;

  World() {
    runner.state().loop = &loop;
    for (auto args : {std::vector<std::string>{"CONFIG", "SET", "busy-reply-threshold", "5"},
                      std::vector<std::string>{"CONFIG", "SET", "script-memory-limit", "8mb"}})
      if (runner.run(args).str != "OK") __builtin_trap();
  }
};

World& world() {
  static World* w = [] {
    spdlog::set_level(spdlog::level::off);  // "Slow script detected" on every loop
    return new World();
  }();
  return *w;
}

// Runs `args` for the fuzzed client: one well-formed reply.
void run_checked(World& w, const std::vector<std::string>& args) {
  auto& c = w.runner.client();
  std::vector<std::string_view> v(args.begin(), args.end());
  c.out.clear();
  w.runner.dispatcher().dispatch(c, v);
  check_one_reply(c.out);
  c.out.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const uint8_t options = data[0];
  std::vector<std::string> parts;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (parts.size() < 9) {
    const size_t nul = rest.find('\0');
    parts.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  const std::string script = parts[0];
  const std::vector<std::string> args(parts.begin() + 1, parts.end());
  const size_t numkeys = std::min<size_t>((options >> 2) & 7, args.size());
  const int mode = options & 3;

  auto& c = w.runner.client();
  c.set_resp((options & 0x20) ? 3 : 2);
  c.db = 0;
  std::vector<std::string> cmd;
  if (mode == 3) {
    run_checked(w, {"FUNCTION", "LOAD", "REPLACE", "#!lua name=fz\n" + script});
    cmd = {"FCALL", "f"};
  } else {
    cmd = {mode == 2 ? "EVAL_RO" : "EVAL", script};
  }
  cmd.push_back(std::to_string(numkeys));
  cmd.insert(cmd.end(), args.begin(), args.end());
  w.loop.arm(mode != 3);
  run_checked(w, cmd);

  // Nothing runs any more, and the server serves.
  if (w.runner.state().script_running()) __builtin_trap();
  if (w.runner.run_as(w.checker, {"PING"}).str != "PONG") __builtin_trap();
  // Keep the process small: the keys scripts made go every time, the
  // scripts EVAL cached (each new body stays in the Lua state) every 256.
  w.runner.run({"FLUSHALL"});
  if (++w.inputs % 256 == 0) w.runner.run({"SCRIPT", "FLUSH"});
  return 0;
}
