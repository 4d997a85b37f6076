// Connection commands: PING, ECHO, QUIT, RESET, HELLO, SELECT, CLIENT.
#include <string>

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

// Client and library names: printable ASCII without spaces ('!'..'~').
bool valid_name(std::string_view name) {
  for (unsigned char c : name)
    if (c < '!' || c > '~') return false;
  return true;
}

void ping(Context& ctx) {
  if (ctx.argc() > 2) {
    ctx.wrong_args();
    return;
  }
  if (ctx.client.in_pubsub_mode()) {
    ctx.rb.array(2);
    ctx.rb.bulk("pong");
    ctx.rb.bulk(ctx.argc() == 2 ? ctx.arg(1) : std::string_view());
    return;
  }
  if (ctx.argc() == 2)
    ctx.rb.bulk(ctx.arg(1));
  else
    ctx.rb.simple("PONG");
}

void echo(Context& ctx) { ctx.rb.bulk(ctx.arg(1)); }

void quit(Context& ctx) {
  ctx.rb.ok();
  ctx.client.close_after_reply = true;
}

void reset(Context& ctx) {
  auto& c = ctx.client;
  c.in_multi = false;
  c.multi_error = false;
  c.dirty_cas = false;
  c.multi_queue.clear();
  ctx.server.unwatch_all(c);
  ctx.server.drop_subscriptions(c);
  ctx.server.tracking().disable(c);
  c.set_resp(2);
  c.db = 0;
  c.name.clear();
  c.reply_mode = server::ReplyMode::kOn;
  if (c.monitor) ctx.server.remove_monitor(c);
  // Back to the default user, authenticated only if it needs no password.
  c.user = &ctx.server.users().default_user();
  c.authenticated = !ctx.server.users().auth_required_by_default();
  ctx.rb.simple("RESET");
}

void select(Context& ctx) {
  long long index = 0;
  if (!parse_ll(ctx, ctx.arg(1), index)) return;
  if (index < 0 || index >= ctx.server.db_count()) {
    ctx.rb.error("ERR DB index is out of range");
    return;
  }
  ctx.client.db = static_cast<int>(index);
  ctx.rb.ok();
}

void hello(Context& ctx) {
  long long ver = 0;
  size_t i = 1;
  if (ctx.argc() >= 2) {
    if (!base::string_to_ll(ctx.arg(1), ver)) {
      ctx.rb.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      ctx.rb.error("NOPROTO unsupported protocol version");
      return;
    }
    i = 2;
  }
  // Options take effect in order, as in Redis: a name set before a failing
  // AUTH (or before the NOAUTH refusal) stays.
  for (; i < ctx.argc(); ++i) {
    const bool more = i + 1 < ctx.argc();
    if (is(ctx.arg(i), "AUTH") && i + 2 < ctx.argc()) {
      ctx.redact(i + 1);
      ctx.redact(i + 2);
      if (!authenticate(ctx, ctx.arg(i + 1), ctx.arg(i + 2))) {
        ctx.rb.error("WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      i += 2;
    } else if (is(ctx.arg(i), "SETNAME") && more) {
      if (!valid_name(ctx.arg(i + 1))) {
        ctx.rb.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
      ctx.client.name = std::string(ctx.arg(i + 1));
      ++i;
    } else {
      ctx.rb.error("ERR Syntax error in HELLO option '" + std::string(ctx.arg(i)) + "'");
      return;
    }
  }
  if (!ctx.client.authenticated) {
    ctx.rb.error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");
    return;
  }
  if (ver) ctx.client.set_resp(static_cast<int>(ver));
  auto& rb = ctx.rb;
  rb.map(7);
  rb.bulk("server");
  rb.bulk("redis");
  rb.bulk("version");
  rb.bulk(server::kRedisCompatVersion);
  rb.bulk("proto");
  rb.integer(ctx.client.resp());
  rb.bulk("id");
  rb.integer(static_cast<long long>(ctx.client.id()));
  rb.bulk("mode");
  rb.bulk("standalone");
  rb.bulk("role");
  rb.bulk("master");
  rb.bulk("modules");
  rb.array(0);
}

// --- CLIENT ---------------------------------------------------------------

void client_id(Context& ctx) { ctx.rb.integer(static_cast<long long>(ctx.client.id())); }

void client_getname(Context& ctx) {
  if (ctx.client.name.empty())
    ctx.rb.null();
  else
    ctx.rb.bulk(ctx.client.name);
}

void client_setname(Context& ctx) {
  if (!valid_name(ctx.arg(2))) {
    ctx.rb.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  ctx.client.name = std::string(ctx.arg(2));
  ctx.rb.ok();
}

void client_setinfo(Context& ctx) {
  const auto attr = ctx.arg(2);
  const bool is_name = is(attr, "lib-name");
  if (!is_name && !is(attr, "lib-ver")) {
    ctx.rb.error("ERR Unrecognized option '" + std::string(attr) + "'");
    return;
  }
  if (!valid_name(ctx.arg(3))) {
    ctx.rb.error(std::string("ERR ") + (is_name ? "lib-name" : "lib-ver") +
                 " cannot contain spaces, newlines or special characters.");
    return;
  }
  (is_name ? ctx.client.lib_name : ctx.client.lib_ver) = std::string(ctx.arg(3));
  ctx.rb.ok();
}

void client_info(Context& ctx) {
  ctx.rb.verbatim(client_info_line(ctx.client, base::now_ms()) + "\n");
}

enum class ClientType { kAny, kNormal, kPubSub, kMaster, kReplica };

bool parse_client_type(Context& ctx, std::string_view arg, ClientType& out) {
  if (is(arg, "normal"))
    out = ClientType::kNormal;
  else if (is(arg, "pubsub"))
    out = ClientType::kPubSub;
  else if (is(arg, "master"))
    out = ClientType::kMaster;
  else if (is(arg, "replica") || is(arg, "slave"))
    out = ClientType::kReplica;
  else {
    ctx.rb.error("ERR Unknown client type '" + std::string(arg) + "'");
    return false;
  }
  return true;
}

bool type_matches(const server::Client& c, ClientType t) {
  switch (t) {
    case ClientType::kAny:
      return true;
    case ClientType::kNormal:
      return c.repl_role == server::ReplRole::kNone && c.subscriptions() == 0;
    case ClientType::kPubSub:
      return c.repl_role == server::ReplRole::kNone && c.subscriptions() > 0;
    case ClientType::kMaster:
      return c.repl_role == server::ReplRole::kMaster;
    case ClientType::kReplica:
      return c.repl_role == server::ReplRole::kReplica;
  }
  return false;
}

void client_list(Context& ctx) {
  ClientType type = ClientType::kAny;
  std::vector<uint64_t> ids;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (is(ctx.arg(i), "TYPE") && i + 1 < ctx.argc()) {
      if (!parse_client_type(ctx, ctx.arg(++i), type)) return;
    } else if (is(ctx.arg(i), "ID") && i + 1 < ctx.argc()) {
      for (++i; i < ctx.argc(); ++i) {
        long long id = 0;
        if (!base::string_to_ll(ctx.arg(i), id) || id <= 0) {
          ctx.rb.error("ERR Invalid client ID");
          return;
        }
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else {
      ctx.syntax_error();
      return;
    }
  }
  const int64_t now = base::now_ms();
  std::string text;
  for (const auto& [id, c] : ctx.server.clients()) {
    if (!type_matches(*c, type)) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    text += client_info_line(*c, now);
    text += '\n';
  }
  ctx.rb.verbatim(text);
}

void kill_client(server::ServerState& state, server::Client& target) {
  state.close_async(target, server::CloseReason::kKilled);
}

void client_kill(Context& ctx) {
  if (ctx.argc() == 3) {  // old form: CLIENT KILL ip:port
    for (const auto& [id, c] : ctx.server.clients()) {
      if (c->killed) continue;  // gone already for Redis, which frees at once
      if (c->addr == ctx.arg(2)) {
        if (c.get() == &ctx.client)
          ctx.client.close_after_reply = true;
        else
          kill_client(ctx.server, *c);
        ctx.rb.ok();
        return;
      }
    }
    ctx.rb.error("ERR No such client");
    return;
  }
  uint64_t id = 0;
  std::string_view addr, laddr;
  bool has_addr = false, has_laddr = false, skipme = true;
  const acl::User* user = nullptr;
  ClientType type = ClientType::kAny;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    if (i + 1 >= ctx.argc()) {
      ctx.syntax_error();
      return;
    }
    const auto opt = ctx.arg(i);
    const auto val = ctx.arg(i + 1);
    if (is(opt, "ID")) {
      long long v = 0;
      if (!base::string_to_ll(val, v) || v <= 0) {
        ctx.rb.error("ERR client-id should be greater than 0");
        return;
      }
      id = static_cast<uint64_t>(v);
    } else if (is(opt, "TYPE")) {
      if (!parse_client_type(ctx, val, type)) return;
    } else if (is(opt, "ADDR")) {
      addr = val;
      has_addr = true;
    } else if (is(opt, "LADDR")) {
      laddr = val;
      has_laddr = true;
    } else if (is(opt, "USER")) {
      user = ctx.server.users().find(val);
      if (user == nullptr) {
        ctx.rb.error("ERR No such user '" + std::string(val) + "'");
        return;
      }
    } else if (is(opt, "SKIPME")) {
      if (is(val, "yes"))
        skipme = true;
      else if (is(val, "no"))
        skipme = false;
      else {
        ctx.syntax_error();
        return;
      }
    } else {
      ctx.syntax_error();
      return;
    }
  }
  long long killed = 0;
  for (const auto& [cid, c] : ctx.server.clients()) {
    if (c->killed) continue;  // gone already for Redis, which frees at once
    if (id && cid != id) continue;
    if (has_addr && c->addr != addr) continue;
    if (has_laddr && c->laddr != laddr) continue;
    if (user && c->user != user) continue;
    if (!type_matches(*c, type)) continue;
    if (c.get() == &ctx.client) {
      if (skipme) continue;
      ctx.client.close_after_reply = true;
    } else {
      kill_client(ctx.server, *c);
    }
    ++killed;
  }
  ctx.rb.integer(killed);
}

void client_reply(Context& ctx) {
  const auto mode = ctx.arg(2);
  if (is(mode, "ON")) {
    ctx.client.reply_mode = server::ReplyMode::kOn;
    ctx.rb.ok();
  } else if (is(mode, "OFF")) {
    ctx.client.reply_mode = server::ReplyMode::kOff;
  } else if (is(mode, "SKIP")) {
    if (ctx.client.reply_mode != server::ReplyMode::kOff)
      ctx.client.reply_mode = server::ReplyMode::kSkipNext;
  } else {
    ctx.syntax_error();
  }
}

// CLIENT PAUSE timeout [WRITE|ALL]: holds every client's commands (ALL) or
// those that may write (WRITE) for `timeout` ms; a pause in force is only
// ever extended or made stricter.
void client_pause(Context& ctx) {
  if (ctx.argc() > 4) return subcommand_syntax_error(ctx);
  server::PauseType type = server::PauseType::kAll;
  if (ctx.argc() == 4) {
    if (is(ctx.arg(3), "WRITE"))
      type = server::PauseType::kWrite;
    else if (!is(ctx.arg(3), "ALL"))
      return ctx.rb.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  long long timeout = 0;
  if (!base::string_to_ll(ctx.arg(2), timeout))
    return ctx.rb.error("ERR timeout is not an integer or out of range");
  if (timeout < 0) return ctx.rb.error("ERR timeout is negative");
  // As Redis's getTimeoutFromObjectOrReply: 0 stays 0 (a pause already
  // over), and the sum wraps as Redis's does.
  const auto end = timeout > 0 ? static_cast<int64_t>(static_cast<uint64_t>(timeout) +
                                                      static_cast<uint64_t>(base::now_ms()))
                               : 0;
  ctx.server.pause_clients(end, type);
  ctx.rb.ok();
}

// CLIENT UNPAUSE: ends the pause; the clients it held run.
void client_unpause(Context& ctx) {
  ctx.server.unpause_clients();
  ctx.rb.ok();
}

// CLIENT NO-EVICT ON|OFF: the client is never (or again) a victim of
// maxmemory-clients.
void client_no_evict(Context& ctx) {
  if (is(ctx.arg(2), "ON")) {
    ctx.client.no_evict = true;
  } else if (is(ctx.arg(2), "OFF")) {
    ctx.client.no_evict = false;
  } else {
    ctx.syntax_error();
    return;
  }
  ctx.server.note_client_memory(ctx.client);
  ctx.rb.ok();
}

// --- Client-side caching (Redis's networking.c and tracking.c) ------------

// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT]
// [NOLOOP]: the options are parsed first (REDIRECT's client must exist
// now), then checked against each other and against the client's mode.
void client_tracking(Context& ctx) {
  auto& c = ctx.client;
  auto& tracking = ctx.server.tracking();
  server::Tracking::Options o;
  long long redirect = 0;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    const std::string_view a = ctx.arg(j);
    if (is(a, "redirect") && more) {
      ++j;
      if (redirect != 0)
        return ctx.rb.error("ERR A client can only redirect to a single other client");
      if (!parse_ll(ctx, ctx.arg(j), redirect)) return;
      if (redirect <= 0 || ctx.server.find_client(static_cast<uint64_t>(redirect)) == nullptr)
        return ctx.rb.error("ERR The client ID you want redirect to does not exist");
    } else if (is(a, "bcast")) {
      o.bcast = true;
    } else if (is(a, "optin")) {
      o.optin = true;
    } else if (is(a, "optout")) {
      o.optout = true;
    } else if (is(a, "noloop")) {
      o.noloop = true;
    } else if (is(a, "prefix") && more) {
      o.prefixes.push_back(ctx.arg(++j));
    } else {
      return ctx.syntax_error();
    }
  }
  o.redirect = static_cast<uint64_t>(redirect);
  if (is(ctx.arg(2), "off")) {
    tracking.disable(c);
    return ctx.rb.ok();
  }
  if (!is(ctx.arg(2), "on")) return ctx.syntax_error();
  if (!o.bcast && !o.prefixes.empty())
    return ctx.rb.error("ERR PREFIX option requires BCAST mode to be enabled");
  if (c.tracking.on && c.tracking.bcast != o.bcast)
    return ctx.rb.error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
  if (o.bcast && (o.optin || o.optout))
    return ctx.rb.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
  if (o.optin && o.optout)
    return ctx.rb.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if ((o.optin && c.tracking.optout) || (o.optout && c.tracking.optin))
    return ctx.rb.error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
  if (o.bcast) {
    bool enable_anyway = false;
    if (auto err = tracking.prefix_collision(c, o.prefixes, enable_anyway)) {
      ctx.rb.error(*err);
      // Redis 7.0 goes on when the overlap is between two given prefixes
      // past the first: tracking is enabled and +OK follows the error.
      if (!enable_anyway) return;
    }
  }
  tracking.enable(c, o);
  ctx.rb.ok();
}

// CLIENT CACHING YES|NO: the next command is (OPTIN) or is not (OPTOUT)
// tracked.
void client_caching(Context& ctx) {
  auto& t = ctx.client.tracking;
  if (!t.on)
    return ctx.rb.error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
  if (is(ctx.arg(2), "yes")) {
    if (!t.optin)
      return ctx.rb.error(
          "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (is(ctx.arg(2), "no")) {
    if (!t.optout)
      return ctx.rb.error(
          "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    return ctx.syntax_error();
  }
  t.caching = true;
  ctx.rb.ok();
}

// CLIENT GETREDIR: the redirect client's id, 0 without one, -1 when not
// tracking.
void client_getredir(Context& ctx) {
  const auto& t = ctx.client.tracking;
  ctx.rb.integer(t.on ? static_cast<long long>(t.redirect) : -1);
}

// CLIENT TRACKINGINFO: flags (a set), redirect, prefixes.
void client_trackinginfo(Context& ctx) {
  const auto& t = ctx.client.tracking;
  auto& rb = ctx.rb;
  rb.map(3);
  rb.bulk("flags");
  std::vector<std::string_view> flags{t.on ? "on" : "off"};
  if (t.bcast) flags.push_back("bcast");
  if (t.optin) {
    flags.push_back("optin");
    if (t.caching) flags.push_back("caching-yes");
  }
  if (t.optout) {
    flags.push_back("optout");
    if (t.caching) flags.push_back("caching-no");
  }
  if (t.noloop) flags.push_back("noloop");
  if (t.broken_redirect) flags.push_back("broken_redirect");
  rb.set(flags.size());
  for (const std::string_view f : flags) rb.bulk(f);
  rb.bulk("redirect");
  rb.integer(t.on ? static_cast<long long>(t.redirect) : -1);
  rb.bulk("prefixes");
  rb.array(t.prefixes.size());
  for (const std::string& p : t.prefixes) rb.bulk(p);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: setd has no blocking commands, so no
// client is ever blocked: 0 once the arguments parse. Redis checks the
// reason before the id.
void client_unblock(Context& ctx) {
  if (ctx.argc() > 4) {
    subcommand_syntax_error(ctx);
    return;
  }
  if (ctx.argc() == 4 && !is(ctx.arg(3), "TIMEOUT") && !is(ctx.arg(3), "ERROR")) {
    ctx.rb.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    return;
  }
  long long id = 0;
  if (!parse_ll(ctx, ctx.arg(2), id)) return;
  ctx.rb.integer(0);
}

void client_help(Context& ctx) {
  reply_help(ctx, "client",
             {"CACHING (YES|NO)",
              "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
              "GETREDIR",
              "    Return the client ID we are redirecting to when tracking is enabled.",
              "GETNAME",
              "    Return the name of the current connection.",
              "ID",
              "    Return the ID of the current connection.",
              "INFO",
              "    Return information about the current client connection.",
              "KILL <ip:port>",
              "    Kill connection made from <ip:port>.",
              "KILL <option> <value> [<option> <value> [...]]",
              "    Kill connections. Options are:",
              "    * ADDR (<ip:port>|<unixsocket>:0)",
              "      Kill connections made from the specified address",
              "    * LADDR (<ip:port>|<unixsocket>:0)",
              "      Kill connections made to specified local address",
              "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
              "      Kill connections by type.",
              "    * USER <username>",
              "      Kill connections authenticated by <username>.",
              "    * SKIPME (YES|NO)",
              "      Skip killing current connection (default: yes).",
              "LIST [options ...]",
              "    Return information about client connections. Options:",
              "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
              "      Return clients of specified type.",
              "UNPAUSE",
              "    Stop the current client pause, resuming traffic.",
              "PAUSE <timeout> [WRITE|ALL]",
              "    Suspend all, or just write, clients for <timeout> milliseconds.",
              "REPLY (ON|OFF|SKIP)",
              "    Control the replies sent to the current connection.",
              "SETNAME <name>",
              "    Assign the name <name> to the current connection.",
              "SETINFO <LIB-NAME|LIB-VER> <value>",
              "    Set client meta attributes (library name and version).",
              "UNBLOCK <clientid> [TIMEOUT|ERROR]",
              "    Unblock the specified blocked client.",
              "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
              "         [OPTIN] [OPTOUT] [NOLOOP]",
              "    Control server assisted client side caching.",
              "TRACKINGINFO",
              "    Report tracking status for the current connection.",
              "NO-EVICT (ON|OFF)",
              "    Protect current client connection from eviction."});
}

CommandSpec client_sub(std::string name, int arity, std::string flags, Handler h,
                       std::string summary, std::string since, std::string args,
                       std::string complexity = "O(1)") {
  return make_command("client|" + name, arity, std::move(flags), h, "connection",
                      std::move(summary), std::move(since), std::move(complexity), std::move(args),
                      "@connection");
}

}  // namespace

void register_connection_commands(Registry& r) {
  r.add({.name = "ping",
         .arity = -1,
         .flags = "fast",
         .acl = "@connection",
         .handler = ping,
         .doc = {"Ping the server", "1.0.0", "connection", "O(1)", "[message]"},
         .tips = {"request_policy:all_shards", "response_policy:all_succeeded"}});
  r.add({.name = "echo",
         .arity = 2,
         .flags = "loading stale fast",
         .acl = "@connection",
         .handler = echo,
         .doc = {"Echo the given string", "1.0.0", "connection", "O(1)", "message"}});
  r.add({.name = "quit",
         .arity = -1,
         .flags = "allow_busy noscript loading stale fast no_auth",
         .acl = "@connection",
         .handler = quit,
         .doc = {"Close the connection", "1.0.0", "connection", "O(1)", ""}});
  r.add({.name = "reset",
         .arity = 1,
         .flags = "noscript loading stale fast no_auth allow_busy",
         .acl = "@connection",
         .handler = reset,
         .doc = {"Reset the connection", "6.2.0", "connection", "O(1)", ""}});
  r.add({.name = "select",
         .arity = 2,
         .flags = "loading stale fast",
         .acl = "@connection",
         .handler = select,
         .doc = {"Change the selected database for the current connection", "1.0.0", "connection",
                 "O(1)", "index:integer"}});
  r.add({.name = "hello",
         .arity = -1,
         .flags = "noscript loading stale fast no_auth allow_busy",
         .acl = "@connection",
         .handler = hello,
         .doc = {"Handshake with Redis",
                 "6.0.0",
                 "connection",
                 "O(1)",
                 "[arguments= protover:integer [username_password= AUTH username password] "
                 "[SETNAME clientname]]",
                 {{"6.2.0",
                   "`protover` made optional; when called without arguments the "
                   "command reports the current connection's context."}}}});

  CommandSpec client{.name = "client",
                     .arity = -2,
                     .flags = "",
                     .acl = "",
                     .handler = nullptr,
                     .doc = {"A container for client connection commands", "2.4.0", "connection",
                             "Depends on subcommand.", ""}};
  auto pause = client_sub("pause", -3, "admin noscript loading stale", client_pause,
                          "Stop processing commands from clients for some time", "2.9.50",
                          "timeout:integer [mode= WRITE | ALL]@6.2.0");
  pause.doc.history = {{"6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."}};
  auto info = client_sub("info", 2, "noscript loading stale", client_info,
                         "Returns information about the current client connection.", "6.2.0", "");
  info.tips = {"nondeterministic_output"};
  auto list = client_sub("list", -2, "admin noscript loading stale", client_list,
                         "Get the list of client connections", "2.4.0",
                         "[TYPE (normal_master_replica_pubsub= NORMAL | MASTER | REPLICA | "
                         "PUBSUB)]@5.0.0 [id= ID client-id:integer...]@6.2.0",
                         "O(N) where N is the number of client connections");
  list.doc.history = {
      {"2.8.12", "Added unique client `id` field."},
      {"5.0.0", "Added optional `TYPE` filter."},
      {"6.0.0", "Added `user` field."},
      {"6.2.0",
       "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."},
      {"7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."},
      {"7.0.3", "Added `ssub` field."}};
  list.tips = {"nondeterministic_output"};
  auto kill = client_sub(
      "kill", -3, "admin noscript loading stale", client_kill, "Kill the connection of a client",
      "2.4.0",
      "(filter= ip:port@deprecated:2.8.12 | (new-format= [ID client-id:integer]@2.8.12 | "
      "[TYPE (normal_master_slave_pubsub= NORMAL | MASTER@3.2.0 | SLAVE | REPLICA@5.0.0 | "
      "PUBSUB)]@2.8.12 | [USER username] | [ADDR ip:port] | [LADDR ip:port]@6.2.0 | "
      "[SKIPME yes/no])...)",
      "O(N) where N is the number of client connections");
  kill.doc.history = {{"2.8.12", "Added new filter format."},
                      {"2.8.12", "`ID` option."},
                      {"3.2.0", "Added `master` type in for `TYPE` option."},
                      {"5.0.0",
                       "Replaced `slave` `TYPE` with `replica`. `slave` still supported for "
                       "backward compatibility."},
                      {"6.2.0", "`LADDR` option."}};
  client.subcommands = {
      client_sub("id", 2, "noscript loading stale", client_id,
                 "Returns the client ID for the current connection", "5.0.0", ""),
      client_sub("getname", 2, "noscript loading stale", client_getname,
                 "Get the current connection name", "2.6.9", ""),
      client_sub("setname", 3, "noscript loading stale", client_setname,
                 "Set the current connection name", "2.6.9", "connection-name"),
      client_sub("setinfo", 4, "noscript loading stale", client_setinfo,
                 "Set client or connection specific info", "7.2.0",
                 "(attr= LIB-NAME libname | LIB-VER libver)"),
      std::move(info),
      std::move(list),
      std::move(kill),
      client_sub("reply", 3, "noscript loading stale", client_reply,
                 "Instruct the server whether to reply to commands", "3.2.0",
                 "(on_off_skip= ON | OFF | SKIP)"),
      std::move(pause),
      client_sub("unpause", 2, "admin noscript loading stale", client_unpause,
                 "Resume processing of clients that were paused", "6.2.0", "",
                 "O(N) Where N is the number of paused clients"),
      client_sub("no-evict", 3, "admin noscript loading stale", client_no_evict,
                 "Set client eviction mode for the current connection", "7.0.0",
                 "(enabled= ON | OFF)"),
      client_sub(
          "tracking", -3, "noscript loading stale", client_tracking,
          "Enable or disable server assisted client side caching support", "6.0.0",
          "(status= ON | OFF) [REDIRECT client-id:integer] [PREFIX prefix]... [BCAST] [OPTIN] "
          "[OPTOUT] [NOLOOP]",
          "O(1). Some options may introduce additional complexity."),
      client_sub("getredir", 2, "noscript loading stale", client_getredir,
                 "Get tracking notifications redirection client ID if any", "6.0.0", ""),
      client_sub("trackinginfo", 2, "noscript loading stale", client_trackinginfo,
                 "Return information about server assisted client side caching for the current "
                 "connection",
                 "6.2.0", ""),
      client_sub("caching", 3, "noscript loading stale", client_caching,
                 "Instruct the server about tracking or not keys in the next request", "6.0.0",
                 "(mode= YES | NO)"),
      client_sub("unblock", -3, "admin noscript loading stale", client_unblock,
                 "Unblock a client blocked in a blocking command from a different connection",
                 "5.0.0", "client-id:integer [timeout_error= TIMEOUT | ERROR]",
                 "O(log N) where N is the number of client connections"),
      client_sub("help", 2, "loading stale", client_help,
                 "Show helpful text about the different subcommands", "5.0.0", ""),
  };
  r.add(std::move(client));
}

}  // namespace setd::cmd
