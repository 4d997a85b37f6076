// Replication, the replica side: REPLICAOF, the link to the master (its
// handshake and image), the stream it sends, ACKs and timeouts.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/persist/aof_format.hpp"
#include "setd/persist/file_writer.hpp"
#include "setd/repl/internal.hpp"
#include "setd/server/server_state.hpp"

namespace setd::repl {

namespace {

int64_t unix_s() { return base::system_ms() / 1000; }
constexpr size_t kMaxLine = 64 * 1024;

}  // namespace

// --- the link's handshake and image ------------------------------------------------

Replication::MasterLink::~MasterLink() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void Replication::MasterLink::send(std::initializer_list<std::string_view> args) {
  persist::append_command_range(c_->out, args);
  if (c_->transport) c_->transport->wake();
}

void Replication::MasterLink::start() {
  last_io_s_ = unix_s();
  send({"PING"});
}

void Replication::MasterLink::fail(const std::string& why) {
  spdlog::warn("{}", why);
  repl_.state_.close_async(*c_, server::CloseReason::kKilled);
}

size_t Replication::MasterLink::consume(server::Client& c, std::string_view data) {
  last_io_s_ = unix_s();
  repl_.master_lastio_s_ = last_io_s_;
  size_t used = 0;
  while (used < data.size() && c.raw_input == this && !c.killed) {
    if (step_ == Step::kBulkBody) {
      used += body(data.substr(used));
      continue;
    }
    const std::string_view rest = data.substr(used);
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      if (rest.size() > kMaxLine) fail("Bad protocol from MASTER: a line longer than 64 KB");
      break;
    }
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    used += nl + 1;
    on_line(line);
  }
  return c.killed ? data.size() : used;
}

void Replication::MasterLink::on_line(std::string_view line) {
  const auto& s = repl_.state_.settings();
  const bool error = !line.empty() && line[0] == '-';
  switch (step_) {
    case Step::kPing: {
      if (line.empty()) return;
      // A master that wants AUTH still answers (NOAUTH, NOPERM): go on.
      if (error && !line.starts_with("-NOAUTH") && !line.starts_with("-NOPERM") &&
          !line.starts_with("-ERR operation not permitted")) {
        fail("Error reply to PING from master: '" + std::string(line.substr(1)) + "'");
        return;
      }
      spdlog::info("Master replied to PING, replication can continue...");
      if (!s.masterauth.empty()) {
        if (!s.masteruser.empty())
          send({"AUTH", s.masteruser, s.masterauth});
        else
          send({"AUTH", s.masterauth});
      }
      const int port = s.replica_announce_port
                           ? s.replica_announce_port
                           : (repl_.state_.tcp_port ? repl_.state_.tcp_port : s.port);
      send({"REPLCONF", "listening-port", std::to_string(port)});
      if (!s.replica_announce_ip.empty()) {
        send({"REPLCONF", "ip-address", s.replica_announce_ip});
        sent_ip_ = true;
      }
      send({"REPLCONF", "capa", "eof", "capa", "psync2"});
      step_ = s.masterauth.empty() ? Step::kPort : Step::kAuth;
      return;
    }
    case Step::kAuth:
      if (error) {
        fail("Unable to AUTH to MASTER: " + std::string(line));
        return;
      }
      step_ = Step::kPort;
      return;
    case Step::kPort:
      if (error)
        spdlog::info("(Non critical) Master does not understand REPLCONF listening-port: {}", line);
      step_ = sent_ip_ ? Step::kIp : Step::kCapa;
      return;
    case Step::kIp:
      if (error)
        spdlog::info("(Non critical) Master does not understand REPLCONF ip-address: {}", line);
      step_ = Step::kCapa;
      return;
    case Step::kCapa: {
      if (error) spdlog::info("(Non critical) Master does not understand REPLCONF capa: {}", line);
      // PSYNC with what we hold: the ID and offset of our data, or "?".
      if (repl_.have_cached_) {
        const std::string off = std::to_string(repl_.offset_ + 1);
        spdlog::info("Trying a partial resynchronization (request {}:{}).", repl_.replid_, off);
        send({"PSYNC", repl_.replid_, off});
      } else {
        spdlog::info("Partial resynchronization not possible (no cached master)");
        send({"PSYNC", "?", "-1"});
      }
      step_ = Step::kPsync;
      return;
    }
    case Step::kPsync: {
      if (line.empty()) return;  // the master keeps the link alive
      if (line.starts_with("+FULLRESYNC")) {
        // +FULLRESYNC <replid> <offset>
        const std::string_view rest = line.substr(std::min<size_t>(line.size(), 12));
        const size_t sp = rest.find(' ');
        long long off = 0;
        if (sp != 40 || !base::string_to_ll(rest.substr(sp + 1), off)) {
          fail("Master replied with wrong +FULLRESYNC syntax.");
          return;
        }
        repl_.fullresync_replid_ = std::string(rest.substr(0, 40));
        repl_.fullresync_offset_ = off;
        spdlog::info("Full resync from master: {}:{}", repl_.fullresync_replid_, off);
        step_ = Step::kBulkHeader;
        repl_.link_state_ = LinkState::kTransfer;
        return;
      }
      if (line.starts_with("+CONTINUE")) {
        std::string_view id = line.substr(std::min<size_t>(line.size(), 9));
        while (!id.empty() && id[0] == ' ') id.remove_prefix(1);
        repl_.partial_accepted(std::string(id.substr(0, 40)));
        return;
      }
      if (line.starts_with("-NOMASTERLINK") || line.starts_with("-LOADING")) {
        fail("Master is currently unable to PSYNC but should be in the future: " +
             std::string(line));
        return;
      }
      fail("Unexpected reply to PSYNC from master: " + std::string(line));
      return;
    }
    case Step::kBulkHeader: {
      if (line.empty()) return;  // a newline while the master prepares the image
      if (error) {
        fail("MASTER aborted replication with an error: " + std::string(line.substr(1)));
        return;
      }
      if (line[0] != '$') {
        fail("Bad protocol from MASTER, the first byte is not '$' (we received '" +
             std::string(line) + "'), are you sure the host and port are right?");
        return;
      }
      if (line.starts_with("$EOF:")) {
        if (line.size() != 45) {
          fail("Bad protocol from MASTER: an EOF marker that is not 40 bytes long");
          return;
        }
        use_mark_ = true;
        mark_ = std::string(line.substr(5));
        spdlog::info(
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
      } else {
        long long n = 0;
        if (!base::string_to_ll(line.substr(1), n) || n < 0) {
          fail("Bad protocol from MASTER: bad bulk length '" + std::string(line) + "'");
          return;
        }
        size_ = n;
        spdlog::info("MASTER <-> REPLICA sync: receiving {} bytes from master to disk", n);
      }
      temp_path_ = "temp-" + std::to_string(unix_s()) + "." + std::to_string(::getpid()) + ".rdb";
      fd_ = ::open(temp_path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
      if (fd_ < 0) {
        fail("Opening the temp file needed for MASTER <-> REPLICA synchronization: " +
             std::string(std::strerror(errno)));
        return;
      }
      step_ = Step::kBulkBody;
      if (size_ == 0) finish_body();
      return;
    }
    case Step::kBulkBody:
      return;
  }
}

bool Replication::MasterLink::write_file(std::string_view data) {
  if (data.empty()) return true;
  if (!persist::write_all(fd_, data.data(), data.size())) {
    fail(
        "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA "
        "synchronization: " +
        std::string(std::strerror(errno)));
    return false;
  }
  return true;
}

size_t Replication::MasterLink::body(std::string_view data) {
  if (!use_mark_) {
    const auto n = static_cast<size_t>(std::min<int64_t>(size_ - read_, data.size()));
    if (!write_file(data.substr(0, n))) return data.size();
    read_ += static_cast<int64_t>(n);
    if (read_ == size_) finish_body();
    return n;
  }
  // Look for the marker across the end of what came before.
  std::string joined = tail_;
  joined.append(data);
  const size_t at = joined.find(mark_);
  if (at != std::string::npos) {
    const size_t take = at + mark_.size() - tail_.size();  // bytes of `data` up to the marker's end
    if (!write_file(data.substr(0, take))) return data.size();
    read_ += static_cast<int64_t>(take);
    // The marker went to the file: cut it off.
    if (::ftruncate(fd_, read_ - static_cast<int64_t>(mark_.size())) != 0) {
      fail("Truncating the RDB received from MASTER: " + std::string(std::strerror(errno)));
      return data.size();
    }
    read_ -= static_cast<int64_t>(mark_.size());
    finish_body();
    return take;
  }
  if (!write_file(data)) return data.size();
  read_ += static_cast<int64_t>(data.size());
  tail_ = joined.size() > mark_.size() ? joined.substr(joined.size() - mark_.size()) : joined;
  return data.size();
}

void Replication::MasterLink::finish_body() {
  if (::fsync(fd_) != 0) {
    fail("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: " +
         std::string(std::strerror(errno)));
    return;
  }
  ::close(fd_);
  fd_ = -1;
  const std::string path = temp_path_;
  repl_.image_received(path);
}

void Replication::MasterLink::info(std::string& o, int64_t now_s) const {
  const long long total = use_mark_ ? -1 : size_;
  char perc[32];
  std::snprintf(perc, sizeof(perc), "%.2f",
                total > 0 ? static_cast<double>(read_) / static_cast<double>(total) * 100 : 0.0);
  o += "master_sync_total_bytes:" + std::to_string(total) + "\r\n";
  o += "master_sync_read_bytes:" + std::to_string(read_) + "\r\n";
  o += "master_sync_left_bytes:" + std::to_string(total - read_) + "\r\n";
  o += "master_sync_perc:" + std::string(perc) + "\r\n";
  o += "master_sync_last_io_seconds_ago:" + std::to_string(now_s - last_io_s_) + "\r\n";
}

// --- REPLICAOF ------------------------------------------------------------------------

void Replication::start() {
  const std::string& ro = state_.settings().replicaof;
  const auto& info = state_.persistence().loaded_repl_info;
  const bool dump_has_history = info.stream_db >= 0 && info.replid.size() == 40 && info.offset >= 0;
  if (ro.empty()) {
    // A master restarted from its own dump: the dump's history stays valid
    // as our second ID, so that its replicas can continue (Redis 7.0's
    // loadDataFromDisk).
    if (dump_has_history) {
      replid2_ = info.replid;
      second_offset_ = info.offset + 1;
      offset_ = info.offset;
      create_backlog();
      spdlog::info("Replication history kept from the dump: ID {} up to offset {}", replid2_,
                   second_offset_);
    }
    return;
  }
  const size_t sp = ro.find(' ');
  long long port = 0;
  base::string_to_ll(std::string_view(ro).substr(sp + 1), port);
  bool already = false;
  replicaof(ro.substr(0, sp), static_cast<int>(port), "config file", &already);
  // At start-up, the dump we loaded may say where in its master's stream it
  // was taken: then we ask to continue from there (as Redis's
  // replicationCacheMasterUsingMyself after loading).
  have_cached_ = dump_has_history;
  if (have_cached_) {
    replid_ = info.replid;
    offset_ = info.offset;
    cached_db_ = info.stream_db < state_.db_count() ? info.stream_db : 0;
    spdlog::info("Using the replication ID {} and offset {} of the dump to continue", replid_,
                 offset_);
  }
}

void Replication::replicaof(const std::string& host, int port, const std::string& who,
                            bool* already) {
  if (is_replica() && master_host_ == host && master_port_ == port) {
    *already = true;
    return;
  }
  const bool was_master = !is_replica();
  drop_link();
  if (was_master) {
    // WAITs cannot be satisfied any more; our replicas must follow us to
    // our new history (they may continue, PSYNC2). Our own data and offset
    // are what we ask the new master for: it may have our ID as its second.
    unblock_waiters(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
        "replica?)");
    disconnect_replicas();
    have_cached_ = true;
  }
  master_host_ = host;
  master_port_ = port;
  stream_db_ = -1;
  link_state_ = LinkState::kConnect;
  // As Redis's repl_down_since: "down since" counts from losing a link that
  // was up (drop_link); a master that just became a replica never had one.
  if (was_master) link_down_since_s_ = 0;
  update_sink_registration();
  state_.is_replica = true;
  state_.expiry_control.mode = db::ExpiryMode::kReportOnly;
  state_.config().settings().replicaof = host + " " + std::to_string(port);
  spdlog::info("REPLICAOF {}:{} enabled (user request from '{}')", host, port, who);
  connect_to_master();
}

void Replication::replicaof_no_one(const std::string& who) {
  if (!is_replica()) return;
  drop_link();
  link_down_since_s_ = 0;  // ready for when we turn into a replica again
  master_host_.clear();
  master_port_ = 0;
  link_state_ = LinkState::kNone;
  update_sink_registration();
  have_cached_ = false;
  shift_replid();
  disconnect_replicas();
  stream_db_ = -1;
  no_replicas_since_s_ = unix_s();
  state_.is_replica = false;
  state_.expiry_control.mode = db::ExpiryMode::kActive;
  state_.config().settings().replicaof.clear();
  spdlog::info("MASTER MODE enabled (user request from '{}')", who);
}

void Replication::drop_link() {
  ++connect_attempt_;  // a connection on its way is not wanted any more
  server::Client* c = master_ ? master_ : (link_ ? link_->client() : nullptr);
  if (master_) {
    cached_db_ = master_->db;
    have_cached_ = true;
    link_down_since_s_ = unix_s();
  }
  master_ = nullptr;
  link_.reset();
  std::string().swap(multi_bytes_);
  if (c) {
    c->raw_input = nullptr;
    c->repl_role = server::ReplRole::kNone;
    state_.close_async(*c, server::CloseReason::kKilled);
  }
}

// --- connecting -------------------------------------------------------------------------

void Replication::connect_to_master() {
  if (connector_ == nullptr) return;  // no network (unit tests)
  link_state_ = LinkState::kConnecting;
  handshake_started_s_ = unix_s();
  spdlog::info("Connecting to MASTER {}:{}", master_host_, master_port_);
  const uint64_t attempt = ++connect_attempt_;
  connector_->connect(master_host_, master_port_, state_.settings().repl_timeout * 1000,
                      [this, attempt](server::Client* c, const std::string& err) {
                        on_connected(c, err, attempt);
                      });
}

void Replication::on_connected(server::Client* c, const std::string& error, uint64_t attempt) {
  if (attempt != connect_attempt_ || link_state_ != LinkState::kConnecting) {
    if (c) state_.close_async(*c, server::CloseReason::kKilled);
    return;
  }
  if (c == nullptr) {
    spdlog::warn("Unable to connect to MASTER: {}", error);
    link_state_ = LinkState::kConnect;  // the cron tries again
    return;
  }
  spdlog::info("MASTER <-> REPLICA sync started");
  c->repl_role = server::ReplRole::kMaster;
  c->authenticated = true;
  c->user = nullptr;  // the master's commands are not checked against ACLs
  link_ = std::make_unique<MasterLink>(*this, c);
  c->raw_input = link_.get();
  link_state_ = LinkState::kHandshake;
  master_lastio_s_ = unix_s();
  link_->start();
}

void Replication::master_link_lost(server::Client& c) {
  const bool ours = &c == master_ || (link_ && link_->client() == &c);
  if (!ours) return;
  const bool was_streaming = &c == master_;
  if (was_streaming) {
    spdlog::info("Connection with master lost.");
    spdlog::info("Caching the disconnected master state.");
    cached_db_ = c.db;
    have_cached_ = true;
    master_ = nullptr;
  }
  std::string().swap(multi_bytes_);  // a transaction cut in half never ran
  link_.reset();
  c.raw_input = nullptr;
  if (was_streaming) link_down_since_s_ = unix_s();
  if (is_replica()) {
    link_state_ = LinkState::kConnect;
    // Straight back (the backlog may not wait), as Redis after losing a
    // streaming link; a failed attempt waits for the next second.
    if (was_streaming && state_.loop) {
      spdlog::info("Reconnecting to MASTER {}:{}", master_host_, master_port_);
      state_.loop->post([this] {
        if (link_state_ == LinkState::kConnect) connect_to_master();
      });
    }
  }
}

// --- after the handshake ---------------------------------------------------------------------

void Replication::become_connected(server::Client& c, int db) {
  master_ = &c;
  c.raw_input = nullptr;
  c.reply_mode = server::ReplyMode::kOff;  // a master hears nothing back but ACKs
  c.db = db;
  link_state_ = LinkState::kConnected;
  have_cached_ = true;
  master_lastio_s_ = unix_s();
  if (!backlog_) create_backlog();
  send_ack();
}

void Replication::partial_accepted(const std::string& new_id) {
  server::Client& c = *link_->client();
  spdlog::info("Successful partial resynchronization with master.");
  if (!new_id.empty() && new_id != replid_) {
    // The master's history goes on under a new ID: ours is its past.
    replid2_ = replid_;
    second_offset_ = offset_ + 1;
    replid_ = new_id;
    spdlog::warn("Master replication ID changed to {}", new_id);
    disconnect_replicas();  // they must learn the new ID
  }
  spdlog::info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
  become_connected(c, cached_db_);
}

void Replication::image_received(const std::string& temp_path) {
  server::Client& c = *link_->client();
  const std::string& dump = state_.settings().dbfilename;
  if (::rename(temp_path.c_str(), dump.c_str()) != 0) {
    spdlog::warn(
        "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {}",
        dump, std::strerror(errno));
    ::unlink(temp_path.c_str());
    state_.close_async(c, server::CloseReason::kKilled);
    return;
  }
  // Our replicas had our old history: they must sync again.
  disconnect_replicas();
  free_backlog();
  const std::string err = load_image(dump);
  if (!err.empty()) {
    spdlog::warn(
        "Failed trying to load the MASTER synchronization DB from disk, check server "
        "logs. ({})",
        err);
    state_.flush_all();
    if (state_.scripts != nullptr) state_.scripts->flush_functions();
    have_cached_ = false;
    state_.close_async(c, server::CloseReason::kKilled);
    return;
  }
  replid_ = fullresync_replid_;
  offset_ = fullresync_offset_;
  clear_replid2();
  // The image says which database the stream goes on in (a replica's
  // image, when we are a replica of a replica).
  const int db = state_.persistence().loaded_repl_info.stream_db;
  become_connected(c, db >= 0 && db < state_.db_count() ? db : 0);
  spdlog::info("MASTER <-> REPLICA sync: Finished with success");
  // An AOF must now describe the new data: it starts over from a rewrite.
  auto& p = state_.persistence();
  if (p.aof_enabled()) {
    p.set_appendonly(false);
    if (const std::string e = p.set_appendonly(true); !e.empty())
      spdlog::warn("Failed enabling the AOF after successful master synchronization! {}", e);
  }
}

std::string Replication::load_image(const std::string& path) {
  auto& p = state_.persistence();
  p.abort_bgsave();  // the data it is saving is about to go
  spdlog::info("MASTER <-> REPLICA sync: Flushing old data");
  // replica-lazy-flush: the old data is freed in the background.
  state_.flush_all(state_.settings().replica_lazy_flush);
  // The master's image carries its function libraries (all of them).
  if (state_.scripts != nullptr) state_.scripts->flush_functions();
  spdlog::info("MASTER <-> REPLICA sync: Loading DB in memory");
  return p.load_rdb_file(path, false, true);
}

// --- streaming ----------------------------------------------------------------------------

void Replication::master_command_done(server::Client& master, std::string_view raw) {
  if (&master != master_) return;
  // An ACK asked for by this command (GETACK) counts what came before it,
  // as Redis's.
  if (ack_requested_) {
    ack_requested_ = false;
    send_ack();
  }
  master_lastio_s_ = unix_s();
  // Inside MULTI nothing is applied yet: the offset moves (and the bytes go
  // on) at EXEC, so that a link cut inside a transaction resumes at its
  // MULTI, as Redis's reploff.
  if (master.in_multi) {
    multi_bytes_.append(raw);
    return;
  }
  if (!multi_bytes_.empty()) {
    multi_bytes_.append(raw);
    feed_raw(multi_bytes_);
    std::string().swap(multi_bytes_);
    return;
  }
  // Our replicas and backlog get the master's bytes as they are.
  feed_raw(raw);
}

void Replication::send_ack() {
  if (master_ == nullptr || master_->killed) return;
  persist::append_command_range(master_->out, std::initializer_list<std::string_view>{
                                                  "REPLCONF", "ACK", std::to_string(offset_)});
  if (master_->transport) master_->transport->wake();
}

void Replication::replica_cron(int64_t now) {
  if (!is_replica()) return;
  const long long timeout = state_.settings().repl_timeout;
  server::Client* c = master_ ? master_ : (link_ ? link_->client() : nullptr);
  switch (link_state_) {
    case LinkState::kNone:
      break;
    case LinkState::kConnect:
      connect_to_master();
      break;
    case LinkState::kConnecting:
    case LinkState::kHandshake:
      if (now - handshake_started_s_ > timeout) {
        spdlog::warn("Timeout connecting to the MASTER...");
        drop_link();
        link_state_ = LinkState::kConnect;
      }
      break;
    case LinkState::kTransfer:
      if (now - master_lastio_s_ > timeout) {
        spdlog::warn(
            "Timeout receiving bulk data from MASTER... If the problem persists try to set the "
            "'repl-timeout' parameter in redis.conf to a larger value.");
        drop_link();
        link_state_ = LinkState::kConnect;
      }
      break;
    case LinkState::kConnected:
      if (now - master_lastio_s_ > timeout) {
        spdlog::warn("MASTER timeout: no data nor PING received...");
        drop_link();
        link_state_ = LinkState::kConnect;
      } else if (c) {
        send_ack();
      }
      break;
  }
}

}  // namespace setd::repl
