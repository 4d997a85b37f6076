// Replication: what both roles share, the master side, INFO and ROLE.
// (The replica side is in replica.cpp.)
#include "setd/repl/replication.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "setd/base/clock.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"
#include "setd/persist/aof_format.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/repl/internal.hpp"
#include "setd/server/server_state.hpp"

namespace setd::repl {

namespace {

// The dump file goes to a replica in small pieces, topped up while less
// than kMaxUnsent waits to be written: the memory it costs stays well under
// a megabyte per replica.
constexpr size_t kMaxUnsent = 512 * 1024;
constexpr size_t kFileChunk = 128 * 1024;

int64_t unix_s() { return base::system_ms() / 1000; }

std::string random_hex40() {
  static const char* hex = "0123456789abcdef";
  std::string s(40, '0');
  for (auto& c : s) c = hex[base::rng().below(16)];
  return s;
}

}  // namespace

// --- the diskless image: one snapshot into every waiting replica's socket ---

class Replication::SocketSink final : public persist::SnapshotSink {
 public:
  SocketSink(std::vector<server::Client*> targets, bool checksum, std::string mark)
      : targets_(std::move(targets)), checksum_(checksum), mark_(std::move(mark)) {}

  void write(std::string&& chunk) override {
    if (checksum_) crc_ = persist::crc64(crc_, chunk);
    for (server::Client* c : targets_) {
      c->out += chunk;
      if (c->transport) c->transport->wake();
    }
  }
  void finish() override {
    char tail[8];
    for (int i = 0; i < 8; ++i) tail[i] = static_cast<char>((crc_ >> (8 * i)) & 0xFF);
    for (server::Client* c : targets_) {
      c->out.append(tail, 8);
      c->out += mark_;
      if (c->transport) c->transport->wake();
    }
    finished_ = true;
  }
  size_t backlog() const override {
    size_t most = 0;
    for (const server::Client* c : targets_) most = std::max(most, c->output_bytes());
    return most;
  }
  bool failed() const override { return targets_.empty() && !finished_; }

  void forget(const server::Client* c) { std::erase(targets_, c); }
  bool finished() const { return finished_; }

 private:
  std::vector<server::Client*> targets_;
  bool checksum_;
  std::string mark_;
  uint64_t crc_ = 0;
  bool finished_ = false;
};

// --- construction ---------------------------------------------------------------

Replication::Replication(server::ServerState& state)
    : state_(state), replid_(random_hex40()), replid2_(40, '0') {
  state_.on_client_removed = [this](server::Client& c) { client_removed(c); };
  state_.persistence().on_bgsave_end = [this](bool ok, bool to_sink) {
    on_bgsave_end(ok, to_sink);
  };
  // Images record where the stream stands (Redis's rdbPopulateSaveInfo).
  state_.persistence().repl_aux = [this] {
    server::Persistence::ReplInfo r;
    if (is_replica()) {
      if (master_ == nullptr && !have_cached_) return r;
      r.stream_db = master_ ? master_->db : cached_db_;
    } else {
      if (!backlog_) return r;
      r.stream_db = stream_db_ < 0 ? 0 : stream_db_;
    }
    r.replid = replid_;
    r.offset = offset_;
    return r;
  };
  no_replicas_since_s_ = unix_s();
  start_s_ = no_replicas_since_s_;
}

Replication::~Replication() {
  if (sink_registered_) state_.remove_propagation_sink(this);
  state_.on_client_removed = nullptr;
  state_.persistence().on_bgsave_end = nullptr;
  state_.persistence().repl_aux = nullptr;
  for (auto& l : replicas_)
    if (l->fd >= 0) ::close(l->fd);
}

// --- IDs, backlog, the stream ------------------------------------------------------

void Replication::change_replid() { replid_ = random_hex40(); }

void Replication::debug_change_replid() {
  spdlog::warn("Changing replication IDs after receiving DEBUG change-repl-id");
  change_replid();
  clear_replid2();
}

void Replication::clear_replid2() {
  replid2_.assign(40, '0');
  second_offset_ = -1;
}

void Replication::shift_replid() {
  replid2_ = replid_;
  // The stream we have is valid under the old ID up to our offset: a
  // replica that asks for offset + 1 under it can continue.
  second_offset_ = offset_ + 1;
  change_replid();
  spdlog::warn(
      "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
      replid2_, second_offset_, replid_);
}

void Replication::create_backlog() {
  backlog_ =
      std::make_unique<Backlog>(static_cast<size_t>(state_.settings().repl_backlog_size), offset_);
  update_sink_registration();
}

void Replication::free_backlog() {
  backlog_.reset();
  update_sink_registration();
}

void Replication::update_sink_registration() {
  // Effects are only worth encoding while somebody can use them: the
  // propagation stream costs nothing to a server with no backlog (the first
  // replica's sync creates it; the offset only moves while it exists).
  // A replica passes its master's bytes on instead (master_command_done()).
  const bool want = backlog_ != nullptr && !is_replica();
  if (want == sink_registered_) return;
  if (want)
    state_.add_propagation_sink(server::kToReplicas, this);
  else
    state_.remove_propagation_sink(this);
  sink_registered_ = want;
}

void Replication::feed(int db, std::span<const std::string> args) {
  if (is_replica()) return;  // a replica passes its master's stream on instead
  scratch_.clear();
  if (db != stream_db_) {
    const std::string n = std::to_string(db);
    scratch_ += "*2\r\n$6\r\nSELECT\r\n$" + std::to_string(n.size()) + "\r\n" + n + "\r\n";
    stream_db_ = db;
  }
  persist::append_command_range(scratch_, args);
  feed_raw(scratch_);
}

void Replication::feed_raw(std::string_view bytes) {
  offset_ += static_cast<int64_t>(bytes.size());
  if (backlog_) backlog_->append(bytes);
  for (auto& l : replicas_) {
    if (l->client->repl_role != server::ReplRole::kReplica) continue;
    switch (l->state) {
      case ReplicaLink::State::kOnline:
        if (!l->hold_stream) {
          send_to_replica(*l, bytes);
          break;
        }
        [[fallthrough]];
      case ReplicaLink::State::kWaitBgsaveEnd:
      case ReplicaLink::State::kSendBulk:
        l->pending.append(bytes);
        if (state_.output_limit_reached(*l->client, l->pending.size()))
          state_.close_async(*l->client, server::CloseReason::kOutputBufferLimit);
        break;
      case ReplicaLink::State::kWaitBgsaveStart:
      case ReplicaLink::State::kHandshake:
        break;  // its image will be taken later, from a later offset
    }
  }
}

size_t Replication::backlog_memory() const { return backlog_ ? backlog_->memory_bytes() : 0; }

size_t Replication::replica_buffers_memory() const {
  size_t n = 0;
  for (const auto& l : replicas_) {
    n += l->pending.capacity();
    if (l->client != nullptr) n += l->client->out.capacity() + l->client->pending_write;
  }
  return n;
}

void Replication::send_to_replica(ReplicaLink& link, std::string_view bytes) {
  server::Client& c = *link.client;
  if (c.killed) return;
  c.out.append(bytes);
  if (c.transport) c.transport->wake();
}

// --- master side: SYNC / PSYNC -------------------------------------------------------

Replication::ReplicaLink* Replication::find_link(const server::Client& c) {
  for (auto& l : replicas_)
    if (l->client == &c) return l.get();
  return nullptr;
}

Replication::ReplicaLink& Replication::link_of(server::Client& c) {
  if (ReplicaLink* l = find_link(c)) return *l;
  replicas_.push_back(std::make_unique<ReplicaLink>());
  replicas_.back()->client = &c;
  return *replicas_.back();
}

std::string Replication::replica_name(const server::Client& c) const {
  for (const auto& l : replicas_) {
    if (l->client != &c) continue;
    std::string ip = l->announced_ip;
    if (ip.empty()) ip = c.ip();
    if (l->listening_port) return ip + ":" + std::to_string(l->listening_port);
    break;
  }
  return c.addr;
}

int Replication::replica_count() const {
  int n = 0;
  for (const auto& l : replicas_)
    if (l->client->repl_role == server::ReplRole::kReplica) ++n;
  return n;
}

void Replication::sync_command(server::Client& c, std::span<const std::string_view> args) {
  if (c.repl_role == server::ReplRole::kReplica) return;  // already one
  if (is_replica() && link_state_ != LinkState::kConnected) {
    c.reply.error("NOMASTERLINK Can't SYNC while not connected with my master");
    return;
  }
  if (!c.out.empty()) {
    c.reply.error("SYNC and PSYNC are invalid with pending output");
    return;
  }
  ReplicaLink& link = link_of(c);
  if (link.exclude_data && !link.capa_eof) {
    c.reply.error("ERR Filtered replica requires EOF capability");
    return;
  }
  spdlog::info("Replica {} asks for synchronization", replica_name(c));
  const bool psync = args[0].size() == 5;  // "psync" (any case) vs "sync"
  if (psync) {
    long long offset = 0;
    if (!base::string_to_ll(args[2], offset)) {
      spdlog::warn("Replica {} asks for synchronization but with a wrong offset", replica_name(c));
      c.reply.error("ERR value is not an integer or out of range");
      return;
    }
    if (try_partial(c, link, args[1], offset)) {
      ++stat_sync_partial_ok_;
      return;
    }
    if (args[1] != "?") ++stat_sync_partial_err_;
  } else {
    link.pre_psync = true;  // old SYNC: no +FULLRESYNC line, no ACKs
  }
  ++stat_sync_full_;
  c.repl_role = server::ReplRole::kReplica;
  link.state = ReplicaLink::State::kWaitBgsaveStart;
  link.wait_since_ms = base::now_ms();
  if (replica_count() == 1 && backlog_ == nullptr) {
    // A backlog made from scratch has no history: a new ID, no old one.
    change_replid();
    clear_replid2();
    create_backlog();
    spdlog::info("Replication backlog created, my new replication IDs are '{}' and '{}'", replid_,
                 replid2_);
  }
  start_full_sync(link);
}

bool Replication::try_partial(server::Client& c, ReplicaLink& link, std::string_view replid,
                              int64_t offset) {
  if (replid != replid_ && (replid != replid2_ || offset > second_offset_)) {
    if (replid != "?") {
      if (replid != replid_ && replid != replid2_)
        spdlog::info(
            "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for "
            "'{}', my replication IDs are '{}' and '{}')",
            replid, replid_, replid2_);
      else
        spdlog::info(
            "Partial resynchronization not accepted: Requested offset for second ID was {}, but "
            "I can reply up to {}",
            offset, second_offset_);
    } else {
      spdlog::info("Full resync requested by replica {}", replica_name(c));
    }
    return false;
  }
  if (!backlog_ || !backlog_->covers(offset)) {
    spdlog::info(
        "Unable to partial resync with replica {} for lack of backlog (Replica request was: {}).",
        replica_name(c), offset);
    if (offset > offset_)
      spdlog::warn(
          "Warning: replica {} tried to PSYNC with an offset that is greater than the master "
          "replication offset.",
          replica_name(c));
    return false;
  }
  c.repl_role = server::ReplRole::kReplica;
  link.state = ReplicaLink::State::kOnline;
  link.ack_time_s = unix_s();
  c.out += link.capa_psync2 ? "+CONTINUE " + replid_ + "\r\n" : std::string("+CONTINUE\r\n");
  const size_t before = c.out.size();
  backlog_->copy_from(offset, c.out);
  if (c.transport) c.transport->wake();
  spdlog::info(
      "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting "
      "from offset {}.",
      replica_name(c), c.out.size() - before, offset);
  update_good_replicas();
  return true;
}

void Replication::start_full_sync(ReplicaLink& link) {
  auto& p = state_.persistence();
  if (link.exclude_data) {
    // An image without data needs no snapshot: header, end, checksum.
    stream_db_ = -1;
    begin_full_resync(link, offset_);
    std::string rdb = "REDIS0010";
    rdb += '\xff';
    const uint64_t crc = state_.settings().rdbchecksum ? persist::crc64(0, rdb) : 0;
    for (int i = 0; i < 8; ++i) rdb += static_cast<char>((crc >> (8 * i)) & 0xFF);
    const std::string mark = random_hex40();
    link.client->out += "$EOF:" + mark + "\r\n" + rdb + mark;
    link.diskless = true;
    link.hold_stream = true;
    put_online(link);
    return;
  }
  const bool diskless = state_.settings().repl_diskless_sync && link.capa_eof;
  if (p.bgsave_in_progress() && !p.bgsave_to_sink_in_progress() && !diskless) {
    // A BGSAVE to disk runs: usable if another replica is already
    // collecting the stream since it started.
    for (auto& other : replicas_) {
      if (other.get() == &link || other->state != ReplicaLink::State::kWaitBgsaveEnd ||
          other->diskless)
        continue;
      link.pending = other->pending;
      begin_full_resync(link, other->initial_offset);
      link.state = ReplicaLink::State::kWaitBgsaveEnd;
      spdlog::info("Waiting for end of BGSAVE for SYNC");
      return;
    }
    spdlog::info(
        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
    return;
  }
  if (p.bgsave_to_sink_in_progress()) {
    spdlog::info("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
    return;
  }
  if (diskless && state_.settings().repl_diskless_sync_delay > 0) {
    spdlog::info("Delay next BGSAVE for diskless SYNC");
    return;  // the cron starts it
  }
  if (p.snapshot_busy()) {
    spdlog::info(
        "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication "
        "delayed");
    return;
  }
  maybe_start_bgsave(true);
}

void Replication::begin_full_resync(ReplicaLink& link, int64_t offset) {
  link.initial_offset = offset;
  if (!link.pre_psync) {
    server::Client& c = *link.client;
    c.out += "+FULLRESYNC " + replid_ + " " + std::to_string(offset) + "\r\n";
    if (c.transport) c.transport->wake();
  }
}

void Replication::maybe_start_bgsave(bool now) {
  auto& p = state_.persistence();
  if (p.snapshot_busy()) return;
  const auto& s = state_.settings();
  std::vector<ReplicaLink*> waiting;
  bool all_eof = true;
  int64_t oldest = INT64_MAX;
  for (auto& l : replicas_) {
    if (l->client->repl_role != server::ReplRole::kReplica || l->client->killed ||
        l->state != ReplicaLink::State::kWaitBgsaveStart)
      continue;
    waiting.push_back(l.get());
    all_eof = all_eof && l->capa_eof;
    oldest = std::min(oldest, l->wait_since_ms);
  }
  if (waiting.empty()) return;
  const bool diskless = s.repl_diskless_sync && all_eof;
  if (diskless && !now && s.repl_diskless_sync_delay > 0) {
    const bool enough = s.repl_diskless_sync_max_replicas > 0 &&
                        static_cast<long long>(waiting.size()) >= s.repl_diskless_sync_max_replicas;
    if (!enough && base::now_ms() - oldest < s.repl_diskless_sync_delay * 1000) return;
  }
  spdlog::info("Starting BGSAVE for SYNC with target: {}", diskless ? "replicas sockets" : "disk");
  // The image and the stream meet here: the snapshot is taken at this
  // offset, and everything fed from now on is kept for these replicas.
  stream_db_ = -1;  // the stream after the image starts with a SELECT
  for (ReplicaLink* l : waiting) {
    begin_full_resync(*l, offset_);
    l->state = ReplicaLink::State::kWaitBgsaveEnd;
    l->diskless = diskless;
    l->pending.clear();
  }
  if (diskless) {
    std::string mark = random_hex40();
    std::vector<server::Client*> targets;
    for (ReplicaLink* l : waiting) {
      l->client->out += "$EOF:" + mark + "\r\n";
      targets.push_back(l->client);
    }
    socket_sink_ = std::make_unique<SocketSink>(std::move(targets), s.rdbchecksum, mark);
    if (p.bgsave_to_sink(socket_sink_.get()) != server::Persistence::BgsaveStart::kStarted) {
      socket_sink_.reset();
      for (ReplicaLink* l : waiting) drop_replica(*l, "BGSAVE for replication failed");
    }
    return;
  }
  disk_bgsave_for_replicas_ = true;
  const auto r = p.bgsave(false);
  if (r != server::Persistence::BgsaveStart::kStarted) {
    disk_bgsave_for_replicas_ = false;
    spdlog::warn("BGSAVE for replication failed");
    for (ReplicaLink* l : waiting) drop_replica(*l, "BGSAVE for replication failed");
  }
}

void Replication::on_bgsave_end(bool ok, bool to_sink) {
  if (to_sink) {
    const bool delivered = ok && socket_sink_ && socket_sink_->finished();
    for (auto& l : replicas_) {
      if (l->state != ReplicaLink::State::kWaitBgsaveEnd || !l->diskless) continue;
      if (!delivered) {
        drop_replica(*l, "SYNC failed. BGSAVE child returned an error");
        continue;
      }
      spdlog::info(
          "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK "
          "from replica to enable streaming",
          replica_name(*l->client));
      // The replica reads up to the end marker and may read past it: the
      // stream waits for its first ACK, sent once it has loaded the image.
      l->hold_stream = true;
      put_online(*l);
    }
    socket_sink_.reset();
  } else {
    disk_bgsave_for_replicas_ = false;
    std::string path = state_.settings().dbfilename;
    struct stat st {};
    int fd = -1;
    if (ok) {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::fstat(fd, &st) != 0) {
        spdlog::warn("SYNC failed. Can't open/stat DB after BGSAVE: {}", std::strerror(errno));
        if (fd >= 0) ::close(fd);
        fd = -1;
      }
    }
    for (auto& l : replicas_) {
      if (l->state != ReplicaLink::State::kWaitBgsaveEnd || l->diskless) continue;
      if (fd < 0) {
        drop_replica(*l, "SYNC failed. BGSAVE child returned an error");
        continue;
      }
      l->fd = ::dup(fd);
      l->file_size = static_cast<uint64_t>(st.st_size);
      l->file_off = 0;
      l->state = ReplicaLink::State::kSendBulk;
      l->client->out += "$" + std::to_string(st.st_size) + "\r\n";
    }
    if (fd >= 0) ::close(fd);
    pump_disk_transfers();
  }
  maybe_start_bgsave(false);
}

void Replication::pump_disk_transfers() {
  pump_posted_ = false;
  bool more = false;
  for (size_t i = 0; i < replicas_.size(); ++i) {
    ReplicaLink& l = *replicas_[i];
    if (l.state != ReplicaLink::State::kSendBulk || l.client->killed) continue;
    server::Client& c = *l.client;
    while (l.file_off < l.file_size && c.output_bytes() < kMaxUnsent) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(kFileChunk, l.file_size - l.file_off));
      const size_t at = c.out.size();
      c.out.resize(at + n);
      const ssize_t r = ::pread(l.fd, c.out.data() + at, n, static_cast<off_t>(l.file_off));
      if (r <= 0) {
        c.out.resize(at);
        spdlog::warn("Read error sending DB to replica: {}",
                     r < 0 ? std::strerror(errno) : "premature EOF");
        state_.close_async(c, server::CloseReason::kKilled);
        break;
      }
      c.out.resize(at + static_cast<size_t>(r));
      l.file_off += static_cast<uint64_t>(r);
    }
    if (c.transport) c.transport->wake();
    if (c.killed) continue;
    if (l.file_off == l.file_size) {
      ::close(l.fd);
      l.fd = -1;
      put_online(l);
    } else {
      more = true;
    }
  }
  if (more && state_.loop && !pump_posted_) {
    pump_posted_ = true;
    state_.loop->post_after(1000, [this] { pump_disk_transfers(); });
  }
}

void Replication::put_online(ReplicaLink& link) {
  if (link.rdb_only) {
    // It asked for the image only: it goes once that is out.
    spdlog::info("RDB transfer completed, rdb only replica ({}) should be disconnected asap",
                 replica_name(*link.client));
    link.client->close_after_reply = true;
    std::string().swap(link.pending);
    if (link.client->transport) link.client->transport->wake();
    return;
  }
  link.state = ReplicaLink::State::kOnline;
  link.ack_time_s = unix_s();
  if (!link.hold_stream) {
    send_to_replica(link, link.pending);
    std::string().swap(link.pending);
    spdlog::info("Synchronization with replica {} succeeded", replica_name(*link.client));
  }
  update_good_replicas();
}

void Replication::drop_replica(ReplicaLink& link, const std::string& why) {
  spdlog::warn("{} (replica {})", why, replica_name(*link.client));
  state_.close_async(*link.client, server::CloseReason::kKilled);
}

void Replication::disconnect_replicas() {
  for (auto& l : replicas_)
    if (l->client->repl_role == server::ReplRole::kReplica)
      state_.close_async(*l->client, server::CloseReason::kKilled);
}

// --- REPLCONF -------------------------------------------------------------------------

void Replication::replconf(server::Client& c, std::span<const std::string_view> args) {
  if (args.size() % 2 == 0) {
    c.reply.error("ERR syntax error");
    return;
  }
  for (size_t i = 1; i < args.size(); i += 2) {
    const std::string opt = lower(args[i]);
    const std::string_view val = args[i + 1];
    if (opt == "listening-port") {
      long long port = 0;
      if (!base::string_to_ll(val, port)) {
        c.reply.error("ERR value is not an integer or out of range");
        return;
      }
      link_of(c).listening_port = static_cast<int>(port);
    } else if (opt == "ip-address") {
      if (val.size() >= 46) {
        c.reply.error("ERR REPLCONF ip-address provided by replica instance is too long: " +
                      std::to_string(val.size()) + " bytes");
        return;
      }
      link_of(c).announced_ip = std::string(val);
    } else if (opt == "capa") {
      const std::string v = lower(val);
      if (v == "eof") link_of(c).capa_eof = true;
      if (v == "psync2") link_of(c).capa_psync2 = true;
    } else if (opt == "rdb-only") {
      long long v = 0;
      if (!base::string_to_ll(val, v) || v < 0 || v > 1) {
        c.reply.error("ERR value is out of range, value must between 0 and 1");
        return;
      }
      link_of(c).rdb_only = v == 1;
    } else if (opt == "rdb-filter-only") {
      // Include filters: "functions" only (setd has none); by default the
      // image holds no data.
      ReplicaLink& l = link_of(c);
      l.exclude_data = true;
      size_t pos = 0;
      while (pos < val.size()) {
        while (pos < val.size() && val[pos] == ' ') ++pos;
        const size_t end = std::min(val.find(' ', pos), val.size());
        if (end > pos && lower(val.substr(pos, end - pos)) != "functions") {
          c.reply.error("ERR Unsupported rdb-filter-only option: " +
                        std::string(val.substr(pos, end - pos)));
          return;
        }
        pos = end;
      }
    } else if (opt == "ack") {
      // From a replica only; never answered.
      ReplicaLink* l = find_link(c);
      if (l == nullptr || c.repl_role != server::ReplRole::kReplica) return;
      long long off = 0;
      if (!base::string_to_ll(val, off)) return;
      if (off > l->ack_off) l->ack_off = off;
      l->ack_time_s = unix_s();
      if (l->state == ReplicaLink::State::kOnline && l->hold_stream) {
        l->hold_stream = false;
        send_to_replica(*l, l->pending);
        std::string().swap(l->pending);
        spdlog::info("Synchronization with replica {} succeeded", replica_name(c));
      }
      if (!waiters_.empty()) check_waiters();
      return;
    } else if (opt == "getack") {
      // From our master: the ACK goes out after this command.
      if (is_replica() && &c == master_) ack_requested_ = true;
      return;
    } else {
      c.reply.error("ERR Unrecognized REPLCONF option: " + std::string(args[i]));
      return;
    }
  }
  c.reply.ok();
}

// --- WAIT -------------------------------------------------------------------------------

int Replication::count_acked(int64_t offset) const {
  int n = 0;
  for (const auto& l : replicas_)
    if (l->client->repl_role == server::ReplRole::kReplica &&
        l->state == ReplicaLink::State::kOnline && l->ack_off >= offset)
      ++n;
  return n;
}

void Replication::wait_command(server::Client& c, long long numreplicas, long long timeout_ms,
                               bool may_block) {
  const int acked = count_acked(c.woff);
  if (acked >= numreplicas || !may_block) {
    c.reply.integer(acked);
    return;
  }
  c.blocked = true;
  const int64_t deadline = timeout_ms > 0 ? base::now_ms() + timeout_ms : 0;
  waiters_.push_back({&c, c.woff, numreplicas, deadline});
  if (deadline && state_.loop)
    state_.loop->post_after(timeout_ms * 1000, [this] { check_waiters(); });
  // Ask the replicas where they are, once the loop has run what is ready.
  if (!getack_needed_) {
    getack_needed_ = true;
    if (state_.loop) state_.loop->post([this] { before_sleep(); });
  }
}

void Replication::before_sleep() {
  if (!getack_needed_) return;
  getack_needed_ = false;
  if (is_replica() || replica_count() == 0) return;
  feed_raw("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
}

void Replication::check_waiters() {
  const int64_t now = base::now_ms();
  for (size_t i = 0; i < waiters_.size();) {
    Waiter& w = waiters_[i];
    const int acked = count_acked(w.offset);
    if (acked >= w.numreplicas || (w.deadline_ms && now >= w.deadline_ms)) {
      server::Client& c = *w.client;
      waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
      c.blocked = false;
      c.reply.integer(acked);
      if (c.transport) c.transport->unblock();
      continue;
    }
    ++i;
  }
}

void Replication::unblock_waiters(const std::string& error) {
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (Waiter& w : waiting) {
    w.client->blocked = false;
    w.client->reply.error(error);
    if (w.client->transport) w.client->transport->unblock();
  }
}

// --- good replicas (min-replicas-to-write) --------------------------------------------------

void Replication::update_good_replicas() {
  const auto& s = state_.settings();
  const int64_t now = unix_s();
  int good = 0;
  for (const auto& l : replicas_)
    if (l->client->repl_role == server::ReplRole::kReplica &&
        l->state == ReplicaLink::State::kOnline && now - l->ack_time_s <= s.min_replicas_max_lag)
      ++good;
  good_replicas_ = good;
}

bool Replication::enough_good_replicas() const {
  const auto& s = state_.settings();
  if (is_replica() || s.min_replicas_to_write == 0 || s.min_replicas_max_lag == 0) return true;
  return good_replicas_ >= s.min_replicas_to_write;
}

// --- clients going away ------------------------------------------------------------------

void Replication::client_removed(server::Client& c) {
  std::erase_if(waiters_, [&](const Waiter& w) { return w.client == &c; });
  if (socket_sink_) socket_sink_->forget(&c);
  if (c.repl_role == server::ReplRole::kMaster || (link_ && link_->client() == &c)) {
    master_link_lost(c);
    return;
  }
  for (auto it = replicas_.begin(); it != replicas_.end(); ++it) {
    if ((*it)->client != &c) continue;
    if (c.repl_role == server::ReplRole::kReplica)
      spdlog::info("Connection with replica {} lost.", replica_name(c));
    if ((*it)->fd >= 0) ::close((*it)->fd);
    replicas_.erase(it);
    if (replica_count() == 0) no_replicas_since_s_ = unix_s();
    update_good_replicas();
    update_sink_registration();
    return;
  }
}

// --- cron ---------------------------------------------------------------------------------

void Replication::cron() {
  const int64_t now = unix_s();
  if (!waiters_.empty()) check_waiters();
  // Diskless syncs waiting for more replicas.
  maybe_start_bgsave(false);
  if (now == last_cron_s_) return;
  last_cron_s_ = now;
  const auto& s = state_.settings();

  replica_cron(now);

  // Master side, once a second.
  // A ping a period into the stream (replicationCron's, lower case as
  // Redis sends it), counted from start-up; none in the second of start-up
  // itself, where Redis's first replicationCron runs before any replica
  // can have attached.
  if (!is_replica() && replica_count() > 0 && now != start_s_ &&
      (now - start_s_) % s.repl_ping_replica_period == 0)
    feed_raw("*1\r\n$4\r\nping\r\n");
  for (auto& l : replicas_) {
    server::Client& c = *l->client;
    if (c.repl_role != server::ReplRole::kReplica || c.killed) continue;
    // Replicas waiting for a disk image get a newline a second, so that
    // they do not time out (they skip it).
    if (l->state == ReplicaLink::State::kWaitBgsaveStart ||
        (l->state == ReplicaLink::State::kWaitBgsaveEnd && !l->diskless)) {
      c.out += "\n";
      if (c.transport) c.transport->wake();
    }
    if (l->state == ReplicaLink::State::kOnline && !l->pre_psync &&
        now - l->ack_time_s > s.repl_timeout) {
      spdlog::warn("Disconnecting timedout replica (streaming sync): {}", replica_name(c));
      state_.close_async(c, server::CloseReason::kKilled);
      continue;
    }
    // An image that stops draining into the replica's socket (a frozen
    // link) would hold the snapshot back for every other replica.
    const bool sending = l->state == ReplicaLink::State::kSendBulk ||
                         (l->state == ReplicaLink::State::kWaitBgsaveEnd && l->diskless);
    if (sending) {
      const size_t unsent = c.output_bytes();
      if (unsent == 0 || unsent != l->last_unsent || l->last_progress_s == 0)
        l->last_progress_s = now;
      l->last_unsent = unsent;
      if (now - l->last_progress_s > s.repl_timeout) {
        spdlog::warn("Disconnecting timedout replica (full sync): {}", replica_name(c));
        state_.close_async(c, server::CloseReason::kKilled);
      }
    }
  }
  // A master without replicas frees its backlog after repl-backlog-ttl.
  if (!is_replica() && backlog_ && replica_count() == 0 && s.repl_backlog_ttl > 0 &&
      now - no_replicas_since_s_ > s.repl_backlog_ttl) {
    change_replid();
    clear_replid2();
    free_backlog();
    spdlog::info("Replication backlog freed after {} seconds without connected replicas.",
                 s.repl_backlog_ttl);
  }
  if (backlog_ && backlog_->size() != static_cast<size_t>(s.repl_backlog_size))
    backlog_->resize(static_cast<size_t>(s.repl_backlog_size));
  update_good_replicas();
}

// --- ROLE and INFO ---------------------------------------------------------------------------

void Replication::role_reply(proto::ReplyBuilder& rb) const {
  if (!is_replica()) {
    rb.array(3);
    rb.bulk("master");
    rb.integer(offset_);
    int n = 0;
    for (const auto& l : replicas_)
      if (l->client->repl_role == server::ReplRole::kReplica) ++n;
    rb.array(static_cast<size_t>(n));
    for (const auto& l : replicas_) {
      if (l->client->repl_role != server::ReplRole::kReplica) continue;
      std::string ip = l->announced_ip;
      if (ip.empty()) ip = l->client->ip();
      rb.array(3);
      rb.bulk(ip);
      rb.bulk(std::to_string(l->listening_port));
      rb.bulk(std::to_string(l->ack_off));
    }
    return;
  }
  rb.array(5);
  rb.bulk("slave");
  rb.bulk(master_host_);
  rb.integer(master_port_);
  const char* st = "connect";
  switch (link_state_) {
    case LinkState::kNone:
    case LinkState::kConnect:
      st = "connect";
      break;
    case LinkState::kConnecting:
      st = "connecting";
      break;
    case LinkState::kHandshake:
      st = "handshake";
      break;
    case LinkState::kTransfer:
      st = "sync";
      break;
    case LinkState::kConnected:
      st = "connected";
      break;
  }
  rb.bulk(st);
  rb.integer(master_ ? offset_ : -1);
}

void Replication::info(std::string& o) const {
  const auto field = [&](const char* k, const std::string& v) {
    o += k;
    o += ':';
    o += v;
    o += "\r\n";
  };
  const auto num = [&](const char* k, long long v) { field(k, std::to_string(v)); };
  const auto& s = state_.settings();
  const int64_t now = unix_s();
  o += "# Replication\r\n";
  field("role", is_replica() ? "slave" : "master");
  if (is_replica()) {
    const long long off = master_ || have_cached_ ? offset_ : 1;
    field("master_host", master_host_);
    num("master_port", master_port_);
    field("master_link_status", link_state_ == LinkState::kConnected ? "up" : "down");
    num("master_last_io_seconds_ago", master_ ? now - master_lastio_s_ : -1);
    num("master_sync_in_progress", link_state_ == LinkState::kTransfer ? 1 : 0);
    num("slave_read_repl_offset", off);
    num("slave_repl_offset", off);
    if (link_state_ == LinkState::kTransfer && link_) link_->info(o, now);
    if (link_state_ != LinkState::kConnected)
      num("master_link_down_since_seconds", link_down_since_s_ ? now - link_down_since_s_ : -1);
    num("slave_priority", s.replica_priority);
    num("slave_read_only", s.replica_read_only ? 1 : 0);
    num("replica_announced", s.replica_announced ? 1 : 0);
  }
  num("connected_slaves", replica_count());
  if (s.min_replicas_to_write && s.min_replicas_max_lag)
    num("min_slaves_good_slaves", good_replicas_);
  int id = 0;
  for (const auto& l : replicas_) {
    if (l->client->repl_role != server::ReplRole::kReplica) continue;
    const char* st = "";
    switch (l->state) {
      case ReplicaLink::State::kWaitBgsaveStart:
      case ReplicaLink::State::kWaitBgsaveEnd:
        st = "wait_bgsave";
        break;
      case ReplicaLink::State::kSendBulk:
        st = "send_bulk";
        break;
      case ReplicaLink::State::kOnline:
        st = "online";
        break;
      case ReplicaLink::State::kHandshake:
        break;
    }
    if (st[0] == '\0') continue;
    std::string ip = l->announced_ip;
    if (ip.empty()) ip = l->client->ip();
    const long long lag = l->state == ReplicaLink::State::kOnline ? now - l->ack_time_s : 0;
    o += "slave" + std::to_string(id++) + ":ip=" + ip +
         ",port=" + std::to_string(l->listening_port) + ",state=" + st +
         ",offset=" + std::to_string(l->ack_off) + ",lag=" + std::to_string(lag) + "\r\n";
  }
  field("master_failover_state", "no-failover");
  field("master_replid", replid_);
  field("master_replid2", replid2_);
  num("master_repl_offset", offset_);
  num("second_repl_offset", second_offset_);
  num("repl_backlog_active", backlog_ ? 1 : 0);
  num("repl_backlog_size", s.repl_backlog_size);
  num("repl_backlog_first_byte_offset", backlog_ ? backlog_->first_offset() : 0);
  num("repl_backlog_histlen", backlog_ ? static_cast<long long>(backlog_->histlen()) : 0);
}

}  // namespace setd::repl
