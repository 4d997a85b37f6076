#include "setd/server/server_state.hpp"

#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/fd_limit.hpp"
#include "setd/base/memory.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"
#include "setd/server/process.hpp"

namespace setd::server {

ServerState::ServerState(Config config) : config_(std::move(config)) {
  start_time_ms = base::system_ms();
  hub_.set_delivery_counter(&stats_.pubsub_messages);
  shard_hub_.set_delivery_counter(&stats_.pubsub_messages);
  watched_.resize(static_cast<size_t>(config_.settings().databases));
  for (int i = 0; i < config_.settings().databases; ++i) {
    dbs_.push_back(std::make_unique<db::Database>(i));
    dbs_.back()->set_expiry_control(&expiry_control);
    dbs_.back()->set_free_control(&free_control);
    dbs_.back()->on_expired = [this](db::Database& d, std::string_view key) {
      // The latency monitor's "expire-del" (Redis's
      // deleteExpiredKeyAndPropagate).
      latency_sample("expire-del", d.last_expire_delete_us() / 1000);
      ++stats_.expired_keys;
      // Replicas and the AOF learn of an expiry as a DEL, or an UNLINK
      // with lazyfree-lazy-expire (Redis's propagateDeletion), queued
      // before the effects of the command that met the expired key.
      also_propagate(d.id(), {free_control.lazy_expire ? "UNLINK" : "DEL", std::string(key)});
      notify_keyspace_event(notify::kExpired, "expired", key, d.id());
      signal_modified_key(d.id(), key, false);
    };
  }
  persistence_ = std::make_unique<Persistence>(*this);
  // BCAST invalidations go out once the ready I/O has been served (Redis
  // sends them in beforeSleep).
  tracking_.on_broadcast_queued = [this] {
    if (loop != nullptr) loop->post([this] { tracking_.broadcast(); });
  };
  // ACL settings follow the configuration (CONFIG SET included).
  const Settings& st = config_.settings();
  users_.all_channels_default = st.acl_pubsub_default_all;
  users_.log_max_len = static_cast<size_t>(st.acllog_max_len);
  if (!st.requirepass.empty()) users_.set_default_password(st.requirepass);
  config_.set_applier("requirepass", [this](const Settings& s) {
    users_.set_default_password(s.requirepass.empty() ? std::nullopt
                                                      : std::optional<std::string>(s.requirepass));
    return std::string();
  });
  config_.set_applier("acllog-max-len", [this](const Settings& s) {
    users_.log_max_len = static_cast<size_t>(s.acllog_max_len);
    return std::string();
  });
  config_.set_applier("acl-pubsub-default", [this](const Settings& s) {
    users_.all_channels_default = s.acl_pubsub_default_all;
    return std::string();
  });
  // oom-score-adj: the new score is written before the change is kept
  // (Redis's updateOOMScoreAdj); the cron follows a change of role.
  for (const char* name : {"oom-score-adj", "oom-score-adj-values"})
    config_.set_applier(
        name, [](const Settings& s) { return apply_oom_score_adj(s, !s.replicaof.empty()); });
  // More clients need more file descriptors (Redis's updateMaxclients).
  config_.set_applier("maxclients", [](const Settings& s) {
    const auto fd = base::adjust_fd_limit(s.maxclients);
    for (const auto& w : fd.warnings) spdlog::warn("{}", w);
    if (!fd.notice.empty()) spdlog::info("{}", fd.notice);
    if (fd.maxclients != s.maxclients)
      return "The operating system is not able to handle the specified number of clients, try "
             "with " +
             std::to_string(fd.maxclients);
    return std::string();
  });
  // Expired and implicitly deleted values go to the lazyfree thread when
  // big, as the lazyfree-lazy-* directives say.
  free_control.lazy_free = [this](db::Object&& o, size_t bytes) {
    if (!lazyfree_.free_object(std::move(o), bytes)) base::note_freed(bytes);
  };
  free_control.lazy_expire = st.lazyfree_lazy_expire;
  free_control.lazy_server_del = st.lazyfree_lazy_server_del;
  // How accesses are recorded follows maxmemory-policy (LRU or LFU), and
  // lowering maxmemory evicts at once (Redis's updateMaxmemory).
  apply_access_tracking(st);
  config_.on_change([this](const std::string& name) {
    const Settings& s = settings();
    free_control.lazy_expire = s.lazyfree_lazy_expire;
    free_control.lazy_server_del = s.lazyfree_lazy_server_del;
    if (name == "maxmemory-policy" || name == "lfu-log-factor" || name == "lfu-decay-time" ||
        name == "maxmemory")
      apply_access_tracking(s);
    if (name == "maxmemory" && s.maxmemory > 0) {
      const size_t nc = evictor_.not_counted_memory();
      const size_t alloc = base::alloc::allocated();
      const size_t used = alloc > nc ? alloc - nc : 0;
      if (static_cast<size_t>(s.maxmemory) < used)
        spdlog::warn(
            "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current "
            "memory usage ({}). This will result in key eviction and/or the inability to accept "
            "new write commands depending on the maxmemory-policy.",
            s.maxmemory, used);
      evictor_.perform();
    }
    // Clients are counted while client eviction is on (Redis's
    // applyClientMaxMemoryUsage); the next pass evicts.
    if (name == "maxmemory-clients" || name == "maxmemory") recount_client_memory();
  });
  // A start-up figure for servers that never say when start-up ends (unit
  // tests); main() records it again once the server is set up.
  memory_.record_startup();
}

void ServerState::apply_access_tracking(const Settings& s) {
  db::AccessTracking& t = db::access_tracking();
  t.lfu = policy_lfu(s.maxmemory_policy);
  t.save_idle = policy_lru(s.maxmemory_policy);
  t.log_factor = s.lfu_log_factor;
  t.decay_time = s.lfu_decay_time;
  t.no_shared_integers =
      s.maxmemory > 0 && (policy_lru(s.maxmemory_policy) || policy_lfu(s.maxmemory_policy));
}

void ServerState::pause_clients(int64_t end_ms, PauseType type) {
  if (pause_cmd_type_ == PauseType::kOff) {
    pause_cmd_type_ = type;
    pause_cmd_end_ms_ = end_ms;
  } else {
    pause_cmd_type_ = std::max(pause_cmd_type_, type);
    pause_cmd_end_ms_ = std::max(pause_cmd_end_ms_, end_ms);
  }
  update_pause();
  // The loop looks again when it ends (and the cron every tick).
  if (pause_type_ != PauseType::kOff && loop != nullptr) {
    const int64_t wait_ms = std::max<int64_t>(pause_cmd_end_ms_ - base::now_ms() + 1, 0);
    loop->post_after(wait_ms * 1000, [this] {
      base::refresh_now();
      pause_type();
    });
  }
}

void ServerState::unpause_clients() {
  pause_cmd_type_ = PauseType::kOff;
  pause_cmd_end_ms_ = 0;
  update_pause();
}

PauseType ServerState::pause_type() {
  if (pause_type_ != PauseType::kOff && pause_cmd_end_ms_ < base::now_ms()) update_pause();
  return pause_type_;
}

void ServerState::update_pause() {
  const PauseType old = pause_type_;
  if (pause_cmd_type_ != PauseType::kOff && pause_cmd_end_ms_ < base::now_ms()) {
    pause_cmd_type_ = PauseType::kOff;  // expired
    pause_cmd_end_ms_ = 0;
  }
  pause_type_ = pause_cmd_type_;
  // Keys do not expire while paused (reads see them as missing).
  if (old == PauseType::kOff && pause_type_ != PauseType::kOff)
    expiry_control.mode = db::ExpiryMode::kReportOnly;
  else if (old != PauseType::kOff && pause_type_ == PauseType::kOff)
    expiry_control.mode = is_replica ? db::ExpiryMode::kReportOnly : db::ExpiryMode::kActive;
  // Less held than before: everyone waiting runs again (and may wait again).
  if (pause_type_ < old) {
    auto waiting = std::move(postponed_);
    postponed_.clear();
    for (Client* c : waiting) {
      c->postponed = false;
      c->blocked = false;
      if (c->transport) c->transport->unblock();
    }
  }
}

void ServerState::postpone(Client& c) {
  c.postponed = true;
  c.blocked = true;
  postponed_.push_back(&c);
}

std::string ServerState::load_users_at_startup() {
  const Settings& st = config_.settings();
  if (!st.aclfile.empty() && !st.users.empty())
    return "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
           "file path is invalid. This setup is very likely to lead to configuration errors and "
           "security holes, please define either an ACL file or declare users directly in your "
           "redis.conf, but not both.";
  // Checked when the config was read (against acl-pubsub-default as it
  // was at each line); now queued, then applied with its final value.
  for (const auto& def : st.users) {
    std::vector<std::string_view> words{"user"};
    words.insert(words.end(), def.begin(), def.end());
    if (std::string err = users_.add_config_user(words, false); !err.empty()) return err;
  }
  if (std::string err = users_.load_config_users(); !err.empty())
    return err + "\nCritical error while loading ACLs. Exiting.";
  if (!st.aclfile.empty()) {
    std::vector<std::unique_ptr<acl::User>> removed;
    if (auto err = load_acl_file(removed))
      return "Aborting Redis startup because of ACL errors: " + *err;
  }
  return "";
}

std::optional<std::string> ServerState::load_acl_file(
    std::vector<std::unique_ptr<acl::User>>& removed) {
  const std::string& path = config_.settings().aclfile;
  std::ifstream in(path);
  if (!in) {
    return "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  return users_.load_file_text(path, text.str(), removed);
}

void ServerState::begin_loading() {
  loading = true;
  for (auto& d : dbs_) d->set_expiry_suspended(true);
}

void ServerState::end_loading() {
  loading = false;
  for (auto& d : dbs_) d->set_expiry_suspended(false);
}

void ServerState::publish_keyspace_event(int flags, std::string_view event, std::string_view key,
                                         int db) {
  if (hub_.channel_count() == 0 && hub_.numpat() == 0) return;  // nobody listens at all
  const std::string dbs = std::to_string(db);
  if (flags & notify::kKeyspace) {
    std::string channel = "__keyspace@" + dbs + "__:";
    channel.append(key);
    hub_.publish(channel, event);
  }
  if (flags & notify::kKeyevent) {
    std::string channel = "__keyevent@" + dbs + "__:";
    channel.append(event);
    hub_.publish(channel, key);
  }
}

void ServerState::watch_key(Client& c, int db, std::string_view key) {
  for (const auto& [wdb, wkey] : c.watched)
    if (wdb == db && wkey == key) return;
  c.watched.emplace_back(db, std::string(key));
  auto& m = watched_[static_cast<size_t>(db)];
  auto it = m.find(key);
  if (it == m.end()) it = m.emplace(std::string(key), std::vector<Watcher>{}).first;
  it->second.push_back({&c, dbs_[static_cast<size_t>(db)]->is_expired(key)});
  ++watched_count_;
}

bool ServerState::key_present(int db, std::string_view key) const {
  const auto& d = *dbs_[static_cast<size_t>(db)];
  return d.peek(key) != nullptr || d.is_expired(key);
}

void ServerState::dirty_and_unwatch(const std::vector<Client*>& clients) {
  for (Client* c : clients) {
    c->dirty_cas = true;
    unwatch_all(*c);  // no need to watch anything more: EXEC will fail
  }
}

void ServerState::touch_watched_key(int db, std::string_view key) {
  auto& m = watched_[static_cast<size_t>(db)];
  auto it = m.find(key);
  if (it == m.end()) return;
  std::vector<Client*> to_dirty;
  for (Watcher& w : it->second) {
    if (w.expired) {
      // Watched while already expired: the key going away is no change.
      if (!key_present(db, key)) {
        w.expired = false;
        continue;
      }
      break;  // as Redis 7.0: the remaining watchers are left alone
    }
    to_dirty.push_back(w.client);
  }
  dirty_and_unwatch(to_dirty);
}

void ServerState::touch_watched_keys_in_db(int db, int also_db) {
  if (watched_count_ == 0) return;
  std::vector<Client*> to_dirty;
  for (auto& [key, watchers] : watched_[static_cast<size_t>(db)]) {
    const bool in_db = key_present(db, key);
    const bool in_other = also_db >= 0 && key_present(also_db, key);
    if (!in_db && !in_other) continue;
    const bool other_expired = in_other && dbs_[static_cast<size_t>(also_db)]->is_expired(key);
    for (Watcher& w : watchers) {
      if (w.expired) {
        if (!in_other) {
          w.expired = false;  // the expired key is gone: no logical change
          continue;
        }
        if (other_expired) continue;  // replaced by another expired key
      } else if (!in_db && other_expired) {
        w.expired = true;  // a missing key replaced by an expired one
        continue;
      }
      to_dirty.push_back(w.client);
    }
  }
  std::sort(to_dirty.begin(), to_dirty.end());
  to_dirty.erase(std::unique(to_dirty.begin(), to_dirty.end()), to_dirty.end());
  dirty_and_unwatch(to_dirty);
}

bool ServerState::watched_key_expired(const Client& c) const {
  for (const auto& [db, key] : c.watched) {
    const auto& m = watched_[static_cast<size_t>(db)];
    auto it = m.find(key);
    if (it == m.end()) continue;
    for (const Watcher& w : it->second)
      if (w.client == &c && !w.expired && dbs_[static_cast<size_t>(db)]->is_expired(key))
        return true;
  }
  return false;
}

void ServerState::swap_dbs(int a, int b) {
  touch_watched_keys_in_db(a, b);
  touch_watched_keys_in_db(b, a);
  dbs_[static_cast<size_t>(a)]->swap_contents(*dbs_[static_cast<size_t>(b)]);
}

void ServerState::flush_db(int index, bool async) {
  tracking_.invalidate_on_flush();
  empty_db(index, async);
}

void ServerState::flush_all(bool async) {
  tracking_.invalidate_on_flush();
  for (int i = 0; i < db_count(); ++i) empty_db(i, async);
}

void ServerState::empty_db(int index, bool async) {
  touch_watched_keys_in_db(index);
  db::Database& d = db(index);
  // A running snapshot takes the table over itself (before_clear).
  if (async && d.snapshot_observer() == nullptr) {
    const size_t bytes = d.size() * 64;  // an estimate, as clear() notes
    lazyfree_.free_keyspace(d.take_contents(), bytes);
    return;
  }
  d.clear();
}

bool ServerState::unlink_key(int db_index, std::string_view key) {
  db::Database& d = db(db_index);
  const db::Value* v = d.peek(key);
  const size_t bytes = v != nullptr ? v->heap_bytes() : 0;
  auto taken = d.take(key);
  if (!taken) return false;
  // Noted when freed: by the thread, or here when small.
  if (!lazyfree_.free_object(std::move(taken->first), bytes)) base::note_freed(bytes);
  return true;
}

bool ServerState::output_limit_reached(Client& c, size_t extra) {
  // Our master's link is never cut for its output (our ACKs), as Redis.
  if (c.repl_role == ReplRole::kMaster) return false;
  const auto cls = c.repl_role == ReplRole::kReplica ? ClientClass::kReplica
                   : c.subscriptions() > 0           ? ClientClass::kPubSub
                                                     : ClientClass::kNormal;
  const OutputLimit& lim = settings().output_limits[static_cast<int>(cls)];
  const size_t used = c.output_bytes() + extra;
  if (lim.hard && used >= lim.hard) return true;
  if (lim.soft && used >= lim.soft) {
    const int64_t now = base::now_ms();
    if (c.obuf_soft_since_ms == 0) {
      c.obuf_soft_since_ms = now;
    } else if (now - c.obuf_soft_since_ms > lim.soft_seconds * 1000) {
      // Over the soft limit for more than soft_seconds, as Redis counts.
      return true;
    }
  } else {
    c.obuf_soft_since_ms = 0;
  }
  return false;
}

void ServerState::cron() {
  base::refresh_now();
  const int64_t now = base::now_ms();
  // Active expiry: a bounded amount of sampling per database per tick, as
  // Redis 7.0's activeExpireCycle does: repeat while more than an
  // acceptable share of the sample was expired, within a time budget. With
  // active-expire-effort e (1..10), each loop samples 20 + 5(e-1) keys, the
  // acceptable share is 10 - (e-1) percent and the budget 25 + 2(e-1)
  // percent of a tick.
  const long long effort = std::clamp<long long>(settings().active_expire_effort, 1, 10) - 1;
  const size_t keys_per_loop = static_cast<size_t>(20 + 20 / 4 * effort);
  const long long acceptable_stale = 10 - effort;
  const int64_t budget_us =
      (25 + 2 * effort) * 1000000 / 100 / std::max<long long>(settings().hz, 1);
  const int64_t start = base::monotonic_us();
  // Nothing expires while clients are paused (Redis's activeExpireCycle),
  // nor after DEBUG SET-ACTIVE-EXPIRE 0 (then no cycle runs at all).
  bool out_of_time = paused() || !active_expire_enabled;
  for (int i = 0; i < db_count() && !out_of_time; ++i) {
    auto& d = db(i);
    for (int round = 0; round < 64 && d.expires_size() > 0; ++round) {
      auto [sampled, expired] = d.expire_cycle_step(keys_per_loop);
      propagate_pending(false);  // each expired key's DEL on its own, as Redis
      if (sampled == 0 || static_cast<long long>(expired * 100 / sampled) <= acceptable_stale)
        break;
      if (base::monotonic_us() - start > budget_us) {
        out_of_time = true;  // the client checks below still run
        break;
      }
    }
  }
  // The latency monitor's "expire-cycle" (Redis's activeExpireCycle).
  if (active_expire_enabled) latency_sample("expire-cycle", (base::monotonic_us() - start) / 1000);
  // Active rehashing (activerehashing, Redis's databasesCron): 1 ms of
  // rehash steps on the first database (of up to 16 from where the last
  // tick stopped) whose table is being rehashed.
  if (settings().activerehashing) {
    for (int j = 0; j < std::min(db_count(), 16); ++j) {
      if (db(rehash_db_).rehash_for(1000)) break;
      rehash_db_ = (rehash_db_ + 1) % db_count();
    }
  }
  persistence_->cron();
  propagate_pending(false);  // anything met outside a command (expiry)
  // The tracking table's limit applies even to an idle server (after a
  // CONFIG SET), as Redis's serverCron.
  if (tracking_.clients() > 0)
    tracking_.limit_used_slots(static_cast<size_t>(settings().tracking_table_max_keys));
  memory_.cron(now);
  // Idle clients (timeout), soft output-buffer limits, and buffer memory of
  // clients idle for 2 s or more (once a second, as Redis's clientsCron
  // resizes query and reply buffers).
  const long long timeout = settings().timeout;
  const bool trim = now - last_trim_ms_ >= 1000;
  if (trim) {
    last_trim_ms_ = now;
    // A replica's OOM score differs from a master's (REPLICAOF changes
    // the role; Redis's replicationSetMaster calls setOOMScoreAdj).
    apply_oom_score_adj(settings(), !settings().replicaof.empty());
    // Memory freed inside the heap (a deleted big set, a drained buffer)
    // goes back to the kernel, as jemalloc's decay does for Redis.
    base::trim_heap_if_worthwhile(1024 * 1024);
  }
  for (auto& [id, c] : clients_) {
    if (c->killed) continue;
    const int64_t idle_ms = now - c->last_interaction_ms;
    // Masters, replicas, monitors and blocked clients are never idle
    // (Redis's clientsCronHandleTimeout).
    if (timeout > 0 && c->subscriptions() == 0 && !c->in_multi && !c->blocked && !c->monitor &&
        c->repl_role == ReplRole::kNone && idle_ms / 1000 > timeout) {
      close_async(*c, CloseReason::kIdleTimeout);
    } else if (c->output_bytes() > 0 && output_limit_reached(*c)) {
      close_async(*c, CloseReason::kOutputBufferLimit);
    } else if (trim && idle_ms >= 2000 && c->transport) {
      c->transport->trim_buffers();
    }
  }
}

void ServerState::close_async(Client& c, CloseReason why) {
  if (c.killed) return;
  c.killed = true;
  switch (why) {
    case CloseReason::kKilled:
      break;
    case CloseReason::kOutputBufferLimit:
      spdlog::warn("Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                   c.addr);
      ++stats_.client_output_limit_disconnections;
      c.out.clear();  // nothing more is sent to it
      break;
    case CloseReason::kQueryBufferLimit:
      spdlog::warn("Closing client that reached max query buffer length: {}", c.addr);
      ++stats_.client_query_buffer_limit_disconnections;
      break;
    case CloseReason::kIdleTimeout:
      spdlog::debug("Closing idle client {}", c.addr);
      break;
    case CloseReason::kUserChanged:
      break;
    case CloseReason::kClientEviction:
      ++stats_.evicted_clients;
      c.out.clear();
      break;
  }
  // Gone from the clients' total at once (Redis frees it now).
  if (c.memory_counted) {
    clients_memory_ -= c.counted_memory;
    c.memory_counted = false;
  }
  if (c.transport) c.transport->close_soon();
}

void ServerState::also_propagate(int db, std::vector<std::string> args, uint8_t targets) {
  if (loading || sinks_.empty()) return;
  pending_ops_.push_back({db, std::move(args), targets});
}

void ServerState::propagate_pending(bool wrap) {
  if (pending_ops_.empty()) return;
  std::vector<PropagatedOp> ops;
  ops.swap(pending_ops_);
  const bool transaction = wrap && ops.size() > 1;
  static const std::vector<std::string> kMulti{"MULTI"}, kExec{"EXEC"};
  for (auto& [targets, sink] : sinks_) {
    const auto wanted = std::count_if(ops.begin(), ops.end(),
                                      [t = targets](const auto& op) { return op.targets & t; });
    if (wanted == 0) continue;
    if (transaction) sink->feed(ops.front().db, kMulti);
    for (const auto& op : ops)
      if (op.targets & targets) sink->feed(op.db, op.args);
    if (transaction) sink->feed(ops.back().db, kExec);
  }
}

void ServerState::add_propagation_sink(uint8_t targets, PropagationSink* sink) {
  sinks_.emplace_back(targets, sink);
}

void ServerState::remove_propagation_sink(PropagationSink* sink) {
  std::erase_if(sinks_, [&](const auto& s) { return s.second == sink; });
}

Client& ServerState::add_client() {
  const uint64_t id = next_client_id_++;
  auto [it, inserted] = clients_.emplace(id, std::make_unique<Client>(id, base::now_ms()));
  Client& c = *it->second;
  c.user = &users_.default_user();
  c.authenticated = !users_.auth_required_by_default();
  return c;
}

void ServerState::disconnect_user_clients(const acl::User* u, Client* current) {
  for (auto& [id, c] : clients_) {
    if (c->user != u) continue;
    c->user = &users_.default_user();
    c->authenticated = false;
    if (c.get() == current)
      c->close_after_reply = true;
    else
      close_async(*c, CloseReason::kUserChanged);
  }
}

void ServerState::drop_subscriptions(Client& c) {
  for (const auto& ch : c.channels) hub_.unsubscribe(&c, ch);
  for (const auto& p : c.patterns) hub_.punsubscribe(&c, p);
  for (const auto& ch : c.shard_channels) shard_hub_.unsubscribe(c.shard_subscriber(), ch);
  c.channels.clear();
  c.patterns.clear();
  c.pattern_order.clear();
  c.shard_channels.clear();
}

void ServerState::unwatch_all(Client& c) {
  for (const auto& [db, key] : c.watched) {
    auto& m = watched_[static_cast<size_t>(db)];
    auto it = m.find(key);
    if (it == m.end()) continue;
    std::erase_if(it->second, [&](const Watcher& w) { return w.client == &c; });
    if (it->second.empty()) m.erase(it);
    --watched_count_;
  }
  c.watched.clear();
}

bool ServerState::deletes_when_already_expired(long long when_ms) const {
  // An AOF replays PEXPIREAT as written (the key expires afterwards); a
  // replica keeps the key until its master's DEL.
  return when_ms <= base::now_ms() && !loading && !is_replica;
}

void ServerState::remove_client(Client& c) {
  if (on_client_removed) on_client_removed(c);
  if (c.memory_counted) {
    clients_memory_ -= c.counted_memory;
    c.memory_counted = false;
  }
  std::erase(postponed_, &c);
  if (c.monitor) remove_monitor(c);
  drop_subscriptions(c);
  unwatch_all(c);
  tracking_.client_removed(c);
  clients_.erase(c.id());
}

size_t ServerState::client_eviction_limit() const {
  const Settings& s = settings();
  size_t limit = 0;
  if (s.maxmemory_clients < 0 && s.maxmemory > 0)
    limit = static_cast<size_t>(static_cast<double>(s.maxmemory) *
                                (-static_cast<double>(s.maxmemory_clients) / 100));
  else if (s.maxmemory_clients > 0)
    limit = static_cast<size_t>(s.maxmemory_clients);
  else
    return 0;
  // Never so low that no client could talk to the server (Redis's floor).
  return std::max<size_t>(limit, 128 * 1024);
}

namespace {

// Redis's client memory buckets: log2 of the memory, from 32 KB (bucket 0)
// to 8 GB and more (bucket 18).
int memory_bucket_of(size_t mem) {
  constexpr int kMinLog = 15;
  constexpr int kMaxLog = 33;
  const int log = mem == 0 ? 0 : 63 - __builtin_clzll(mem);
  return std::clamp(log, kMinLog, kMaxLog) - kMinLog;
}

// Normal and pub/sub clients count (monitors too; replicas and the master
// link do not), NO-EVICT ones included: as in Redis, they take room but
// only the others are evicted.
bool counted(const Client& c, const Settings& s) {
  return s.maxmemory_clients != 0 && !c.killed && c.repl_role == ReplRole::kNone &&
         c.transport != nullptr;
}

}  // namespace

void ServerState::note_client_memory(Client& c) {
  if (!counted(c, settings())) {
    if (c.memory_counted) {
      clients_memory_ -= c.counted_memory;
      c.memory_counted = false;
      c.memory_bucket = -1;
    }
    return;
  }
  const size_t mem = c.memory_usage();
  if (c.memory_counted) clients_memory_ -= c.counted_memory;
  clients_memory_ += mem;
  c.counted_memory = mem;
  c.memory_counted = true;
  const int bucket = memory_bucket_of(mem);
  if (bucket != c.memory_bucket) {
    c.memory_bucket = bucket;
    c.memory_bucket_seq = ++memory_bucket_seq_;
  }
  // Grown past the limit outside a command (a subscriber's output, a big
  // argument arriving): evict from the loop, as Redis's beforeSleep does.
  const size_t limit = client_eviction_limit();
  if (limit != 0 && clients_memory_ >= limit && !client_eviction_posted_ && loop != nullptr) {
    client_eviction_posted_ = true;
    loop->post([this] {
      client_eviction_posted_ = false;
      evict_clients();
    });
  }
}

void ServerState::recount_client_memory() {
  for (auto& [id, c] : clients_) note_client_memory(*c);
}

void ServerState::evict_clients() {
  const size_t limit = client_eviction_limit();
  if (limit == 0 || clients_memory_ < limit) return;
  // The biggest first: highest bucket, then the order clients entered it.
  std::vector<Client*> victims;
  for (auto& [id, c] : clients_)
    if (c->memory_counted && !c->no_evict) victims.push_back(c.get());
  std::sort(victims.begin(), victims.end(), [](const Client* a, const Client* b) {
    if (a->memory_bucket != b->memory_bucket) return a->memory_bucket > b->memory_bucket;
    return a->memory_bucket_seq < b->memory_bucket_seq;
  });
  for (Client* c : victims) {
    if (clients_memory_ < limit) return;
    spdlog::info("Evicting client: {}", describe_client ? describe_client(*c) : c->addr);
    close_async(*c, CloseReason::kClientEviction);
  }
  if (clients_memory_ >= limit)
    spdlog::warn("Over client maxmemory after evicting all evictable clients");
}

void ServerState::add_monitor(Client& c) {
  c.monitor = true;
  monitors_.push_back(&c);
}

void ServerState::remove_monitor(Client& c) {
  c.monitor = false;
  std::erase(monitors_, &c);
}

void ServerState::feed_monitors(const Client& c, int db, std::span<const std::string_view> args) {
  if (monitors_.empty() || loading) return;
  struct timeval tv {};
  gettimeofday(&tv, nullptr);
  char head[64];
  std::snprintf(head, sizeof(head), "+%ld.%06ld [%d ", static_cast<long>(tv.tv_sec),
                static_cast<long>(tv.tv_usec), db);
  std::string line = head;
  if (c.script_client)
    line += "lua";
  else
    line += c.addr;
  line += "] ";
  for (size_t j = 0; j < args.size(); ++j) {
    base::append_repr(line, args[j]);
    if (j + 1 != args.size()) line += ' ';
  }
  line += "\r\n";
  for (Client* m : monitors_) {
    // CLIENT REPLY OFF silences a monitor too (Redis's prepareClientToWrite).
    if (m->killed || m->reply_mode == ReplyMode::kOff) continue;
    m->out += line;
    if (m->transport) m->transport->wake();
  }
}

Client* ServerState::find_client(uint64_t id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

}  // namespace setd::server
