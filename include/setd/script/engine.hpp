// The script engine: Lua 5.1 scripts (EVAL, EVALSHA and their _RO forms,
// SCRIPT) and function libraries (FUNCTION, FCALL), as Redis 7.0 runs them.
//
// Dependency rule (module script): cmd, server, proto, base and Lua (Debian's
// liblua5.1 built as C++, lua-cjson, LuaBitOp; struct and cmsgpack are in
// lua_libs.hpp). Never Asio: a script that runs long lets the loop serve
// other clients through server::EventLoop::process_events_while_blocked().
//
// How a script runs (Redis's script.c / script_lua.c / eval.c):
// - Each Lua state is a sandbox (sandbox.hpp): the libraries Redis offers,
//   the `redis` API, no os/io/loadfile/dofile/print, and globals and library
//   tables that scripts can read but never change.
// - redis.call() runs a command through cmd::Dispatcher::call() for the
//   engine's own client (no socket, not in CLIENT LIST) with the caller's
//   user and database, after the checks Redis's scriptCall makes (unknown
//   command, arity, noscript, ACL, writes in a read-only script, replica,
//   disk errors). The command's reply is parsed back into Lua values.
// - Effects propagate as the commands the script ran, queued by call() and
//   handed on when the EVAL (or FCALL) returns: one MULTI/EXEC block when
//   there are several, as Redis 7.0. The EVAL itself never propagates.
// - A count hook checks the clock every 100000 Lua instructions; past
//   busy-reply-threshold the script is "timed out": the loop serves other
//   clients meanwhile (they get -BUSY) and SCRIPT KILL / FUNCTION KILL /
//   SHUTDOWN NOSAVE stop it.
// - The Lua heap is bounded by script-memory-limit while a script runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/script/sandbox.hpp"
#include "setd/server/scripting.hpp"

struct lua_State;

namespace setd::script {

// Script flags: a shebang's `flags=` (EVAL) or register_function's flags.
enum ScriptFlag : uint32_t {
  kFlagEvalCompat = 1u << 0,  // an EVAL script without a shebang line
  kFlagNoWrites = 1u << 1,
  kFlagAllowOom = 1u << 2,
  kFlagAllowStale = 1u << 3,
  kFlagNoCluster = 1u << 4,
  kFlagAllowCrossSlot = 1u << 5,
};
// "no-writes" -> kFlagNoWrites ...; 0 for an unknown name.
uint32_t flag_by_name(std::string_view name);
// The names of `flags`, in Redis's order (FUNCTION LIST).
std::vector<std::string_view> flag_names(uint32_t flags);

// An EVAL body's shebang ("#!lua flags=no-writes,allow-stale"): "" and the
// flags and the first line's length (0 without a shebang, whose flags are
// kFlagEvalCompat), or Redis's error text.
std::string parse_shebang(std::string_view body, uint32_t& flags, size_t& length);

// Lower-case hex SHA-1 (redis.sha1hex, script names).
std::string sha1_hex(std::string_view data);

class Functions;
struct RunState;

class Engine final : public server::ScriptHost {
 public:
  explicit Engine(cmd::Dispatcher& dispatcher);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // server::ScriptHost
  bool running() const override { return run_ != nullptr; }
  bool busy() const override;
  std::string_view busy_error() const override;
  std::vector<std::string> function_codes() const override;
  std::string load_function(std::string_view code, bool replace) override;
  void flush_functions() override;
  Figures figures() const override;

  // EVAL, EVALSHA, EVAL_RO, EVALSHA_RO.
  void eval(cmd::Context& ctx, bool evalsha, bool ro);
  // SCRIPT LOAD: the script's SHA-1, or "" after replying with the error.
  std::string script_load(cmd::Context& ctx, std::string_view body);
  bool script_exists(std::string_view sha) const;
  // SCRIPT FLUSH: a fresh Lua state, no scripts.
  void script_flush();
  // SCRIPT KILL (eval) / FUNCTION KILL: replies.
  void kill(cmd::Context& ctx, bool eval);
  // SHUTDOWN NOSAVE while a script runs: stop it whatever it did.
  void abort_for_shutdown() override;

  Functions& functions() { return *functions_; }
  cmd::Dispatcher& dispatcher() { return dispatcher_; }
  server::ServerState& state() { return state_; }

  // Bytes the Lua states hold (INFO used_memory_lua / used_memory_vm_eval).
  size_t eval_memory() const;
  size_t eval_scripts_memory() const { return scripts_memory_; }
  size_t eval_script_count() const { return scripts_.size(); }

  // --- For the sandbox's C functions (sandbox.cpp) and Functions. ---
  // Runs `fn` (already on L's stack with the error handler below it) with
  // `keys` and `args`, replying to ctx: the heart of EVAL and FCALL.
  // `eval_mode`: KEYS/ARGV globals; otherwise fn gets (keys, args) tables.
  void run(cmd::Context& ctx, lua_State* L, std::string_view name, uint32_t flags, bool ro,
           bool eval_mode, std::span<const std::string_view> keys,
           std::span<const std::string_view> args);
  // redis.call / redis.pcall: the arguments are L's stack 1..n. Returns the
  // number of Lua results; raises a Lua error for redis.call's failures.
  int lua_call_command(lua_State* L, bool raise);
  // redis.setresp / redis.set_repl / redis.acl_check_cmd (inside a run).
  void set_script_resp(int resp);
  void set_repl_targets(uint8_t targets);
  int lua_acl_check(lua_State* L);
  // The count hook: timed-out handling and kills.
  void on_hook(lua_State* L);
  RunState* current_run() { return run_; }
  // What FUNCTION STATS says of the running script.
  bool run_is_eval() const;
  std::string_view run_name() const;
  std::vector<std::string_view> run_command() const;
  long long run_duration_ms() const;

 private:
  struct Script {
    std::string body;
    uint32_t flags = 0;
    int ref = -1;  // the compiled function, in the Lua registry
  };
  struct ShaHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Compiles `body` into the EVAL state's registry; "" or the error text.
  std::string create_script(std::string_view body, const std::string& sha);
  void init_eval_state();
  // Checks before a run (Redis's scriptPrepareForRun): "" or the error.
  std::string prepare_check(const server::Client& caller, uint32_t flags, bool ro);
  // redis.call's and acl_check_cmd's arguments (L's stack 1..argc) into
  // argv_ (numbers as %.17g); false if one is neither string nor number.
  bool collect_args(lua_State* L, int argc);
  // The command (or subcommand) `argv` names; nullptr if none.
  const cmd::CommandSpec* find_spec(std::span<const std::string_view> argv) const;
  // Checks before redis.call runs `spec` (Redis's scriptCall): "" or error.
  std::string command_check(const cmd::CommandSpec& spec, std::span<const std::string_view> argv);

  cmd::Dispatcher& dispatcher_;
  server::ServerState& state_;
  LuaHeap eval_heap_;
  lua_State* eval_L_ = nullptr;
  std::unordered_map<std::string, Script, ShaHash, std::equal_to<>> scripts_;  // sha -> script
  size_t scripts_memory_ = 0;
  std::unique_ptr<Functions> functions_;
  std::unique_ptr<server::Client> client_;  // runs the scripts' commands
  RunState* run_ = nullptr;
  // redis.call's scratch: argument views and the numbers they were made from.
  std::vector<std::string_view> argv_;
  std::vector<std::string> numbers_;
  bool in_call_ = false;
  uint64_t gc_count_ = 0;
};

// Creates the engine for `dispatcher`'s server (ServerState::scripts) and
// adds the scripting commands to its table: EVAL, EVALSHA, EVAL_RO,
// EVALSHA_RO, SCRIPT, FUNCTION, FCALL, FCALL_RO.
std::unique_ptr<Engine> install(cmd::Dispatcher& dispatcher);

}  // namespace setd::script
