// COMMAND and its subcommands: the command table, described to clients.
// redis-cli builds its argument hints from COMMAND DOCS.
#include <algorithm>

#include "setd/base/glob.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

void reply_key_spec(proto::ReplyBuilder& rb, const KeySpec& k) {
  rb.map(k.notes.empty() ? 3 : 4);
  if (!k.notes.empty()) {
    rb.bulk("notes");
    rb.bulk(k.notes);
  }
  rb.bulk("flags");
  std::vector<std::string_view> flags;
  {
    std::string_view f = k.flags;
    while (!f.empty()) {
      const size_t sp = f.find(' ');
      if (sp != 0) flags.push_back(f.substr(0, sp));
      if (sp == std::string_view::npos) break;
      f.remove_prefix(sp + 1);
    }
  }
  rb.set(flags.size());
  for (auto fl : flags) rb.simple(fl);
  rb.bulk("begin_search");
  if (k.unknown) {
    const auto unknown = [&rb] {
      rb.map(2);
      rb.bulk("type");
      rb.bulk("unknown");
      rb.bulk("spec");
      rb.map(0);
    };
    unknown();
    rb.bulk("find_keys");
    unknown();
    return;
  }
  rb.map(2);
  rb.bulk("type");
  rb.bulk("index");
  rb.bulk("spec");
  rb.map(1);
  rb.bulk("index");
  rb.integer(k.begin_index);
  rb.bulk("find_keys");
  rb.map(2);
  rb.bulk("type");
  if (!k.keynum) {
    rb.bulk("range");
    rb.bulk("spec");
    rb.map(3);
    rb.bulk("lastkey");
    rb.integer(k.lastkey);
    rb.bulk("keystep");
    rb.integer(k.keystep);
    rb.bulk("limit");
    rb.integer(k.limit);
  } else {
    rb.bulk("keynum");
    rb.bulk("spec");
    rb.map(3);
    rb.bulk("keynumidx");
    rb.integer(k.keynumidx);
    rb.bulk("firstkey");
    rb.integer(k.firstkey);
    rb.bulk("keystep");
    rb.integer(k.keystep);
  }
}

void reply_command_info(proto::ReplyBuilder& rb, const CommandSpec& c) {
  rb.array(10);
  rb.bulk(c.name);
  rb.integer(c.arity);
  const auto flags = flag_names(c.flag_bits);
  rb.set(flags.size());
  for (auto f : flags) rb.simple(f);
  rb.integer(c.first_key);
  rb.integer(c.last_key);
  rb.integer(c.key_step);
  const auto cats = category_names(c.category_bits);
  rb.set(cats.size());
  for (const auto& cat : cats) rb.simple(cat);
  rb.set(c.tips.size());
  for (const auto& t : c.tips) rb.bulk(t);
  // Redis 7.0 sends key specs as a RESP3 set, and the subcommands as an
  // array, except that no subcommands at all is an empty set.
  rb.set(c.keys.size());
  for (const auto& k : c.keys) reply_key_spec(rb, k);
  if (c.subcommands.empty())
    rb.set(0);
  else
    rb.array(c.subcommands.size());
  for (const auto& sub : c.subcommands) reply_command_info(rb, sub);
}

void reply_arg_doc(proto::ReplyBuilder& rb, const ArgDoc& a) {
  std::vector<std::string_view> flags;
  if (a.optional) flags.push_back("optional");
  if (a.multiple) flags.push_back("multiple");
  if (a.multiple_token) flags.push_back("multiple_token");
  const size_t fields = 2 + (a.key_spec_index >= 0) + !a.token.empty() + !a.since.empty() +
                        !a.deprecated_since.empty() + !flags.empty() + !a.children.empty();
  rb.map(fields);
  rb.bulk("name");
  rb.bulk(a.name);
  rb.bulk("type");
  rb.bulk(a.type);
  if (a.key_spec_index >= 0) {
    rb.bulk("key_spec_index");
    rb.integer(a.key_spec_index);
  }
  if (!a.token.empty()) {
    rb.bulk("token");
    rb.bulk(a.token);
  }
  if (!a.since.empty()) {
    rb.bulk("since");
    rb.bulk(a.since);
  }
  if (!a.deprecated_since.empty()) {
    rb.bulk("deprecated_since");
    rb.bulk(a.deprecated_since);
  }
  if (!flags.empty()) {
    rb.bulk("flags");
    rb.set(flags.size());
    for (auto f : flags) rb.simple(f);
  }
  if (!a.children.empty()) {
    rb.bulk("arguments");
    rb.array(a.children.size());
    for (const auto& ch : a.children) reply_arg_doc(rb, ch);
  }
}

void reply_command_doc(proto::ReplyBuilder& rb, const CommandSpec& c) {
  // Redis's addReplyCommandDocs, field by field in its order.
  const CommandDoc& d = c.doc;
  // Redis leaves out an empty complexity (SYNC, PSYNC).
  const size_t fields = 3 + !d.complexity.empty() + !d.doc_flags.empty() +
                        !d.deprecated_since.empty() + !d.replaced_by.empty() + !d.history.empty() +
                        !c.arg_docs.empty() + !c.subcommands.empty();
  rb.map(fields);
  rb.bulk("summary");
  rb.bulk(c.doc.summary);
  rb.bulk("since");
  rb.bulk(c.doc.since);
  rb.bulk("group");
  rb.bulk(c.doc.group);
  if (!d.complexity.empty()) {
    rb.bulk("complexity");
    rb.bulk(c.doc.complexity);
  }
  if (!d.doc_flags.empty()) {
    rb.bulk("doc_flags");
    rb.set(d.doc_flags.size());
    for (const auto& f : d.doc_flags) rb.simple(f);
  }
  if (!d.deprecated_since.empty()) {
    rb.bulk("deprecated_since");
    rb.bulk(d.deprecated_since);
  }
  if (!d.replaced_by.empty()) {
    rb.bulk("replaced_by");
    rb.bulk(d.replaced_by);
  }
  if (!c.doc.history.empty()) {
    rb.bulk("history");
    rb.set(c.doc.history.size());  // a RESP3 set in Redis 7.0
    for (const auto& [version, change] : c.doc.history) {
      rb.array(2);
      rb.bulk(version);
      rb.bulk(change);
    }
  }
  if (!c.arg_docs.empty()) {
    rb.bulk("arguments");
    rb.array(c.arg_docs.size());
    for (const auto& a : c.arg_docs) reply_arg_doc(rb, a);
  }
  if (!c.subcommands.empty()) {
    rb.bulk("subcommands");
    rb.map(c.subcommands.size());
    for (const auto& sub : c.subcommands) {
      rb.bulk(sub.name);
      reply_command_doc(rb, sub);
    }
  }
}

void command_all(Context& ctx) {
  const auto& all = ctx.dispatcher.registry().all();
  ctx.rb.array(all.size());
  for (const auto& c : all) reply_command_info(ctx.rb, *c);
}

void command_count(Context& ctx) {
  ctx.rb.integer(static_cast<long long>(ctx.dispatcher.registry().all().size()));
}

void command_info(Context& ctx) {
  const auto& reg = ctx.dispatcher.registry();
  if (ctx.argc() == 2) {
    command_all(ctx);
    return;
  }
  ctx.rb.array(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* c = reg.find_full(ctx.arg(i));
    if (c)
      reply_command_info(ctx.rb, *c);
    else
      ctx.rb.null();  // addReplyNull: $-1 in RESP2, as Redis 7.0 sends
  }
}

void command_docs(Context& ctx) {
  const auto& reg = ctx.dispatcher.registry();
  std::vector<const CommandSpec*> found;
  if (ctx.argc() == 2) {
    for (const auto& c : reg.all()) found.push_back(c.get());
  } else {
    for (size_t i = 2; i < ctx.argc(); ++i)
      if (const CommandSpec* c = reg.find_full(ctx.arg(i))) found.push_back(c);
  }
  ctx.rb.map(found.size());
  for (const CommandSpec* c : found) {
    ctx.rb.bulk(c->name);
    reply_command_doc(ctx.rb, *c);
  }
}

void command_list(Context& ctx) {
  std::string_view pattern, aclcat, module;
  bool by_pattern = false, by_cat = false, by_module = false;
  if (ctx.argc() == 5 && is(ctx.arg(2), "FILTERBY")) {
    if (is(ctx.arg(3), "PATTERN")) {
      pattern = ctx.arg(4);
      by_pattern = true;
    } else if (is(ctx.arg(3), "ACLCAT")) {
      aclcat = ctx.arg(4);
      by_cat = true;
    } else if (is(ctx.arg(3), "MODULE")) {
      module = ctx.arg(4);
      by_module = true;
    } else {
      ctx.syntax_error();
      return;
    }
  } else if (ctx.argc() != 2) {
    ctx.syntax_error();
    return;
  }
  std::vector<const CommandSpec*> out;
  auto consider = [&](const CommandSpec& c) {
    if (by_module) return;
    if (by_pattern && !base::glob_match(pattern, c.name, true)) return;
    if (by_cat) {
      bool match = false;
      for (const auto& cat : category_names(c.category_bits))
        if (is(std::string_view(cat).substr(1), aclcat)) match = true;
      if (!match) return;
    }
    out.push_back(&c);
  };
  for (const auto& c : ctx.dispatcher.registry().all()) {
    consider(*c);
    for (const auto& sub : c->subcommands) consider(sub);
  }
  ctx.rb.array(out.size());
  for (const auto* c : out) ctx.rb.bulk(c->name);
}

// The access flags of a key found by key spec `spec` of `c`, as Redis's
// COMMAND GETKEYSANDFLAGS: the spec's flags, except where a spec says
// variable_flags and the command's own rule decides from the arguments.
std::vector<std::string_view> key_flags(const CommandSpec& c, size_t spec,
                                        std::span<const std::string_view> target) {
  std::vector<std::string_view> out;
  const std::string_view flags = c.keys[spec].flags;
  if (c.variable_key_flags && flags.find("variable_flags") != std::string_view::npos)
    return c.variable_key_flags(target);
  size_t pos = 0;
  while (pos < flags.size()) {
    size_t end = flags.find(' ', pos);
    if (end == std::string_view::npos) end = flags.size();
    const auto word = flags.substr(pos, end - pos);
    if (!word.empty() && word != "variable_flags") out.push_back(word);
    pos = end + 1;
  }
  return out;
}

// COMMAND GETKEYS (with_flags false) and COMMAND GETKEYSANDFLAGS.
void getkeys_generic(Context& ctx, bool with_flags) {
  const auto target = ctx.args.subspan(2);
  const CommandSpec* c = ctx.dispatcher.registry().find(target[0]);
  if (c && !c->subcommands.empty() && target.size() >= 2) {
    std::string sub(target[1]);
    for (auto& ch : sub) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    c = c->find_subcommand(sub);
  }
  if (!c) {
    ctx.rb.error("ERR Invalid command specified");
    return;
  }
  // As Redis's doesCommandHaveKeys: a key spec flagged not_key (the shard
  // channels of SSUBSCRIBE & co.) names no key. Checked before the arity.
  const bool has_keys = std::any_of(c->keys.begin(), c->keys.end(), [](const KeySpec& k) {
    return k.flags.find("not_key") == std::string::npos;
  });
  if (!has_keys) {
    ctx.rb.error("ERR The command has no key arguments");
    return;
  }
  const auto argc = static_cast<int>(target.size());
  if ((c->arity > 0 && argc != c->arity) || argc < -c->arity) {
    ctx.rb.error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<size_t> positions, specs;
  if (!c->extract_keys(target, positions, &specs) || positions.empty()) {
    ctx.rb.error("ERR Invalid arguments specified for command");
    return;
  }
  ctx.rb.array(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    if (!with_flags) {
      ctx.rb.bulk(target[positions[i]]);
      continue;
    }
    ctx.rb.array(2);
    ctx.rb.bulk(target[positions[i]]);
    const auto flags = key_flags(*c, specs[i], target);
    ctx.rb.set(flags.size());
    for (const auto f : flags) ctx.rb.simple(f);
  }
}

void command_getkeys(Context& ctx) { getkeys_generic(ctx, false); }
void command_getkeysandflags(Context& ctx) { getkeys_generic(ctx, true); }

void command_help(Context& ctx) {
  reply_help(ctx, "command",
             {"(no subcommand)", "    Return details about all Redis commands.", "COUNT",
              "    Return the total number of commands in this Redis server.", "LIST",
              "    Return a list of all commands in this Redis server.",
              "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
              "    If no command names are given, documentation details for all",
              "    commands are returned.", "DOCS [<command-name> ...]",
              "    Return documentation details about multiple Redis commands.",
              "    If no command names are given, documentation details for all",
              "    commands are returned.", "GETKEYS <full-command>",
              "    Return the keys from a full Redis command.", "GETKEYSANDFLAGS <full-command>",
              "    Return the keys and the access flags from a full Redis command."});
}

CommandSpec sub(std::string name, int arity, Handler h, std::string summary, std::string since,
                std::string args, std::string complexity) {
  return make_command("command|" + name, arity, "loading stale", h, "server", std::move(summary),
                      std::move(since), std::move(complexity), std::move(args), "@connection");
}

}  // namespace

void register_introspection_commands(Registry& r) {
  CommandSpec command{.name = "command",
                      .arity = -1,
                      .flags = "loading stale",
                      .acl = "@connection",
                      .handler = command_all,
                      .doc = {"Get array of Redis command details", "2.8.13", "server",
                              "O(N) where N is the total number of Redis commands", ""},
                      .tips = {"nondeterministic_output_order"}};
  // Redis lists these in its dict order, which changes from one process to
  // the next (seeded hashing); this is the order one 7.0.15 showed.
  auto info =
      sub("info", -2, command_info,
          "Get array of specific Redis command details, or all when no argument is given.",
          "2.8.13", "[command-name...]", "O(N) where N is the number of commands to look up");
  info.doc.history = {
      {"7.0.0", "Allowed to be called with no argument to get info on all commands."}};
  info.tips = {"nondeterministic_output_order"};
  auto docs =
      sub("docs", -2, command_docs, "Get array of specific Redis command documentation", "7.0.0",
          "[command-name...]", "O(N) where N is the number of commands to look up");
  docs.tips = {"nondeterministic_output_order"};
  auto list =
      sub("list", -2, command_list, "Get an array of Redis command names", "7.0.0",
          "[FILTERBY (filterby= MODULE module-name | ACLCAT category | PATTERN pattern:pattern)]",
          "O(N) where N is the total number of Redis commands");
  list.tips = {"nondeterministic_output_order"};
  command.subcommands = {
      sub("help", 2, command_help, "Show helpful text about the different subcommands", "5.0.0", "",
          "O(1)"),
      std::move(info),
      std::move(docs),
      std::move(list),
      sub("count", 2, command_count, "Get total number of Redis commands", "2.8.13", "", "O(1)"),
      sub("getkeys", -4, command_getkeys, "Extract keys given a full Redis command", "2.8.13", "",
          "O(N) where N is the number of arguments to the command"),
      sub("getkeysandflags", -4, command_getkeysandflags,
          "Extract keys and access flags given a full Redis command", "7.0.0", "",
          "O(N) where N is the number of arguments to the command"),
  };
  r.add(std::move(command));
}

}  // namespace setd::cmd
