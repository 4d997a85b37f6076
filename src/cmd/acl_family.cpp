// Security commands: AUTH and ACL (Redis 7.0's acl.c, with its texts).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "setd/acl/users.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/glob.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

bool authenticate(Context& ctx, std::string_view username, std::string_view password) {
  auto& users = ctx.server.users();
  acl::User* u = users.find(username);
  if (u != nullptr && u->check_password(password)) {
    ctx.client.user = u;
    ctx.client.authenticated = true;
    return true;
  }
  const int64_t now = base::now_ms();
  users.log(acl::LogReason::kAuth,
            ctx.client.in_multi ? acl::LogContext::kMulti : acl::LogContext::kToplevel,
            std::string(ctx.arg(0)), std::string(username), client_info_line(ctx.client, now), now);
  return false;
}

namespace {

void auth(Context& ctx) {
  if (ctx.argc() > 3) {
    ctx.syntax_error();
    return;
  }
  // Never shown by MONITOR or SLOWLOG, whatever the outcome.
  ctx.redact(1);
  if (ctx.argc() == 3) ctx.redact(2);
  std::string_view username = "default";
  std::string_view password;
  if (ctx.argc() == 2) {
    if (ctx.server.users().default_user().nopass()) {
      ctx.rb.error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
      return;
    }
    password = ctx.arg(1);
  } else {
    username = ctx.arg(1);
    password = ctx.arg(2);
  }
  if (authenticate(ctx, username, password))
    ctx.rb.ok();
  else
    ctx.rb.error("WRONGPASS invalid username-password pair or user is disabled.");
}

// Clients of `old` subscribed to a channel or pattern that `updated` no
// longer allows are disconnected (Redis's ACLKillPubsubClientsIfNeeded).
void kill_pubsub_clients_if_needed(Context& ctx, const acl::User& updated, const acl::User& old) {
  std::vector<acl::Pattern> allowed;
  if (!acl::Users::channels_narrowed(updated, old, allowed)) return;
  auto permitted = [&](std::string_view channel, bool is_pattern) {
    return acl::channel_in(allowed, channel, is_pattern);
  };
  for (const auto& [id, c] : ctx.server.clients()) {
    if (c->user != &old || c->subscriptions() == 0) continue;
    bool kill = false;
    for (const auto& p : c->pattern_order) kill = kill || !permitted(p, true);
    for (const auto& ch : c->channels) kill = kill || !permitted(ch, false);
    for (const auto& ch : c->shard_channels) kill = kill || !permitted(ch, false);
    if (!kill) continue;
    if (c.get() == &ctx.client)
      ctx.client.close_after_reply = true;
    else
      ctx.server.close_async(*c, server::CloseReason::kUserChanged);
  }
}

void acl_setuser(Context& ctx) {
  // Nothing about the user shows in MONITOR or SLOWLOG (as Redis).
  for (size_t j = 2; j < ctx.argc(); ++j) ctx.redact(j);
  const std::string_view name = ctx.arg(2);
  if (acl::has_spaces(name)) {
    ctx.rb.error("ERR Usernames can't contain spaces or null characters");
    return;
  }
  auto& users = ctx.server.users();
  acl::User* existing = users.find(name);
  auto staged = users.stage(name, existing, ctx.args.subspan(3));
  if (auto* err = std::get_if<std::string>(&staged)) {
    ctx.rb.error("ERR " + *err);
    return;
  }
  const acl::User& updated = std::get<acl::User>(staged);
  if (existing) kill_pubsub_clients_if_needed(ctx, updated, *existing);
  users.commit(updated);
  ctx.rb.ok();
}

void acl_deluser(Context& ctx) {
  for (size_t j = 2; j < ctx.argc(); ++j) {
    if (ctx.arg(j) == "default") {
      ctx.rb.error("ERR The 'default' user cannot be removed");
      return;
    }
  }
  long long deleted = 0;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    auto removed = ctx.server.users().remove(ctx.arg(j));
    if (!removed) continue;
    ctx.server.disconnect_user_clients(removed.get(), &ctx.client);
    ++deleted;
  }
  ctx.rb.integer(deleted);
}

void describe_selector(Context& ctx, const acl::Selector& s) {
  const auto& catalog = ctx.server.users().catalog();
  ctx.rb.bulk("commands");
  ctx.rb.bulk(s.describe_commands(catalog));
  ctx.rb.bulk("keys");
  ctx.rb.bulk(s.describe_keys());
  ctx.rb.bulk("channels");
  ctx.rb.bulk(s.describe_channels());
}

void acl_getuser(Context& ctx) {
  const acl::User* u = ctx.server.users().find(ctx.arg(2));
  if (u == nullptr) {
    ctx.rb.null();
    return;
  }
  auto& rb = ctx.rb;
  rb.map(6);
  rb.bulk("flags");
  const auto flags = u->flag_names();
  rb.set(flags.size());
  for (const auto f : flags) rb.bulk(f);
  rb.bulk("passwords");
  rb.array(u->passwords().size());
  for (const auto& p : u->passwords()) rb.bulk(p);
  describe_selector(ctx, u->root());
  rb.bulk("selectors");
  rb.array(u->selectors().size() - 1);
  for (size_t i = 1; i < u->selectors().size(); ++i) {
    rb.map(3);
    describe_selector(ctx, u->selectors()[i]);
  }
}

void acl_list(Context& ctx) {
  const auto lines = ctx.server.users().user_lines();
  ctx.rb.array(lines.size());
  for (const auto& line : lines) ctx.rb.bulk(line);
}

void acl_users(Context& ctx) {
  const auto& users = ctx.server.users();
  ctx.rb.array(users.all().size());
  for (const auto& [name, u] : users.all()) ctx.rb.bulk(name);
}

void acl_whoami(Context& ctx) {
  if (ctx.client.user)
    ctx.rb.bulk(ctx.client.user->name());
  else
    ctx.rb.null();
}

bool acl_file_configured(Context& ctx) {
  if (!ctx.server.settings().aclfile.empty()) return true;
  ctx.rb.error(
      "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
      "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
      "Redis configuration file set) in order to store users in the Redis configuration.");
  return false;
}

void acl_load(Context& ctx) {
  if (!acl_file_configured(ctx)) return;
  std::vector<std::unique_ptr<acl::User>> removed;
  if (auto err = ctx.server.load_acl_file(removed)) {
    ctx.rb.error("ERR " + *err);
    return;
  }
  for (const auto& u : removed) ctx.server.disconnect_user_clients(u.get(), &ctx.client);
  ctx.rb.ok();
}

void acl_save(Context& ctx) {
  if (!acl_file_configured(ctx)) return;
  const std::string& path = ctx.server.settings().aclfile;
  const std::string text = ctx.server.users().file_text();
  const std::string tmp =
      path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(base::now_ms());
  bool ok = false;
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    if (out) {
      out << text;
      out.flush();
      ok = static_cast<bool>(out);
    }
  }
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) {
    ctx.rb.ok();
    return;
  }
  spdlog::warn("Writing ACL file for ACL SAVE: {}", std::strerror(errno));
  std::remove(tmp.c_str());
  ctx.rb.error(
      "ERR There was an error trying to save the ACLs. Please check the server logs for more "
      "information");
}

void acl_cat(Context& ctx) {
  if (ctx.argc() > 3) {
    subcommand_syntax_error(ctx);  // Redis's text for extra arguments
    return;
  }
  if (ctx.argc() == 2) {
    ctx.rb.array(acl::kCategoryCount);
    for (const auto name : acl::kCategoryNames) ctx.rb.bulk(name);
    return;
  }
  const uint64_t bit = acl::category_bit(ctx.arg(2));
  if (bit == 0) {
    ctx.rb.error("ERR Unknown category '" + std::string(ctx.arg(2).substr(0, 128)) + "'");
    return;
  }
  std::vector<const std::string*> names;
  for (const auto& e : ctx.server.users().catalog().entries())
    if ((e.categories & bit) && !e.extra) names.push_back(&e.name);
  ctx.rb.array(names.size());
  for (const auto* n : names) ctx.rb.bulk(*n);
}

void acl_genpass(Context& ctx) {
  if (ctx.argc() > 3) {
    subcommand_syntax_error(ctx);  // Redis's text for extra arguments
    return;
  }
  long long bits = 256;
  if (ctx.argc() == 3 && !parse_ll(ctx, ctx.arg(2), bits)) return;
  if (bits <= 0 || bits > 4096) {
    ctx.rb.error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a "
        "positive number up to 4096");
    return;
  }
  ctx.rb.bulk(acl::random_hex(static_cast<size_t>((bits + 3) / 4)));
}

void acl_log(Context& ctx) {
  if (ctx.argc() > 3) {
    subcommand_syntax_error(ctx);  // Redis's text for extra arguments
    return;
  }
  auto& users = ctx.server.users();
  long long count = 10;
  if (ctx.argc() == 3) {
    if (is(ctx.arg(2), "reset")) {
      users.reset_log();
      ctx.rb.ok();
      return;
    }
    if (!parse_ll(ctx, ctx.arg(2), count)) return;
    if (count < 0) count = 0;
  }
  const auto& log = users.log_entries();
  const size_t n = std::min(static_cast<size_t>(count), log.size());
  const int64_t now = base::now_ms();
  auto& rb = ctx.rb;
  rb.array(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = log[i];
    rb.map(7);
    rb.bulk("count");
    rb.integer(static_cast<long long>(e.count));
    rb.bulk("reason");
    rb.bulk(acl::reason_name(e.reason));
    rb.bulk("context");
    rb.bulk(acl::context_name(e.context));
    rb.bulk("object");
    rb.bulk(e.object);
    rb.bulk("username");
    rb.bulk(e.username);
    rb.bulk("age-seconds");
    rb.dbl(static_cast<double>(now - e.ctime_ms) / 1000);
    rb.bulk("client-info");
    rb.bulk(e.client_info);
  }
}

void acl_dryrun(Context& ctx) {
  acl::User* u = ctx.server.users().find(ctx.arg(2));
  if (u == nullptr) {
    ctx.rb.error("ERR User '" + std::string(base::c_string_view(ctx.arg(2))) + "' not found");
    return;
  }
  const auto args = ctx.args.subspan(3);
  const Registry& registry = ctx.dispatcher.registry();
  const CommandSpec* spec = registry.find(args[0]);
  if (spec && !spec->subcommands.empty() && args.size() >= 2) {
    std::string sub(args[1]);
    for (auto& ch : sub) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    spec = spec->find_subcommand(sub);
  }
  if (spec == nullptr) {
    ctx.rb.error("ERR Command '" + std::string(base::c_string_view(args[0])) + "' not found");
    return;
  }
  const auto argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && spec->arity != argc) || argc < -spec->arity) {
    ctx.rb.error("ERR wrong number of arguments for '" + spec->name + "' command");
    return;
  }
  size_t pos = 0;
  switch (ctx.dispatcher.acl_check(*u, *spec, args, pos)) {
    case acl::Verdict::kOk:
      ctx.rb.ok();
      return;
    case acl::Verdict::kDeniedKey:
      ctx.rb.bulk("This user has no permissions to access the '" +
                  std::string(base::c_string_view(args[pos])) + "' key");
      return;
    case acl::Verdict::kDeniedChannel:
      ctx.rb.bulk("This user has no permissions to access the '" +
                  std::string(base::c_string_view(args[pos])) + "' channel");
      return;
    default:
      ctx.rb.bulk("This user has no permissions to run the '" + spec->name + "' command");
      return;
  }
}

void acl_help(Context& ctx) {
  reply_help(ctx, "acl",
             {"CAT [<category>]",
              "    List all commands that belong to <category>, or all command categories",
              "    when no category is specified.",
              "DELUSER <username> [<username> ...]",
              "    Delete a list of users.",
              "DRYRUN <username> <command> [<arg> ...]",
              "    Returns whether the user can execute the given command without executing the "
              "command.",
              "GETUSER <username>",
              "    Get the user's details.",
              "GENPASS [<bits>]",
              "    Generate a secure 256-bit user password. The optional `bits` argument can",
              "    be used to specify a different size.",
              "LIST",
              "    Show users details in config file format.",
              "LOAD",
              "    Reload users from the ACL file.",
              "LOG [<count> | RESET]",
              "    Show the ACL log entries.",
              "SAVE",
              "    Save the current config to the ACL file.",
              "SETUSER <username> <attribute> [<attribute> ...]",
              "    Create or modify a user with the specified attributes.",
              "USERS",
              "    List all the registered usernames.",
              "WHOAMI",
              "    Return the current connection username."});
}

CommandSpec acl_sub(std::string name, int arity, std::string flags, Handler h, std::string summary,
                    std::string since, std::string complexity, std::string args = "") {
  return make_command("acl|" + name, arity, std::move(flags), h, "server", std::move(summary),
                      std::move(since), std::move(complexity), std::move(args));
}

}  // namespace

void register_acl_commands(Registry& r) {
  r.add({.name = "auth",
         .arity = -2,
         .flags = "noscript loading stale fast no_auth allow_busy",
         .acl = "@connection",
         .handler = auth,
         .doc = {"Authenticate to the server",
                 "1.0.0",
                 "connection",
                 "O(N) where N is the number of passwords defined for the user",
                 "[username@6.0.0] password",
                 {{"6.0.0", "Added ACL style (username and password)."}}}});
  const std::string admin = "admin noscript loading stale";
  const std::string plain = "noscript loading stale";
  const std::string per_user = "O(N). Where N is the number of configured users.";
  CommandSpec acl{.name = "acl",
                  .arity = -2,
                  .flags = "",
                  .acl = "",
                  .handler = nullptr,
                  .doc = {"A container for Access List Control commands ", "6.0.0", "server",
                          "Depends on subcommand.", ""}};
  auto getuser = acl_sub(
      "getuser", 3, admin, acl_getuser, "Get the rules for a specific ACL user", "6.0.0",
      "O(N). Where N is the number of password, command and pattern rules that the user has.",
      "username");
  getuser.doc.history = {{"6.2.0", "Added Pub/Sub channel patterns."},
                         {"7.0.0",
                          "Added selectors and changed the format of key and channel patterns "
                          "from a list to their rule representation."}};
  auto setuser = acl_sub("setuser", -3, admin, acl_setuser,
                         "Modify or create the rules for a specific ACL user", "6.0.0",
                         "O(N). Where N is the number of rules provided.", "username [rule...]");
  setuser.doc.history = {{"6.2.0", "Added Pub/Sub channel patterns."},
                         {"7.0.0", "Added selectors and key based permissions."}};
  acl.subcommands = {
      acl_sub("users", 2, admin, acl_users, "List the username of all the configured ACL rules",
              "6.0.0", per_user),
      acl_sub("help", 2, "loading stale", acl_help,
              "Show helpful text about the different subcommands", "6.0.0", "O(1)"),
      acl_sub("whoami", 2, plain, acl_whoami,
              "Return the name of the user associated to the current connection", "6.0.0", "O(1)"),
      acl_sub("cat", -2, plain, acl_cat,
              "List the ACL categories or the commands inside a category", "6.0.0",
              "O(1) since the categories and commands are a fixed set.", "[categoryname]"),
      acl_sub("list", 2, admin, acl_list, "List the current ACL rules in ACL config file format",
              "6.0.0", per_user),
      acl_sub("save", 2, admin, acl_save, "Save the current ACL rules in the configured ACL file",
              "6.0.0", per_user),
      acl_sub("genpass", -2, plain, acl_genpass,
              "Generate a pseudorandom secure password to use for ACL users", "6.0.0", "O(1)",
              "[bits:integer]"),
      acl_sub("deluser", -3, admin, acl_deluser,
              "Remove the specified ACL users and the associated rules", "6.0.0",
              "O(1) amortized time considering the typical user.", "username..."),
      std::move(getuser),
      acl_sub("dryrun", -4, admin, acl_dryrun,
              "Returns whether the user can execute the given command without executing the "
              "command.",
              "7.0.0", "O(1).", "username command [arg...]"),
      acl_sub("log", -2, admin, acl_log, "List latest events denied because of ACLs in place",
              "6.0.0", "O(N) with N being the number of entries shown.",
              "[operation= count:integer | RESET]"),
      acl_sub("load", 2, admin, acl_load, "Reload the ACLs from the configured ACL file", "6.0.0",
              per_user),
      std::move(setuser),
  };
  r.add(std::move(acl));
}

}  // namespace setd::cmd
