#include "setd/cmd/dispatcher.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

// Lower-cases a command name into `buf` (names are short; longer ones can't
// match anything and are truncated harmlessly).
std::string_view lower_name(std::string_view name, char* buf, size_t cap) {
  const size_t n = std::min(name.size(), cap);
  for (size_t i = 0; i < n; ++i) {
    const char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return {buf, n};
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool allowed_in_resp2_pubsub(std::string_view name) {
  return name == "ping" || name == "subscribe" || name == "ssubscribe" || name == "unsubscribe" ||
         name == "sunsubscribe" || name == "psubscribe" || name == "punsubscribe" ||
         name == "quit" || name == "reset";
}

bool runs_inside_multi(std::string_view name) {
  return name == "exec" || name == "discard" || name == "multi" || name == "watch" ||
         name == "quit" || name == "reset";
}

}  // namespace

// --- Registry ---------------------------------------------------------------

namespace {

// Ties a command (and its subcommands) to its ACL catalog entry; every
// command setd has is in the catalog (Redis's, plus setd's own).
void bind_acl(CommandSpec& spec) {
  const acl::CatalogEntry* e = acl::Catalog::redis().find(spec.name);
  if (e == nullptr)
    throw std::invalid_argument("command missing from the ACL catalog: " + spec.name);
  spec.acl_id = e->id;
  const std::string_view n = spec.name;
  using C = CommandSpec::Channels;
  if (n == "subscribe" || n == "ssubscribe")
    spec.acl_channels = C::kSubscribe;
  else if (n == "psubscribe")
    spec.acl_channels = C::kPatternSubscribe;
  else if (n == "publish" || n == "spublish")
    spec.acl_channels = C::kPublish;
  for (auto& sub : spec.subcommands) bind_acl(sub);
}

}  // namespace

void Registry::add(CommandSpec spec) {
  spec.finalize();
  bind_acl(spec);
  if (by_name_.count(spec.name)) throw std::invalid_argument("duplicate command " + spec.name);
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  by_name_.emplace(owned->name, owned.get());
  commands_.push_back(std::move(owned));
}

const CommandSpec* Registry::find(std::string_view name) const {
  char buf[64] = {};
  if (name.size() > sizeof(buf)) return nullptr;
  auto it = by_name_.find(lower_name(name, buf, sizeof(buf)));
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandSpec* Registry::find_full(std::string_view fullname) const {
  const size_t bar = fullname.find('|');
  const CommandSpec* top = find(fullname.substr(0, bar));
  if (!top || bar == std::string_view::npos) return top;
  char buf[64];
  const auto sub = fullname.substr(bar + 1);
  if (sub.size() > sizeof(buf)) return nullptr;
  return top->find_subcommand(lower_name(sub, buf, sizeof(buf)));
}

void register_all_commands(Registry& r) {
  register_connection_commands(r);
  register_server_commands(r);
  register_introspection_commands(r);
  register_keyspace_commands(r);
  register_string_commands(r);
  register_bit_commands(r);
  register_transaction_commands(r);
  register_set_commands(r);
  register_sort_commands(r);
  register_pubsub_commands(r);
  register_persistence_commands(r);
  register_acl_commands(r);
  register_replication_commands(r);
  register_memory_commands(r);
  register_instruments_commands(r);
}

// --- Dispatcher ---------------------------------------------------------------

Dispatcher::Dispatcher(server::ServerState& state)
    : state_(state), replication_(std::make_unique<repl::Replication>(state)) {
  register_all_commands(registry_);
  exec_spec_ = registry_.find("exec");
  state_.command_executor = this;
  // Replica buffers are not counted against maxmemory.
  state_.evictor().replica_buffer_memory = [r = replication_.get()] {
    return r->replica_buffers_memory();
  };
  state_.describe_client = [](const server::Client& c) {
    return client_info_line(c, base::now_ms());
  };
}

Dispatcher::~Dispatcher() {
  if (state_.command_executor == this) state_.command_executor = nullptr;
  state_.evictor().replica_buffer_memory = nullptr;
  state_.describe_client = nullptr;
}

std::string Dispatcher::execute_for_load(server::Client& c, const std::vector<std::string>& args) {
  if (registry_.find(args[0]) == nullptr) return "Unknown command '" + args[0] + "'";
  std::vector<std::string_view> views(args.begin(), args.end());
  dispatch(c, views);
  c.out.clear();  // the loader's client has nobody to read its replies
  return "";
}

void Dispatcher::reject(server::Client& client, const CommandSpec* spec, const std::string& error) {
  if (client.in_multi) client.multi_error = true;
  const uint64_t before = client.reply.error_count();
  if (spec && spec == exec_spec_) {
    // A refused EXEC ends the transaction (and every WATCH), and says why,
    // as Redis's execCommandAbort.
    discard_transaction(state_, client);
    std::string_view reason = error;
    if (reason.starts_with("ERR ")) reason.remove_prefix(4);
    client.reply.error("EXECABORT Transaction discarded because of: " + std::string(reason));
  } else {
    client.reply.error(error);
  }
  // A refused EXEC still ends what MONITOR showed of the transaction
  // (Redis's execCommandAbort).
  if (spec && spec == exec_spec_ && state_.has_monitors()) {
    const std::string_view exec_arg[] = {"exec"};
    state_.feed_monitors(client, client.db, exec_arg);
  }
  account_errors(client, before);
  if (spec) ++spec->stats.rejected_calls;
}

uint64_t Dispatcher::account_errors(server::Client& client, uint64_t before) {
  const uint64_t delta = client.reply.error_count() - before;
  if (delta == 0) return 0;
  auto& stats = state_.stats();
  stats.total_error_replies += delta;
  stats.errors[std::string(client.reply.last_error_code())] += delta;
  accounted_errors_ += delta;
  return delta;
}

const CommandSpec* Dispatcher::resolve(server::Client& client,
                                       std::span<const std::string_view> args) {
  const CommandSpec* spec = registry_.find(args[0]);
  if (!spec) {
    std::string rest;
    for (size_t i = 1; i < args.size() && rest.size() < 128; ++i) {
      const auto a = base::c_string_view(args[i]).substr(0, 128 - rest.size());
      rest += "'";
      rest.append(a);
      rest += "' ";
    }
    const auto name = base::c_string_view(args[0]);
    reject(client, nullptr,
           "ERR unknown command '" + std::string(name.substr(0, 128)) +
               "', with args beginning with: " + rest);
    return nullptr;
  }
  if (!spec->subcommands.empty() && args.size() >= 2) {
    char buf[64];
    const CommandSpec* sub = args[1].size() <= sizeof(buf)
                                 ? spec->find_subcommand(lower_name(args[1], buf, sizeof(buf)))
                                 : nullptr;
    if (!sub) {
      reject(client, nullptr,
             "ERR unknown subcommand '" + std::string(base::c_string_view(args[1]).substr(0, 128)) +
                 "'. Try " + upper(spec->name) + " HELP.");
      return nullptr;
    }
    spec = sub;
  }
  const auto argc = static_cast<int>(args.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    reject(client, spec, "ERR wrong number of arguments for '" + spec->name + "' command");
    return nullptr;
  }
  return spec;
}

void Dispatcher::dispatch(server::Client& client, std::span<const std::string_view> args) {
  base::refresh_now();
  client.last_interaction_ms = base::now_ms();
  const size_t mark = client.out.size();
  // Pushes written by a command whose replies get dropped are kept.
  client.keep_pushes = client.reply_mode == server::ReplyMode::kOff ||
                       client.reply_mode == server::ReplyMode::kSkipThis;
  // The client whose request runs (Redis's server.current_client); another
  // client may run meanwhile only while a script lets others in.
  auto& tracking = state_.tracking();
  server::Client* const outer_current = tracking.current();
  tracking.set_current(&client);
  struct RestoreCurrent {
    server::Tracking& t;
    server::Client* c;
    ~RestoreCurrent() { t.set_current(c); }
  } restore_current{tracking, outer_current};

  const CommandSpec* spec = resolve(client, args);
  bool ran_exec = false;
  // The tracking table stays within tracking-table-max-keys (Redis's
  // processCommand, before each command).
  if (spec && tracking.clients() > 0)
    tracking.limit_used_slots(static_cast<size_t>(state_.settings().tracking_table_max_keys));
  if (spec) {
    client.last_cmd = spec->name;
    const std::string_view base_name =
        spec->container.empty() ? std::string_view(spec->name) : std::string_view(spec->container);
    const auto& settings = state_.settings();
    const bool from_master = client.repl_role == server::ReplRole::kMaster;
    const bool is_write = spec->has(kWrite) || (spec == exec_spec_ && client.multi_write);
    std::optional<std::string> disk_error;
    acl::Verdict verdict = acl::Verdict::kOk;
    if (spec->has(kProtected) && base_name == "debug" &&
        !(settings.enable_debug_command == server::EnableMode::kYes ||
          (settings.enable_debug_command == server::EnableMode::kLocal && client.is_local()))) {
      reject(client, spec,
             "ERR DEBUG command not allowed. If the enable-debug-command option is set to "
             "\"local\", you can run it from a local connection, otherwise you need to set this "
             "option in the configuration file, and then restart the server.");
    } else if (state_.auth_required(client) && !spec->has(kNoAuth)) {
      reject(client, spec, "NOAUTH Authentication required.");
    } else if (client.in_multi && spec->has(kNoMulti) && !runs_inside_multi(base_name)) {
      reject(client, spec, "ERR Command not allowed inside a transaction");
    } else if (size_t pos = 0;
               client.user != nullptr &&
               (verdict = acl_check(*client.user, *spec, args, pos)) != acl::Verdict::kOk) {
      acl_log(client, verdict,
              client.in_multi ? acl::LogContext::kMulti : acl::LogContext::kToplevel, *spec, args,
              pos);
      switch (verdict) {
        case acl::Verdict::kDeniedKey:
          reject(client, spec,
                 "NOPERM this user has no permissions to access one of the keys used as "
                 "arguments");
          break;
        case acl::Verdict::kDeniedChannel:
          reject(client, spec,
                 "NOPERM this user has no permissions to access one of the channels used as "
                 "arguments");
          break;
        default:
          reject(client, spec,
                 "NOPERM this user has no permissions to run the '" + spec->name + "' command");
          break;
      }
    } else if (settings.maxmemory_clients != 0 && evicted_before_command(client)) {
      // maxmemory-clients closed this very client to make room: it runs
      // nothing more (Redis's processCommand after evictClients()).
    } else if (settings.maxmemory > 0 && !evict_or_allow(client, *spec, base_name, from_master)) {
      reject(client, spec, "OOM command not allowed when used memory > 'maxmemory'.");
    } else if (!state_.loading && !from_master && (is_write || base_name == "ping") &&
               (disk_error = state_.persistence().write_error())) {
      // Writes are refused while the dump or the AOF cannot be written.
      reject(client, spec, *disk_error);
    } else if (is_write && !from_master && !replication_->enough_good_replicas()) {
      reject(client, spec, "NOREPLICAS Not enough good replicas to write.");
    } else if (is_write && !from_master && settings.replica_read_only &&
               replication_->is_replica()) {
      reject(client, spec, "READONLY You can't write against a read only replica.");
    } else if (client.in_pubsub_mode() && !allowed_in_resp2_pubsub(base_name)) {
      reject(client, spec,
             "ERR Can't execute '" + spec->name +
                 "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                 "this context");
    } else if (!from_master && replication_->is_replica() &&
               replication_->link_state() != repl::LinkState::kConnected &&
               !settings.replica_serve_stale_data && !spec->has(kStale)) {
      reject(client, spec,
             "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    } else if (state_.scripts != nullptr && state_.scripts->busy() && !spec->has(kAllowBusy)) {
      // A script runs past busy-reply-threshold: only what may stop it
      // (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE) and a few harmless
      // commands run (Redis's isInsideYieldingLongCommand).
      reject(client, spec, std::string(state_.scripts->busy_error()));
    } else if (client.monitor && (is_write || spec->has(kMayReplicate) || spec->has(kReadonly))) {
      // A MONITOR client is a replica to Redis, which may not touch keys.
      reject(client, spec, "ERR Replica can't interact with the keyspace");
    } else if (client.repl_role != server::ReplRole::kReplica && !client.monitor &&
               state_.paused() &&
               (state_.pause_type() == server::PauseType::kAll || spec->has(kWrite) ||
                spec->has(kMayReplicate) ||
                (spec == exec_spec_ && (client.multi_write || client.multi_may_replicate)))) {
      // CLIENT PAUSE: the request waits, unread, and runs again when the
      // pause ends or weakens (replicas and monitors are never paused).
      state_.postpone(client);
      return;
    } else if (client.in_multi && !runs_inside_multi(base_name)) {
      if (spec->has(kNoMulti)) {
        reject(client, spec, "ERR Command not allowed inside a transaction");
      } else {
        // A transaction that will fail anyway keeps nothing (as Redis).
        if (!client.multi_error && !client.dirty_cas)
          client.multi_queue.push_back({{args.begin(), args.end()}});
        if (spec->has(kWrite)) client.multi_write = true;
        if (spec->has(kDenyOom)) client.multi_denyoom = true;
        if (spec->has(kMayReplicate)) client.multi_may_replicate = true;
        client.reply.simple("QUEUED");
      }
    } else if (replication_->is_replica()) {
      // A replica leaves expiry to its master: its clients see expired keys
      // as missing, its master's commands see them as they are, and a write
      // (on a writable replica) deletes them, as Redis 7.0.
      state_.expiry_control.mode = from_master ? db::ExpiryMode::kSuspended
                                   : is_write  ? db::ExpiryMode::kActive
                                               : db::ExpiryMode::kReportOnly;
      call(client, *spec, args);
      state_.expiry_control.mode =
          replication_->is_replica() ? db::ExpiryMode::kReportOnly : db::ExpiryMode::kActive;
      ran_exec = spec == exec_spec_;
    } else {
      call(client, *spec, args);
      ran_exec = spec == exec_spec_;
    }
  }

  // CLIENT REPLY: judged after the command, so that CLIENT REPLY ON is
  // answered and CLIENT REPLY OFF is not. EXEC judges each reply it writes
  // itself (a CLIENT REPLY inside the transaction acts from there on).
  // Pushes written by a command whose replies get dropped are kept.
  if (!ran_exec &&
      (client.reply_mode == server::ReplyMode::kOff ||
       client.reply_mode == server::ReplyMode::kSkipThis) &&
      client.out.size() > mark) {
    std::string pushes;
    for (const auto& [start, end] : client.kept_pushes)
      if (start >= mark && end <= client.out.size()) pushes.append(client.out, start, end - start);
    client.out.resize(mark);
    client.out += pushes;
  }
  client.keep_pushes = false;
  client.kept_pushes.clear();
  // CLIENT CACHING yes|no applies to the next command (or transaction)
  // only: a CLIENT subcommand leaves it for the one after (Redis's
  // resetClient).
  if (client.tracking.caching && !client.in_multi &&
      !(spec != nullptr && spec->container == "client"))
    client.tracking.caching = false;
  if (client.reply_mode == server::ReplyMode::kSkipThis)
    client.reply_mode = server::ReplyMode::kOn;
  else if (client.reply_mode == server::ReplyMode::kSkipNext)
    client.reply_mode = server::ReplyMode::kSkipThis;
}

bool Dispatcher::evicted_before_command(server::Client& client) {
  // The replies of the batch so far count (Redis evicts here "after the
  // last command was executed and consumed some client output buffer
  // memory").
  state_.note_client_memory(client);
  state_.evict_clients();
  return client.killed;
}

bool Dispatcher::evict_or_allow(server::Client& client, const CommandSpec& spec,
                                std::string_view base_name, bool from_master) {
  // Evictions run before every command while maxmemory is set, except
  // inside a script that runs past busy-reply-threshold (Redis's
  // processCommand; the evictor itself declines on a replica that ignores
  // maxmemory, and while loading).
  if (state_.scripts != nullptr && state_.scripts->busy()) return true;
  const bool oom = state_.evictor().perform() == server::Evictor::Result::kFail;
  // Saved for scripts: their first deny-oom command is refused then.
  state_.pre_command_oom = oom;
  if (!oom || from_master) return true;
  bool deny = spec.has(kDenyOom) || (&spec == exec_spec_ && client.multi_denyoom);
  // Queuing inside MULTI grows memory without bound: refused too, except
  // what ends the transaction.
  if (client.in_multi && &spec != exec_spec_ && base_name != "discard" && base_name != "quit" &&
      base_name != "reset")
    deny = true;
  return !deny;
}

acl::Verdict Dispatcher::acl_check(const acl::User& user, const CommandSpec& spec,
                                   std::span<const std::string_view> args, size_t& pos) {
  // The default user (and any user with ~* &* +@all at its root) costs one
  // test.
  const acl::Selector& root = user.root();
  if (root.all_commands && root.all_keys && root.all_channels) return acl::Verdict::kOk;
  acl_keys_.clear();
  acl_channels_.clear();
  if (!user.all_keys_everywhere() && !spec.keys.empty()) {
    key_positions_.clear();
    key_specs_.clear();
    if (spec.extract_keys(args, key_positions_, &key_specs_)) {
      for (size_t i = 0; i < key_positions_.size(); ++i) {
        const KeySpec& ks = spec.keys[key_specs_[i]];
        // Shard channels (SSUBSCRIBE, SPUBLISH) have key specs for cluster
        // slots; ACL checks them as channels only (Redis skips not_key
        // specs when it collects keys).
        if (ks.not_key) continue;
        acl_keys_.push_back({key_positions_[i], spec.key_acl_perms(key_specs_[i], args)});
      }
    }
  }
  if (user.needs_channels() && spec.acl_channels != CommandSpec::Channels::kNone) {
    const bool pattern = spec.acl_channels == CommandSpec::Channels::kPatternSubscribe;
    const size_t end = spec.acl_channels == CommandSpec::Channels::kPublish
                           ? std::min<size_t>(args.size(), 2)
                           : args.size();
    for (size_t i = 1; i < end; ++i) acl_channels_.push_back({i, pattern});
  }
  const acl::CommandRequest req{
      spec.acl_id, !spec.container.empty(), spec.has(kNoAuth), args, acl_keys_, acl_channels_};
  return user.check(req, pos);
}

void Dispatcher::acl_log(server::Client& client, acl::Verdict verdict, acl::LogContext context,
                         const CommandSpec& spec, std::span<const std::string_view> args,
                         size_t pos) {
  acl::LogReason reason = acl::LogReason::kCommand;
  std::string object = spec.name;
  if (verdict == acl::Verdict::kDeniedKey || verdict == acl::Verdict::kDeniedChannel) {
    reason = verdict == acl::Verdict::kDeniedKey ? acl::LogReason::kKey : acl::LogReason::kChannel;
    object = std::string(args[pos]);
  }
  const int64_t now = base::now_ms();
  state_.users().log(reason, context, std::move(object),
                     client.user ? client.user->name() : "default", client_info_line(client, now),
                     now);
}

void Dispatcher::call(server::Client& client, const CommandSpec& spec,
                      std::span<const std::string_view> args, uint8_t target_mask) {
  auto& stats = state_.stats();
  const uint64_t errors_before = client.reply.error_count();
  const uint64_t accounted_before = accounted_errors_;
  const server::Client* const outer_client = failed_client_;
  const uint64_t outer_mark = failed_mark_;
  failed_client_ = &client;
  failed_mark_ = errors_before;
  const uint64_t dirty_before = state_.dirty;
  const size_t redact_from = redacted_.size();
  // Scripts show themselves to MONITOR before the commands they run
  // (Redis's evalCommand / fcallCommand; only they are skip_monitor).
  if (spec.has(kSkipMonitor)) state_.feed_monitors(client, client.db, args);
  const int64_t start = base::monotonic_us();
  // A running point-in-time snapshot saves the keys a write names before
  // the handler runs (lookup_write and the Database's own hooks do too;
  // this covers a handler that modifies what a read lookup returned).
  if (spec.has(kWrite)) {
    auto& db = state_.db(client.db);
    key_positions_.clear();  // extract_keys() appends
    if (db.snapshot_observer() != nullptr && spec.extract_keys(args, key_positions_)) {
      for (const size_t pos : key_positions_) db.prepare_write(args[pos]);
    }
  }
  Context ctx(*this, state_, client, args, spec);
  // Client-side caching: who changes keys now; at the top level, the
  // current client's invalidations wait for its reply.
  server::Client* const outer_modifier = state_.modifier;
  state_.modifier = &client;
  const Frame outer_frame = frame_;
  if (!client.script_client) frame_ = {&client, &spec, args};
  if (call_depth_ == 0) state_.tracking().set_executing(true);
  ++call_depth_;
  spec.handler(ctx);
  --call_depth_;
  state_.modifier = outer_modifier;
  if (spec.has(kReadonly) && state_.tracking().clients() > 0) track_keys_read(client, spec, args);
  frame_ = outer_frame;
  const int64_t elapsed = base::monotonic_us() - start;
  // The one place effects are propagated (Redis's call()): a command that
  // changed something propagates its arguments, or what it rewrote them to.
  // EXEC propagates nothing itself: the commands it ran did.
  if (!ctx.prevent_propagation_ && &spec != exec_spec_) {
    uint8_t targets = ctx.forced_targets_;
    // Only an increase counts: SAVE and DEBUG RELOAD reset the counter.
    if (state_.dirty > dirty_before) targets |= server::kToAll;
    targets &= target_mask;
    if (targets != 0) {
      state_.also_propagate(client.db,
                            ctx.propagate_args_
                                ? std::move(*ctx.propagate_args_)
                                : std::vector<std::string>(args.begin(), args.end()),
                            targets);
    }
  }
  // At the top level, hand the effects on: several at once (EXEC, or a
  // command that met expired keys) as one MULTI/EXEC block, except for the
  // commands that touch arbitrary keys (KEYS, SCAN, RANDOMKEY), whose
  // expirations go out one by one, as in Redis 7.0.
  if (call_depth_ == 0 && state_.has_pending_propagation()) {
    const std::string_view n = spec.name;
    state_.propagate_pending(!(n == "keys" || n == "scan" || n == "randomkey"));
    client.woff = replication_->master_repl_offset();  // what WAIT waits for
  }
  // Then the invalidations the command caused for its own client, after
  // its reply (Redis's afterCommand).
  if (call_depth_ == 0) {
    state_.tracking().set_executing(false);
    state_.tracking().flush_pending();
  }
  ++spec.stats.calls;
  spec.stats.usec += static_cast<uint64_t>(elapsed);
  ++stats.commands_processed;
  instruments_after_call(client, spec, args, elapsed, redact_from);
  const uint64_t own_errors =
      client.reply.error_count() - errors_before - (accounted_errors_ - accounted_before);
  if (own_errors > 0) account_errors(client, client.reply.error_count() - own_errors);
  // Errors written before a nested call() ended (EXEC's own NOPERM for a
  // command it then skipped) count in errorstats but do not fail the
  // command, as in Redis.
  if (client.reply.error_count() > failed_mark_) ++spec.stats.failed_calls;
  if (outer_client == &client) {
    failed_mark_ = client.reply.error_count();
  } else {  // top level, or a script's command: the outer mark stands
    failed_client_ = outer_client;
    failed_mark_ = outer_mark;
  }
}

void Dispatcher::track_keys_read(server::Client& client, const CommandSpec& spec,
                                 std::span<const std::string_view> args) {
  // The read-only script commands leave it to the commands their scripts
  // run.
  const std::string_view n = spec.name;
  if (n == "eval_ro" || n == "evalsha_ro" || n == "fcall_ro") return;
  server::Client* caller = &client;
  const CommandSpec* cmd = &spec;
  if (client.script_client) {
    // Inside a script: the keys the script declared, for its caller.
    if (frame_.client == nullptr) return;
    caller = frame_.client;
    cmd = frame_.spec;
    args = frame_.args;
  }
  if (!caller->tracking.on || caller->tracking.bcast) return;
  // Shard channels have key specs, but are not keys to cache.
  if (cmd->has(kPubSub)) return;
  key_positions_.clear();
  if (!cmd->extract_keys(args, key_positions_) || key_positions_.empty()) return;
  tracked_keys_.clear();
  for (const size_t pos : key_positions_) tracked_keys_.push_back(args[pos]);
  state_.tracking().remember_keys(*caller, tracked_keys_);
}

void Context::redact(size_t i) { dispatcher.redact(i); }

std::span<const std::string_view> Dispatcher::shown_args(std::span<const std::string_view> args,
                                                         size_t redact_from) {
  if (redacted_.size() == redact_from) return args;
  shown_args_.assign(args.begin(), args.end());
  for (size_t k = redact_from; k < redacted_.size(); ++k)
    if (redacted_[k] < shown_args_.size()) shown_args_[redacted_[k]] = "(redacted)";
  return shown_args_;
}

void Dispatcher::instruments_after_call(server::Client& client, const CommandSpec& spec,
                                        std::span<const std::string_view> args, int64_t elapsed_us,
                                        size_t redact_from) {
  // Replaying an AOF or loading: no samples, no slow log, no MONITOR.
  if (!state_.loading) {
    const auto& s = state_.settings();
    state_.latency_sample(spec.has(kFast) ? "fast-command" : "command", elapsed_us / 1000);
    // A client that blocked (WAIT) is neither logged nor timed, as in
    // Redis 7.0 (which times only clients blocked on keys when they
    // unblock; setd has none).
    if (s.slowlog_log_slower_than >= 0 && !client.blocked && !spec.has(kSkipSlowlog)) {
      auto& log = state_.slowlog();
      const auto max_len = static_cast<size_t>(s.slowlog_max_len);
      if (elapsed_us >= s.slowlog_log_slower_than) {
        // Scripts' own client reads "?:0", as Redis's fake client.
        log.push(shown_args(args, redact_from), elapsed_us,
                 client.addr.empty() ? std::string("?:0") : client.addr, client.name, max_len);
      } else {
        log.trim(max_len);
      }
    }
    if (state_.has_monitors() && !spec.has(kSkipMonitor) && !spec.has(kAdmin))
      state_.feed_monitors(client, client.db, shown_args(args, redact_from));
    if (s.latency_tracking && !client.blocked) spec.stats.histogram.record(elapsed_us * 1000);
  }
  redacted_.resize(redact_from);
}

}  // namespace setd::cmd
