// Replication commands: REPLICAOF / SLAVEOF, SYNC / PSYNC, REPLCONF, ROLE,
// WAIT. The work is the repl module's (repl/replication.hpp); these parse
// arguments and reply as Redis 7.0 does.
#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"
#include "setd/repl/replication.hpp"

namespace setd::cmd {

namespace {

void replicaof_cmd(Context& ctx) {
  auto& repl = ctx.dispatcher.replication();
  const std::string who = client_info_line(ctx.client, base::now_ms());
  if (is(ctx.arg(1), "no") && is(ctx.arg(2), "one")) {
    repl.replicaof_no_one(who);
    ctx.rb.ok();
    return;
  }
  if (ctx.client.repl_role == server::ReplRole::kReplica) {
    ctx.rb.error("ERR Command is not valid when client is a replica.");
    return;
  }
  long long port = 0;
  if (!base::string_to_ll(ctx.arg(2), port) || port < 0 || port > 65535) {
    ctx.rb.error("ERR Invalid master port");
    return;
  }
  bool already = false;
  repl.replicaof(std::string(ctx.arg(1)), static_cast<int>(port), who, &already);
  if (already) {
    ctx.rb.simple("OK Already connected to specified master");
    return;
  }
  ctx.rb.ok();
}

void sync_cmd(Context& ctx) { ctx.dispatcher.replication().sync_command(ctx.client, ctx.args); }

void replconf_cmd(Context& ctx) { ctx.dispatcher.replication().replconf(ctx.client, ctx.args); }

void role_cmd(Context& ctx) { ctx.dispatcher.replication().role_reply(ctx.rb); }

void wait_cmd(Context& ctx) {
  auto& repl = ctx.dispatcher.replication();
  if (repl.is_replica()) {
    ctx.rb.error(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
        "if a replica is configured to be writable (which is not the default) writes to replicas "
        "are just local and are not propagated.");
    return;
  }
  long long numreplicas = 0;
  if (!base::string_to_ll(ctx.arg(1), numreplicas)) {
    ctx.not_integer();
    return;
  }
  long long timeout = 0;
  if (!base::string_to_ll(ctx.arg(2), timeout)) {
    ctx.rb.error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.rb.error("ERR timeout is negative");
    return;
  }
  // Inside EXEC a client cannot block: the count is what it is now.
  repl.wait_command(ctx.client, numreplicas, timeout,
                    !ctx.dispatcher.in_exec() && ctx.client.transport != nullptr);
}

}  // namespace

void register_replication_commands(Registry& r) {
  const std::string of_args = "(args= (host-port= host port:integer) | (no-one= NO ONE))";
  r.add({.name = "replicaof",
         .arity = 3,
         .flags = "admin noscript stale no_async_loading",
         .handler = replicaof_cmd,
         .doc = {"Make the server a replica of another instance, or promote it as master.", "5.0.0",
                 "server", "O(1)", of_args}});
  r.add({.name = "slaveof",
         .arity = 3,
         .flags = "admin noscript stale no_async_loading",
         .handler = replicaof_cmd,
         .doc = {"Make the server a replica of another instance, or promote it as master.",
                 "1.0.0",
                 "server",
                 "O(1)",
                 of_args,
                 {},
                 {"deprecated"},
                 "5.0.0",
                 "`REPLICAOF`"}});
  r.add({.name = "sync",
         .arity = 1,
         .flags = "admin noscript no_async_loading no_multi",
         .handler = sync_cmd,
         .doc = {"Internal command used for replication", "1.0.0", "server", "", ""}});
  r.add({.name = "psync",
         .arity = -3,
         .flags = "admin noscript no_async_loading no_multi",
         .handler = sync_cmd,
         .doc = {"Internal command used for replication", "2.8.0", "server", "",
                 "replicationid offset:integer"}});
  r.add({.name = "replconf",
         .arity = -1,
         .flags = "admin noscript loading stale allow_busy",
         .handler = replconf_cmd,
         .doc = {"An internal command for configuring the replication stream",
                 "3.0.0",
                 "server",
                 "O(1)",
                 "",
                 {},
                 {"syscmd"}}});
  r.add({.name = "role",
         .arity = 1,
         .flags = "noscript loading stale fast",
         .acl = "@admin @dangerous",
         .handler = role_cmd,
         .doc = {"Return the role of the instance in the context of replication", "2.8.12",
                 "server", "O(1)", ""}});
  r.add({.name = "wait",
         .arity = 3,
         .flags = "noscript",
         .acl = "@connection",
         .handler = wait_cmd,
         .doc = {"Wait for the synchronous replication of all the write commands sent in the "
                 "context of the current connection",
                 "3.0.0", "generic", "O(1)", "numreplicas:integer timeout:integer"},
         .tips = {"request_policy:all_shards", "response_policy:agg_min"}});
}

}  // namespace setd::cmd
