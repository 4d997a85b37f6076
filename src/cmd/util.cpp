#include "setd/cmd/util.hpp"

#include <cctype>

#include "setd/acl/user.hpp"
#include "setd/base/strconv.hpp"

namespace setd::cmd {

bool is(std::string_view arg, std::string_view keyword) {
  if (arg.size() != keyword.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(arg[i])) !=
        std::tolower(static_cast<unsigned char>(keyword[i])))
      return false;
  return true;
}

void reply_help(Context& ctx, std::string_view container,
                std::initializer_list<std::string_view> lines) {
  ctx.rb.array(lines.size() + 3);
  std::string head(container);
  for (auto& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ctx.rb.simple(head + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto l : lines) ctx.rb.simple(l);
  ctx.rb.simple("HELP");
  ctx.rb.simple("    Prints this help.");
}

bool parse_ll(Context& ctx, std::string_view arg, long long& out) {
  if (base::string_to_ll(arg, out)) return true;
  ctx.not_integer();
  return false;
}

void subcommand_syntax_error(Context& ctx) {
  std::string container(ctx.arg(0));
  for (auto& ch : container) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string_view sub = ctx.arg(1).substr(0, 128);
  ctx.rb.error("ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) +
               "'. Try " + container + " HELP.");
}

db::Value* lookup_read(Context& ctx, std::string_view key, unsigned flags) {
  db::Value* v = ctx.db().find(key);
  auto& stats = ctx.server.stats();
  if (v) {
    if (!(flags & kLookupNoTouch)) v->touch();
    if (!(flags & kLookupNoStats)) ++stats.keyspace_hits;
  } else {
    if (!(flags & kLookupNoNotify)) notify(ctx, server::notify::kKeyMiss, "keymiss", key);
    if (!(flags & kLookupNoStats)) ++stats.keyspace_misses;
  }
  return v;
}

db::Value* lookup_write(Context& ctx, std::string_view key) { return lookup_write(ctx.db(), key); }

db::Value* lookup_write(db::Database& db, std::string_view key) {
  db::Value* v = db.find_for_write(key);  // a running snapshot saves it first
  if (v) v->touch();
  return v;
}

db::Value& add_key(Context& ctx, int db_id, std::string_view key, db::Object v, int64_t expire_ms) {
  db::Value& stored = ctx.server.db(db_id).add(key, std::move(v), expire_ms);
  ctx.server.notify_keyspace_event(server::notify::kNew, "new", key, db_id);
  return stored;
}

CommandSpec make_command(std::string name, int arity, std::string flags, Handler h,
                         std::string group, std::string summary, std::string since,
                         std::string complexity, std::string args, std::string acl) {
  CommandSpec s;
  s.name = std::move(name);
  s.arity = arity;
  s.flags = std::move(flags);
  s.acl = std::move(acl);
  s.handler = h;
  s.doc = {std::move(summary), std::move(since), std::move(group), std::move(complexity),
           std::move(args)};
  return s;
}

std::string client_info_line(const server::Client& c, int64_t now_ms) {
  std::string flags;
  if (c.monitor) flags += 'O';
  if (c.repl_role == server::ReplRole::kReplica) flags += 'S';
  if (c.repl_role == server::ReplRole::kMaster) flags += 'M';
  if (c.subscriptions() > 0) flags += 'P';
  if (c.in_multi) flags += 'x';
  if (c.blocked) flags += 'b';
  if (c.tracking.on) flags += 't';
  if (c.tracking.broken_redirect) flags += 'R';
  if (c.tracking.bcast) flags += 'B';
  if (c.dirty_cas) flags += 'd';
  if (c.close_after_reply) flags += 'c';
  if (c.killed) flags += 'A';
  if (c.no_evict) flags += 'e';
  if (flags.empty()) flags = "N";
  const auto multi = c.in_multi ? static_cast<long long>(c.multi_queue.size()) : -1LL;
  std::string line;
  line.reserve(320);
  line += "id=" + std::to_string(c.id());
  line += " addr=" + c.addr;
  line += " laddr=" + c.laddr;
  line += " fd=" + std::to_string(c.fd);
  line += " name=" + c.name;
  line += " age=" + std::to_string((now_ms - c.ctime_ms) / 1000);
  line += " idle=" + std::to_string((now_ms - c.last_interaction_ms) / 1000);
  line += " flags=" + flags;
  line += " db=" + std::to_string(c.db);
  line += " sub=" + std::to_string(c.channels.size());
  line += " psub=" + std::to_string(c.patterns.size());
  line += " ssub=" + std::to_string(c.shard_channels.size());
  line += " multi=" + std::to_string(multi);
  line += " qbuf=" + std::to_string(c.query_buffer_len);
  line += " qbuf-free=" +
          std::to_string(c.query_buffer_cap - std::min(c.query_buffer_cap, c.query_buffer_len));
  line += " argv-mem=0 multi-mem=0";
  line += " rbs=" + std::to_string(c.query_buffer_cap);
  line += " rbp=" + std::to_string(c.query_buffer_len);
  line += " obl=" + std::to_string(c.out.size());
  line += " oll=0";
  line += " omem=" + std::to_string(c.output_bytes());
  line += " tot-mem=" + std::to_string(c.memory_usage());
  line += " events=r";
  if (c.output_bytes() > 0) line += "w";
  line += " cmd=" + c.last_cmd;
  line += " user=";
  line += c.user ? c.user->name() : std::string("default");
  line += " redir=";
  line += c.tracking.on ? std::to_string(c.tracking.redirect) : std::string("-1");
  line += " resp=" + std::to_string(c.resp());
  line += " lib-name=" + c.lib_name;
  line += " lib-ver=" + c.lib_ver;
  return line;
}

}  // namespace setd::cmd
