#include "setd/script/engine.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <lua.hpp>

#include "setd/base/clock.hpp"
#include "setd/base/split_args.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/util.hpp"
#include "setd/script/functions.hpp"
#include "setd/script/sandbox.hpp"

namespace setd::script {

// One script or function run (Redis's scriptRunCtx).
struct RunState {
  server::Client* caller = nullptr;
  std::string_view name;  // the script's SHA-1, or the function's name (outlive the run)
  uint32_t flags = 0;
  bool eval_mode = true;
  bool read_only = false;
  bool write_dirty = false;  // it ran a write command: it can't be killed
  bool timed_out = false;    // past busy-reply-threshold
  bool killed = false;
  uint8_t repl_targets = server::kToAll;
  int64_t start_us = 0;
  std::span<const std::string_view> command;  // the EVAL / FCALL that runs it
  // Its copy, made when the script times out: while the loop serves other
  // clients the views above may point into input that is being reused.
  std::vector<std::string> command_copy;
};

namespace {

constexpr std::string_view kBusyEval =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
constexpr std::string_view kBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

struct FlagName {
  uint32_t flag;
  std::string_view name;
};
constexpr FlagName kFlagNames[] = {
    {kFlagNoWrites, "no-writes"},
    {kFlagAllowOom, "allow-oom"},
    {kFlagAllowStale, "allow-stale"},
    {kFlagNoCluster, "no-cluster"},
    {kFlagAllowCrossSlot, "allow-cross-slot-keys"},
};

Engine* g_hook_engine = nullptr;  // the engine whose script is running (one at a time)

void count_hook(lua_State* L, lua_Debug*) {
  if (g_hook_engine != nullptr) g_hook_engine->on_hook(L);
}

void push_array(lua_State* L, std::span<const std::string_view> items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

std::string lower(std::string_view s) { return base::to_lower_ascii(s); }

}  // namespace

uint32_t flag_by_name(std::string_view name) {
  for (const auto& f : kFlagNames)
    if (f.name == name) return f.flag;
  return 0;
}

std::vector<std::string_view> flag_names(uint32_t flags) {
  std::vector<std::string_view> out;
  for (const auto& f : kFlagNames)
    if (flags & f.flag) out.push_back(f.name);
  return out;
}

std::string parse_shebang(std::string_view body, uint32_t& flags, size_t& length) {
  flags = kFlagEvalCompat;
  length = 0;
  if (!body.starts_with("#!")) return "";
  const size_t nl = body.find('\n');
  if (nl == std::string_view::npos) return "Invalid script shebang";
  length = nl;
  const auto parts = base::split_args(body.substr(0, nl));
  if (!parts || parts->empty()) return "Invalid engine in script shebang";
  if ((*parts)[0] != "#!lua") return "Unexpected engine in script shebang: " + (*parts)[0];
  flags = 0;
  for (size_t i = 1; i < parts->size(); ++i) {
    std::string_view part = (*parts)[i];
    if (!part.starts_with("flags=")) return "Unknown lua shebang option: " + std::string(part);
    part.remove_prefix(6);
    // Split on ',' (an empty list, or empty items, are Redis's "" flags).
    size_t at = 0;
    while (true) {
      const size_t comma = part.find(',', at);
      const std::string_view item =
          part.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
      if (!(part.empty() && comma == std::string_view::npos)) {
        const uint32_t f = flag_by_name(item);
        if (f == 0) return "Unexpected flag in script shebang: " + std::string(item);
        flags |= f;
      }
      if (comma == std::string_view::npos) break;
      at = comma + 1;
    }
  }
  return "";
}

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(40, '0');
  for (unsigned i = 0; i < 20 && i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

// --- Engine -------------------------------------------------------------------

Engine::Engine(cmd::Dispatcher& dispatcher) : dispatcher_(dispatcher), state_(dispatcher.state()) {
  client_ = std::make_unique<server::Client>(0, base::now_ms());
  client_->authenticated = true;
  client_->script_client = true;
  client_->name = "";
  init_eval_state();
  functions_ = std::make_unique<Functions>(*this);
  state_.scripts = this;
}

Engine::~Engine() {
  if (state_.scripts == this) state_.scripts = nullptr;
  functions_.reset();
  if (eval_L_ != nullptr) lua_close(eval_L_);
}

void Engine::init_eval_state() {
  if (eval_L_ != nullptr) lua_close(eval_L_);
  eval_heap_ = LuaHeap{};
  eval_L_ = new_sandbox(*this, eval_heap_);
}

size_t Engine::eval_memory() const { return eval_heap_.used; }

bool Engine::busy() const { return run_ != nullptr && run_->timed_out; }

std::string_view Engine::busy_error() const {
  return run_ != nullptr && !run_->eval_mode ? kBusyFunction : kBusyEval;
}

std::vector<std::string> Engine::function_codes() const { return functions_->codes(); }

std::string Engine::load_function(std::string_view code, bool replace) {
  return functions_->load(code, replace, nullptr);
}

void Engine::flush_functions() { functions_->flush(); }

server::ScriptHost::Figures Engine::figures() const {
  Figures f;
  f.vm_eval = eval_heap_.used;
  f.scripts_eval = scripts_memory_;
  f.cached_scripts = scripts_.size();
  f.functions = functions_->function_count();
  f.libraries = functions_->library_count();
  f.vm_functions = functions_->memory();
  f.functions_mem = functions_->code_memory();
  return f;
}

void Engine::set_script_resp(int resp) { client_->set_resp(resp); }

void Engine::set_repl_targets(uint8_t targets) {
  if (run_ != nullptr) run_->repl_targets = targets;
}

std::string Engine::create_script(std::string_view body, const std::string& sha) {
  uint32_t flags = 0;
  size_t shebang = 0;
  if (std::string err = parse_shebang(body, flags, shebang); !err.empty()) return err;
  // The shebang line goes, its line feed stays: line numbers are the user's.
  if (luaL_loadbuffer(eval_L_, body.data() + shebang, body.size() - shebang, "@user_script") != 0) {
    std::string err = "Error compiling script (new function): ";
    const char* msg = lua_tostring(eval_L_, -1);
    err += msg ? msg : "?";
    lua_pop(eval_L_, 1);
    return err;
  }
  const int ref = luaL_ref(eval_L_, LUA_REGISTRYINDEX);
  scripts_memory_ += sha.size() + body.size() + 64;
  scripts_.emplace(sha, Script{std::string(body), flags, ref});
  return "";
}

std::string Engine::script_load(cmd::Context& ctx, std::string_view body) {
  std::string sha = sha1_hex(body);
  if (scripts_.count(sha) != 0) return sha;
  if (std::string err = create_script(body, sha); !err.empty()) {
    ctx.rb.error(err);
    return "";
  }
  return sha;
}

bool Engine::script_exists(std::string_view sha) const {
  return scripts_.find(lower(sha)) != scripts_.end();
}

void Engine::script_flush() {
  scripts_.clear();
  scripts_memory_ = 0;
  init_eval_state();
}

void Engine::eval(cmd::Context& ctx, bool evalsha, bool ro) {
  long long numkeys = 0;
  if (!cmd::parse_ll(ctx, ctx.arg(2), numkeys)) return;
  if (numkeys > static_cast<long long>(ctx.argc()) - 3)
    return ctx.rb.error("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return ctx.rb.error("ERR Number of keys can't be negative");
  // The SHA-1 names the script (EVALSHA's in any case: lower-cased here).
  char sha_buf[40];
  std::string sha_owned;
  std::string_view sha;
  if (evalsha) {
    const auto given = ctx.arg(1);
    if (given.size() != 40) return ctx.rb.error("NOSCRIPT No matching script. Please use EVAL.");
    for (size_t i = 0; i < 40; ++i) {
      const char c = given[i];
      sha_buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    sha = std::string_view(sha_buf, 40);
  } else {
    sha_owned = sha1_hex(ctx.arg(1));
    sha = sha_owned;
  }
  auto it = scripts_.find(sha);
  if (it == scripts_.end()) {
    if (evalsha) return ctx.rb.error("NOSCRIPT No matching script. Please use EVAL.");
    if (std::string err = create_script(ctx.arg(1), sha_owned); !err.empty())
      return ctx.rb.error(err);
    it = scripts_.find(sha);
  }
  lua_State* L = eval_L_;
  push_error_handler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, it->second.ref);
  const auto n = static_cast<size_t>(numkeys);
  run(ctx, L, it->first, it->second.flags, ro, true, ctx.args.subspan(3, n),
      ctx.args.subspan(3 + n));
  lua_pop(L, 1);  // the error handler
}

std::string Engine::prepare_check(const server::Client& caller, uint32_t flags, bool ro) {
  auto& repl = dispatcher_.replication();
  const auto& settings = state_.settings();
  const bool stale = repl.is_replica() && repl.link_state() != repl::LinkState::kConnected &&
                     !settings.replica_serve_stale_data;
  const bool obey = caller.repl_role == server::ReplRole::kMaster;
  if (flags & kFlagEvalCompat) {
    if (stale)
      return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return "";
  }
  if (stale && !(flags & kFlagAllowStale))
    return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and "
           "'allow-stale' flag is not set on the script.";
  if (!(flags & kFlagNoWrites)) {
    if (repl.is_replica() && settings.replica_read_only && !obey)
      return "READONLY Can not run script with write flag on readonly replica";
    if (!obey) {
      if (const auto disk = state_.persistence().write_error()) {
        if (disk->find("AOF") != std::string::npos)
          return "MISCONF Redis is configured to persist data to AOF, but it's currently unable "
                 "to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read "
                 "only scripts. AOF error: " +
                 *disk;
        return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
               "persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only "
               "scripts.";
      }
    }
    if (ro) return "ERR Can not execute a script with write flag using *_ro command.";
    if (!repl.is_replica() && !repl.enough_good_replicas())
      return "NOREPLICAS Not enough good replicas to write.";
    // Memory over maxmemory when the command started: a script that may
    // write needs allow-oom (Redis refuses it before it runs, as the
    // deny-oom command its flags make it).
    if (state_.pre_command_oom && settings.maxmemory > 0 && !(flags & kFlagAllowOom))
      return "OOM command not allowed when used memory > 'maxmemory'.";
  }
  return "";
}

void Engine::run(cmd::Context& ctx, lua_State* L, std::string_view name, uint32_t flags, bool ro,
                 bool eval_mode, std::span<const std::string_view> keys,
                 std::span<const std::string_view> args) {
  // The script's own EVAL / FCALL never propagates: its commands do.
  ctx.prevent_propagation();
  if (std::string err = prepare_check(ctx.client, flags, ro); !err.empty()) {
    lua_pop(L, 1);  // the function
    return ctx.rb.error(err);
  }
  RunState run;
  run.caller = &ctx.client;
  run.name = name;
  run.flags = flags;
  run.eval_mode = eval_mode;
  run.read_only = ro || (!(flags & kFlagEvalCompat) && (flags & kFlagNoWrites));
  run.start_us = base::monotonic_us();
  run.command = ctx.args;
  run_ = &run;
  client_->db = ctx.client.db;
  client_->set_resp(2);
  client_->user = ctx.client.user;

  LuaHeap& heap = eval_mode ? eval_heap_ : functions_->heap();
  const auto& settings = state_.settings();
  if (eval_mode) {
    push_array(L, keys);
    set_global_raw(L, "KEYS");
    push_array(L, args);
    set_global_raw(L, "ARGV");
  } else {
    push_array(L, keys);
    push_array(L, args);
  }
  const bool hooked = settings.busy_reply_threshold > 0;
  if (hooked) {
    g_hook_engine = this;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 100000);
  }
  heap.limit = static_cast<size_t>(settings.script_memory_limit);
  heap.enforce = true;
  const int status = eval_mode ? lua_pcall(L, 0, 1, -2) : lua_pcall(L, 2, 1, -4);
  heap.enforce = false;
  if (++gc_count_ % 50 == 0) lua_gc(L, LUA_GCSTEP, 50);

  if (status != 0) {
    if (lua_istable(L, -1)) {
      std::string msg = "ERR unknown error";
      std::string source, line;
      bool count = true;
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) msg = lua_tostring(L, -1);
      lua_pop(L, 1);
      lua_getfield(L, -1, "source");
      if (lua_isstring(L, -1)) source = lua_tostring(L, -1);
      lua_pop(L, 1);
      lua_getfield(L, -1, "line");
      if (lua_isstring(L, -1)) line = lua_tostring(L, -1);
      lua_pop(L, 1);
      lua_getfield(L, -1, "ignore_error_stats_update");
      if (lua_isboolean(L, -1)) count = lua_toboolean(L, -1) == 0;
      lua_pop(L, 1);
      if (!source.empty() && !line.empty())
        msg += " script: " + std::string(run.name) + ", on " + source + ":" + line + ".";
      // Redis writes "-" and the text: an err text of its own "-CODE" gives
      // "--CODE" (error_as_is drops one leading '-').
      ctx.rb.error_as_is("-" + msg, count);
    } else {
      std::string msg = "execution failure";
      if (lua_isstring(L, -1)) msg = lua_tostring(L, -1);
      ctx.rb.error("ERR Error running script " + std::string(run.name) + ", " + msg.substr(0, 100));
    }
    lua_pop(L, 1);
    if (status == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT, 0);
  } else {
    write_reply(L, ctx.rb, client_->resp());
  }
  if (hooked) {
    lua_sethook(L, nullptr, 0, 0);
    g_hook_engine = nullptr;
  }
  if (run.timed_out) {
    ctx.client.protected_from_close = false;
    // Our master's stream, held back while the script ran, goes on.
    for (const auto& [id, c] : state_.clients())
      if (c->repl_role == server::ReplRole::kMaster && c->transport != nullptr)
        c->transport->unblock();
    spdlog::warn("Slow script finished after {} ms: {}",
                 (base::monotonic_us() - run.start_us) / 1000, run.name);
  }
  client_->user = nullptr;
  client_->out.clear();
  run_ = nullptr;
}

std::string Engine::command_check(const cmd::CommandSpec& spec,
                                  std::span<const std::string_view> argv) {
  if (spec.has(cmd::kNoScript)) return "This Redis command is not allowed from script";
  auto& repl = dispatcher_.replication();
  const auto& settings = state_.settings();
  if (repl.is_replica() && repl.link_state() != repl::LinkState::kConnected &&
      !settings.replica_serve_stale_data && !spec.has(cmd::kStale))
    return "Can not execute the command on a stale replica";
  server::Client& caller = *run_->caller;
  if (caller.user != nullptr) {
    size_t pos = 0;
    const acl::Verdict v = dispatcher_.acl_check(*caller.user, spec, argv, pos);
    if (v != acl::Verdict::kOk) {
      dispatcher_.acl_log(caller, v, acl::LogContext::kLua, spec, argv, pos);
      switch (v) {
        case acl::Verdict::kDeniedKey:
          return "The user executing the script can't access at least one of the keys mentioned "
                 "in the command arguments";
        case acl::Verdict::kDeniedChannel:
          return "The user executing the script can't publish to the channel mentioned in the "
                 "command";
        default:
          return "The user executing the script can't run this command or subcommand";
      }
    }
  }
  const bool write = spec.has(cmd::kWrite);
  if (run_->read_only && (write || spec.has(cmd::kMayReplicate)))
    return "Write commands are not allowed from read-only scripts.";
  if (write && !run_->write_dirty) {
    const bool obey = caller.repl_role == server::ReplRole::kMaster;
    if (repl.is_replica() && settings.replica_read_only && !obey)
      return "-READONLY You can't write against a read only replica.";
    if (const auto disk = state_.persistence().write_error()) return "-" + *disk;
    if (!repl.is_replica() && !repl.enough_good_replicas())
      return "-NOREPLICAS Not enough good replicas to write.";
  }
  // Over maxmemory when the script started: its first deny-oom command is
  // refused, unless it has written already (it can't stop halfway) or has
  // the allow-oom flag (Redis's scriptVerifyOOM).
  const bool allow_oom = !(run_->flags & kFlagEvalCompat) && (run_->flags & kFlagAllowOom);
  if (!allow_oom && settings.maxmemory > 0 && caller.repl_role != server::ReplRole::kMaster &&
      !run_->write_dirty && state_.pre_command_oom && spec.has(cmd::kDenyOom))
    return "-OOM command not allowed when used memory > 'maxmemory'.";
  if (write) run_->write_dirty = true;
  return "";
}

bool Engine::collect_args(lua_State* L, int argc) {
  argv_.clear();
  if (numbers_.size() < static_cast<size_t>(argc)) numbers_.resize(static_cast<size_t>(argc));
  for (int j = 1; j <= argc; ++j) {
    if (lua_type(L, j) == LUA_TNUMBER) {
      // %.17g: Lua's own conversion loses precision.
      char buf[64];
      const int n =
          std::snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, j)));
      std::string& slot = numbers_[static_cast<size_t>(j - 1)];
      slot.assign(buf, static_cast<size_t>(n));
      argv_.emplace_back(slot);
      continue;
    }
    size_t len = 0;
    const char* s = lua_tolstring(L, j, &len);
    if (s == nullptr) return false;
    argv_.emplace_back(s, len);
  }
  return true;
}

const cmd::CommandSpec* Engine::find_spec(std::span<const std::string_view> argv) const {
  const cmd::CommandSpec* spec = dispatcher_.registry().find(argv[0]);
  if (spec != nullptr && !spec->subcommands.empty() && argv.size() >= 2)
    spec = spec->find_subcommand(lower(argv[1]));
  return spec;
}

int Engine::lua_call_command(lua_State* L, bool raise) {
  const int argc = lua_gettop(L);
  if (run_ == nullptr) {
    push_error_table(L, "redis.call/pcall can only be called inside a script invocation");
    return lua_error(L);
  }
  if (argc == 0) {
    push_error_table(L, "Please specify at least one argument for this redis lib call");
    return raise ? lua_error(L) : 1;
  }
  if (in_call_) {
    push_error_table(L,
                     "luaRedisGenericCommand() recursive call detected. Are you doing funny "
                     "stuff with Lua debug hooks?");
    return 1;
  }
  if (!collect_args(L, argc)) {
    lua_pop(L, argc);
    push_error_table(L, "Lua redis lib command arguments must be strings or integers");
    return raise ? lua_error(L) : 1;
  }

  const cmd::CommandSpec* spec = find_spec(argv_);
  std::string err;
  if (spec == nullptr) {
    err = "Unknown Redis command called from script";
  } else if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    err = "Wrong number of args calling Redis command from script";
  } else {
    err = command_check(*spec, argv_);
  }
  if (!err.empty()) {
    lua_pop(L, argc);
    push_error_table(L, err);
    // Counted here, as Redis's afterErrorReply; not again in the script's reply.
    lua_getfield(L, -1, "err");
    const std::string_view text = lua_tostring(L, -1);
    auto& stats = state_.stats();
    ++stats.total_error_replies;
    ++stats.errors[std::string(text.substr(0, text.find(' ')))];
    lua_pop(L, 1);
    if (spec != nullptr) ++spec->stats.rejected_calls;
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
    return raise ? lua_error(L) : 1;
  }

  in_call_ = true;
  client_->out.clear();
  dispatcher_.call(*client_, *spec, argv_, run_->repl_targets);
  in_call_ = false;
  lua_pop(L, argc);  // the arguments (argv_ pointed into them)
  const bool failed = !client_->out.empty() && client_->out[0] == '-';
  push_reply(L, client_->out);
  client_->out.clear();
  if (raise && failed) return lua_error(L);
  return 1;
}

int Engine::lua_acl_check(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc == 0) {
    push_error_table(L, "Please specify at least one argument for this redis lib call");
    return lua_error(L);
  }
  if (!collect_args(L, argc)) {
    push_error_table(L, "Lua redis lib command arguments must be strings or integers");
    return lua_error(L);
  }
  const cmd::CommandSpec* spec = find_spec(argv_);
  if (spec == nullptr) {
    push_error_table(L, "Invalid command passed to redis.acl_check_cmd()");
    return lua_error(L);
  }
  bool ok = true;
  if (run_->caller->user != nullptr) {
    size_t pos = 0;
    ok = dispatcher_.acl_check(*run_->caller->user, *spec, argv_, pos) == acl::Verdict::kOk;
  }
  lua_pushboolean(L, ok ? 1 : 0);
  return 1;
}

void Engine::on_hook(lua_State* L) {
  RunState* run = run_;
  if (run == nullptr) return;
  if (!run->timed_out) {
    const int64_t elapsed_ms = (base::monotonic_us() - run->start_us) / 1000;
    const long long threshold = state_.settings().busy_reply_threshold;
    if (threshold <= 0 || elapsed_ms < threshold) return;
    spdlog::warn(
        "Slow script detected: still in execution after {} milliseconds. You can try killing the "
        "script using the {} command. Script name is: {}.",
        elapsed_ms, run->eval_mode ? "SCRIPT KILL" : "FUNCTION KILL", run->name);
    run->timed_out = true;
    run->command_copy.assign(run->command.begin(), run->command.end());
    // Its client must outlive the script while others are served.
    run->caller->protected_from_close = true;
  }
  if (state_.loop != nullptr) state_.loop->process_events_while_blocked();
  if (run->killed) {
    spdlog::warn("Lua script killed by user with SCRIPT KILL.");
    // Every line from now on raises again, so that pcall cannot keep it alive.
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    push_error_table(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

void Engine::kill(cmd::Context& ctx, bool eval) {
  if (run_ == nullptr) return ctx.rb.error("NOTBUSY No scripts in execution right now.");
  if (run_->caller->repl_role == server::ReplRole::kMaster)
    return ctx.rb.error(
        "UNKILLABLE The busy script was sent by a master instance in the context of replication "
        "and cannot be killed.");
  if (run_->write_dirty)
    return ctx.rb.error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
        "can either wait the script termination or kill the server in a hard way using the "
        "SHUTDOWN NOSAVE command.");
  if (eval && !run_->eval_mode) return ctx.rb.error(kBusyFunction);
  if (!eval && run_->eval_mode) return ctx.rb.error(kBusyEval);
  run_->killed = true;
  ctx.rb.ok();
}

bool Engine::run_is_eval() const { return run_ != nullptr && run_->eval_mode; }
std::string_view Engine::run_name() const { return run_->name; }
std::vector<std::string_view> Engine::run_command() const {
  if (run_->timed_out) return {run_->command_copy.begin(), run_->command_copy.end()};
  return {run_->command.begin(), run_->command.end()};
}
long long Engine::run_duration_ms() const { return (base::monotonic_us() - run_->start_us) / 1000; }

void Engine::abort_for_shutdown() {
  if (run_ != nullptr) run_->killed = true;
}

}  // namespace setd::script
