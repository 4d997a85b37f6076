// The scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT,
// FCALL, FCALL_RO and FUNCTION (one registration table, like every family
// in module cmd; this one lives in module script, above cmd).
#include <lua.hpp>

#include "setd/cmd/util.hpp"
#include "setd/script/engine.hpp"
#include "setd/script/functions.hpp"

namespace setd::script {

namespace {

Engine& engine(cmd::Context& ctx) { return static_cast<Engine&>(*ctx.server.scripts); }

void eval_cmd(cmd::Context& ctx) { engine(ctx).eval(ctx, false, false); }
void eval_ro_cmd(cmd::Context& ctx) { engine(ctx).eval(ctx, false, true); }
void evalsha_cmd(cmd::Context& ctx) { engine(ctx).eval(ctx, true, false); }
void evalsha_ro_cmd(cmd::Context& ctx) { engine(ctx).eval(ctx, true, true); }

void script_help(cmd::Context& ctx) {
  cmd::reply_help(
      ctx, "script",
      {"DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed.",
       "EXISTS <sha1> [<sha1> ...]",
       "    Return information about the existence of the scripts in the script cache.",
       "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
       "    When called without the optional mode argument, the behavior is determined by the",
       "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
       "    * ASYNC: Asynchronously flush the scripts cache.",
       "    * SYNC: Synchronously flush the scripts cache.", "KILL",
       "    Kill the currently executing Lua script.", "LOAD <script>",
       "    Load a script into the scripts cache without executing it."});
}

void script_flush(cmd::Context& ctx) {
  if (ctx.argc() > 3 ||
      (ctx.argc() == 3 && !cmd::is(ctx.arg(2), "SYNC") && !cmd::is(ctx.arg(2), "ASYNC")))
    return ctx.rb.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  engine(ctx).script_flush();
  ctx.rb.ok();
}

void script_exists(cmd::Context& ctx) {
  ctx.rb.array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) ctx.rb.integer(engine(ctx).script_exists(ctx.arg(i)));
}

void script_load(cmd::Context& ctx) {
  const std::string sha = engine(ctx).script_load(ctx, ctx.arg(2));
  if (!sha.empty()) ctx.rb.bulk(sha);
}

void script_kill(cmd::Context& ctx) { engine(ctx).kill(ctx, true); }

void script_debug(cmd::Context& ctx) {
  // The Lua debugger (ldb) is not part of setd.
  if (cmd::is(ctx.arg(2), "NO")) return ctx.rb.ok();
  if (!cmd::is(ctx.arg(2), "YES") && !cmd::is(ctx.arg(2), "SYNC"))
    return ctx.rb.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  ctx.rb.error("ERR SCRIPT DEBUG is not supported by setd: the Lua debugger is not available");
}

void fcall_cmd(cmd::Context& ctx) { engine(ctx).functions().fcall(ctx, false); }
void fcall_ro_cmd(cmd::Context& ctx) { engine(ctx).functions().fcall(ctx, true); }
void function_load(cmd::Context& ctx) { engine(ctx).functions().cmd_load(ctx); }
void function_list(cmd::Context& ctx) { engine(ctx).functions().cmd_list(ctx); }
void function_delete(cmd::Context& ctx) { engine(ctx).functions().cmd_delete(ctx); }
void function_flush(cmd::Context& ctx) { engine(ctx).functions().cmd_flush(ctx); }
void function_dump(cmd::Context& ctx) { engine(ctx).functions().cmd_dump(ctx); }
void function_restore(cmd::Context& ctx) { engine(ctx).functions().cmd_restore(ctx); }
void function_stats(cmd::Context& ctx) { engine(ctx).functions().cmd_stats(ctx); }
void function_kill(cmd::Context& ctx) { engine(ctx).kill(ctx, false); }

void function_help(cmd::Context& ctx) {
  cmd::reply_help(
      ctx, "function",
      {"LOAD [REPLACE] <FUNCTION CODE>",
       "    Create a new library with the given library name and code.",
       "DELETE <LIBRARY NAME>",
       "    Delete the given library.",
       "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
       "    Return general information on all the libraries:",
       "    * Library name",
       "    * The engine used to run the Library",
       "    * Library description",
       "    * Functions list",
       "    * Library code (if WITHCODE is given)",
       "    It also possible to get only function that matches a pattern using LIBRARYNAME "
       "argument.",
       "STATS",
       "    Return information about the current function running:",
       "    * Function name",
       "    * Command used to run the function",
       "    * Duration in MS that the function is running",
       "    If no function is running, return nil",
       "    In addition, returns a list of available engines.",
       "KILL",
       "    Kill the current running function.",
       "FLUSH [ASYNC|SYNC]",
       "    Delete all the libraries.",
       "    When called without the optional mode argument, the behavior is determined by the",
       "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
       "    * ASYNC: Asynchronously flush the libraries.",
       "    * SYNC: Synchronously flush the libraries.",
       "DUMP",
       "    Return a serialized payload representing the current libraries, can be restored "
       "using FUNCTION RESTORE command",
       "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
       "    Restore the libraries represented by the given payload, it is possible to give a "
       "restore policy to",
       "    control how to handle existing libraries (default APPEND):",
       "    * FLUSH: delete all existing libraries.",
       "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
       "abort.",
       "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
       "replace the old",
       "      libraries with the new libraries (notice that even on this option there is a "
       "chance of failure",
       "      in case of functions name collision with another library)."});
}

// EVAL-like commands: script/function, numkeys, keys, args.
cmd::KeySpec script_keys(bool ro) {
  cmd::KeySpec k;
  k.flags = ro ? "RO access" : "RW access update";
  k.begin_index = 2;
  k.keynum = true;
  k.keynumidx = 0;
  k.firstkey = 1;
  k.keystep = 1;
  return k;
}

cmd::CommandSpec eval_like(std::string name, bool ro, cmd::Handler h, std::string summary,
                           std::string since, std::string complexity, std::string first,
                           bool notes) {
  auto s = cmd::make_command(
      std::move(name), -3,
      ro ? "readonly noscript stale skip_monitor no_mandatory_keys movablekeys"
         : "noscript stale skip_monitor may_replicate no_mandatory_keys movablekeys",
      h, "scripting", std::move(summary), std::move(since), std::move(complexity),
      first + " numkeys:integer [key...] [arg...]", "@scripting");
  auto k = script_keys(ro);
  if (notes)
    k.notes = ro ? "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
                 : "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
  s.keys = {k};
  return s;
}

cmd::CommandSpec script_sub(std::string name, int arity, std::string flags, cmd::Handler h,
                            std::string summary, std::string since, std::string complexity,
                            std::string args = "") {
  return cmd::make_command("script|" + name, arity, std::move(flags), h, "scripting",
                           std::move(summary), std::move(since), std::move(complexity),
                           std::move(args), "@scripting");
}

cmd::CommandSpec function_sub(std::string name, int arity, std::string flags, cmd::Handler h,
                              std::string summary, std::string complexity, std::string args = "") {
  return cmd::make_command("function|" + name, arity, std::move(flags), h, "scripting",
                           std::move(summary), "7.0.0", std::move(complexity), std::move(args),
                           "@scripting");
}

void register_script_commands(cmd::Registry& r) {
  const std::string eval_cost = "Depends on the script that is executed.";
  r.add(eval_like("eval", false, eval_cmd, "Execute a Lua script server side", "2.6.0", eval_cost,
                  "script", true));
  r.add(eval_like("eval_ro", true, eval_ro_cmd, "Execute a read-only Lua script server side",
                  "7.0.0", eval_cost, "script", true));
  r.add(eval_like("evalsha", false, evalsha_cmd, "Execute a Lua script server side", "2.6.0",
                  eval_cost, "sha1", false));
  r.add(eval_like("evalsha_ro", true, evalsha_ro_cmd, "Execute a read-only Lua script server side",
                  "7.0.0", eval_cost, "sha1", false));
  const std::string fcall_cost = "Depends on the function that is executed.";
  r.add(eval_like("fcall", false, fcall_cmd, "Invoke a function", "7.0.0", fcall_cost, "function",
                  true));
  r.add(eval_like("fcall_ro", true, fcall_ro_cmd, "Invoke a read-only function", "7.0.0",
                  fcall_cost, "function", true));

  cmd::CommandSpec script{.name = "script",
                          .arity = -2,
                          .flags = "",
                          .acl = "",
                          .handler = nullptr,
                          .doc = {"A container for Lua scripts management commands", "2.6.0",
                                  "scripting", "Depends on subcommand.", ""}};
  auto flush = script_sub(
      "flush", -2, "noscript", script_flush, "Remove all the scripts from the script cache.",
      "2.6.0", "O(N) with N being the number of scripts in cache", "[async= ASYNC | SYNC]@6.2.0");
  flush.doc.history = {{"6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."}};
  flush.tips = {"request_policy:all_nodes", "response_policy:all_succeeded"};
  auto exists = script_sub("exists", -3, "noscript", script_exists,
                           "Check existence of scripts in the script cache.", "2.6.0",
                           "O(N) with N being the number of scripts to check (so checking a "
                           "single script is an O(1) operation).",
                           "sha1...");
  exists.tips = {"request_policy:all_shards", "response_policy:agg_logical_and"};
  auto kill = script_sub("kill", 2, "noscript allow_busy", script_kill,
                         "Kill the script currently in execution.", "2.6.0", "O(1)");
  kill.tips = {"request_policy:all_shards", "response_policy:one_succeeded"};
  auto load = script_sub("load", 3, "noscript stale", script_load,
                         "Load the specified Lua script into the script cache.", "2.6.0",
                         "O(N) with N being the length in bytes of the script body.", "script");
  load.tips = {"request_policy:all_nodes", "response_policy:all_succeeded"};
  script.subcommands = {
      std::move(flush),
      std::move(exists),
      script_sub("debug", 3, "noscript", script_debug, "Set the debug mode for executed scripts.",
                 "3.2.0", "O(1)", "(mode= YES | SYNC | NO)"),
      std::move(kill),
      script_sub("help", 2, "loading stale", script_help,
                 "Show helpful text about the different subcommands", "5.0.0", "O(1)"),
      std::move(load),
  };
  r.add(std::move(script));

  cmd::CommandSpec function{.name = "function",
                            .arity = -2,
                            .flags = "",
                            .acl = "",
                            .handler = nullptr,
                            .doc = {"A container for function commands", "7.0.0", "scripting",
                                    "Depends on subcommand.", ""}};
  const std::vector<std::string> all_shards_ok = {"request_policy:all_shards",
                                                  "response_policy:all_succeeded"};
  auto restore = function_sub("restore", -3, "write denyoom noscript", function_restore,
                              "Restore all the functions on the given payload",
                              "O(N) where N is the number of functions on the payload",
                              "serialized-value [policy= FLUSH | APPEND | REPLACE]");
  restore.tips = all_shards_ok;
  auto del = function_sub("delete", 3, "write noscript", function_delete,
                          "Delete a function by name", "O(1)", "library-name");
  del.tips = all_shards_ok;
  auto fflush =
      function_sub("flush", -2, "write noscript", function_flush, "Deleting all functions",
                   "O(N) where N is the number of functions deleted", "[async= ASYNC | SYNC]");
  fflush.tips = all_shards_ok;
  auto stats = function_sub(
      "stats", 2, "noscript allow_busy", function_stats,
      "Return information about the function currently running (name, description, duration)",
      "O(1)");
  stats.tips = {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"};
  auto list = function_sub(
      "list", -2, "noscript", function_list, "List information about all the functions",
      "O(N) where N is the number of functions", "[LIBRARYNAME library-name-pattern] [WITHCODE]");
  list.tips = {"nondeterministic_output_order"};
  auto fkill = function_sub("kill", 2, "noscript allow_busy", function_kill,
                            "Kill the function currently in execution.", "O(1)");
  fkill.tips = {"request_policy:all_shards", "response_policy:one_succeeded"};
  auto fload =
      function_sub("load", -3, "write denyoom noscript", function_load,
                   "Create a function with the given arguments (name, code, description)",
                   "O(1) (considering compilation time is redundant)", "[REPLACE] function-code");
  fload.tips = all_shards_ok;
  function.subcommands = {
      std::move(restore),
      function_sub("help", 2, "loading stale", function_help,
                   "Show helpful text about the different subcommands", "O(1)"),
      std::move(del),
      std::move(fflush),
      std::move(stats),
      std::move(list),
      std::move(fkill),
      function_sub("dump", 2, "noscript", function_dump,
                   "Dump all functions into a serialized binary payload",
                   "O(N) where N is the number of functions"),
      std::move(fload),
  };
  r.add(std::move(function));
}

}  // namespace

std::unique_ptr<Engine> install(cmd::Dispatcher& dispatcher) {
  auto engine = std::make_unique<Engine>(dispatcher);
  register_script_commands(dispatcher.mutable_registry());
  return engine;
}

}  // namespace setd::script
