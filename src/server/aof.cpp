// Persistence: the append-only file (Redis 7.0 multi-part AOF). See
// persistence.hpp for the design; persist/aof_format.hpp for the files.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "setd/base/clock.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/server/event_loop.hpp"
#include "setd/server/persistence.hpp"
#include "setd/server/server_state.hpp"

namespace setd::server {

namespace {

int64_t unix_seconds() { return base::system_ms() / 1000; }

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

// appendfsync everysec: fsyncs a duplicate of the AOF's descriptor on a
// thread of its own, so a slow disk never stalls the event loop.
struct Persistence::Fsyncer {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  int fd = -1;  // a dup() to fsync, owned by the thread once handed over
  bool stop = false;
  std::atomic<bool> busy{false};
  std::atomic<int> error{0};  // errno of the last failed fsync, 0 when fine

  Fsyncer() {
    thread = std::thread([this] {
      for (;;) {
        int todo = -1;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stop || fd >= 0; });
          if (fd < 0 && stop) return;
          todo = fd;
          fd = -1;
        }
        const int rc = ::fdatasync(todo);
        error.store(rc == 0 ? 0 : errno);
        ::close(todo);
        busy.store(false);
      }
    });
  }
  ~Fsyncer() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    thread.join();
    if (fd >= 0) ::close(fd);
  }
  // Queues an fsync of `aof_fd`; false if one is still running.
  bool request(int aof_fd) {
    if (busy.load()) return false;
    const int d = ::dup(aof_fd);
    if (d < 0) return false;
    busy.store(true);
    {
      std::lock_guard lock(mu);
      fd = d;
    }
    cv.notify_one();
    return true;
  }
};

Persistence::Persistence(ServerState& state) : state_(state) {
  state_.config().set_applier("appendonly",
                              [this](const Settings& s) { return set_appendonly(s.appendonly); });
}

Persistence::~Persistence() {
  close_aof();
  // Jobs end here: their snapshots finish marking, their writers remove
  // their temporary files.
}

bool Persistence::state_settings_fsync_always() const {
  return state_.settings().appendfsync == AppendFsync::kAlways;
}

bool Persistence::fsync_ok() const { return !fsyncer_ || fsyncer_->error.load() == 0; }
bool Persistence::fsync_pending() const { return fsyncer_ && fsyncer_->busy.load(); }

std::string Persistence::aof_dir() const { return state_.settings().appenddirname; }
std::string Persistence::aof_path(const std::string& name) const { return aof_dir() + "/" + name; }
std::string Persistence::manifest_name() const {
  return state_.settings().appendfilename + ".manifest";
}

uint64_t Persistence::file_size(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string Persistence::persist_manifest(const persist::AofManifest& m) {
  const std::string text = persist::format_aof_manifest(m);
  const std::string tmp = aof_path("temp-" + manifest_name());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "Can't open the AOF manifest file " + tmp + ": " + std::strerror(errno);
  const bool ok = persist::write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return "Can't write the AOF manifest file " + tmp + ": " + std::strerror(err);
  }
  if (::rename(tmp.c_str(), aof_path(manifest_name()).c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return "Can't rename the AOF manifest file: " + std::string(std::strerror(e));
  }
  persist::fsync_parent_dir(aof_path(manifest_name()));
  return "";
}

// Opens the next INCR file for appending (the previous one is closed). A
// temporary INCR (enabling the AOF at run time) stays out of the manifest
// until the first rewrite completes.
std::string Persistence::open_new_incr(bool temporary) {
  std::string name;
  if (temporary) {
    name = "temp-" + state_.settings().appendfilename + ".incr";
  } else {
    name = state_.settings().appendfilename + "." + std::to_string(manifest_.incr_seq + 1) +
           ".incr.aof";
  }
  const int fd = ::open(aof_path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return "Can't open the append-only file " + name + ": " + std::strerror(errno);
  if (!temporary) {
    persist::AofManifest next = manifest_;
    next.incr_seq += 1;
    next.incrs.push_back({name, next.incr_seq, 'i'});
    const std::string err = persist_manifest(next);
    if (!err.empty()) {
      ::close(fd);
      ::unlink(aof_path(name).c_str());
      return err;
    }
    manifest_ = std::move(next);
  } else {
    ::ftruncate(fd, 0);
    aof_temp_incr_ = name;
  }
  if (aof_fd_ >= 0) ::close(aof_fd_);
  aof_fd_ = fd;
  aof_incr_name_ = name;
  aof_selected_db_ = -1;  // the new file starts with a SELECT
  return "";
}

void Persistence::close_aof() {
  if (aof_fd_ >= 0) {
    flush_aof(true);
    ::close(aof_fd_);
    aof_fd_ = -1;
  }
  fsyncer_.reset();
}

// --- feeding and writing -------------------------------------------------------

void Persistence::feed(int db, std::span<const std::string> args) {
  if (aof_state_ == AofState::kOff) return;
  // While waiting for the first rewrite, only what happens after it starts
  // goes to the (temporary) INCR: the rest is in the snapshot.
  if (aof_state_ == AofState::kWaitRewrite && !aof_job_) return;
  if (db != aof_selected_db_) {
    const std::string dbs = std::to_string(db);
    aof_buf_ += "*2\r\n$6\r\nSELECT\r\n$" + std::to_string(dbs.size()) + "\r\n" + dbs + "\r\n";
    aof_selected_db_ = db;
  }
  persist::append_command_range(aof_buf_, args);
}

void Persistence::flush_aof(bool force_fsync) {
  const auto& s = state_.settings();
  if (aof_fd_ < 0) return;
  if (!aof_buf_.empty()) {
    // The INCR file's own length before this write: a partial write is cut
    // back to it, so the file never ends inside a command.
    const off_t before = ::lseek(aof_fd_, 0, SEEK_END);
    const int64_t write_start = base::monotonic_us();
    const bool ok = persist::write_all(aof_fd_, aof_buf_.data(), aof_buf_.size());
    const int write_errno = errno;
    // The latency monitor's AOF events (Redis's flushAppendOnlyFile; setd
    // has no child processes, so never "aof-write-active-child").
    const int64_t write_ms = (base::monotonic_us() - write_start) / 1000;
    state_.latency_sample(fsync_pending() ? "aof-write-pending-fsync" : "aof-write-alone",
                          write_ms);
    state_.latency_sample("aof-write", write_ms);
    if (!ok) {
      const int err = write_errno;
      if (s.appendfsync == AppendFsync::kAlways) {
        spdlog::critical(
            "Can't recover from AOF write error when the AOF fsync policy is 'always'. "
            "Exiting...");
        std::_Exit(1);
      }
      // Keep the file consistent: drop a partial command, retry later.
      if (before < 0 || ::ftruncate(aof_fd_, before) != 0)
        spdlog::warn("Could not remove short write from the append-only file: {}",
                     std::strerror(errno));
      if (aof_last_write_ok_) spdlog::warn("Error writing to the AOF file: {}", std::strerror(err));
      aof_last_write_ok_ = false;
      aof_last_write_errno_ = err;
      return;
    }
    aof_current_size_ += aof_buf_.size();
    if (aof_buf_.capacity() > 4 * 1024 * 1024)
      std::string().swap(aof_buf_);
    else
      aof_buf_.clear();
    if (!aof_last_write_ok_) {
      spdlog::warn("AOF write error looks solved, setd can write again.");
      aof_last_write_ok_ = true;
    }
  }
  if (aof_current_size_ == aof_fsync_offset_ && !force_fsync) return;
  if (s.no_appendfsync_on_rewrite && aof_job_ && !force_fsync) return;
  if (force_fsync || s.appendfsync == AppendFsync::kAlways) {
    const int64_t fsync_start = base::monotonic_us();
    const int fsync_rc = ::fdatasync(aof_fd_);
    const int fsync_errno = errno;
    if (s.appendfsync == AppendFsync::kAlways)
      state_.latency_sample("aof-fsync-always", (base::monotonic_us() - fsync_start) / 1000);
    errno = fsync_errno;
    if (fsync_rc != 0) {
      if (s.appendfsync == AppendFsync::kAlways) {
        spdlog::critical(
            "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. "
            "Exiting...",
            std::strerror(errno));
        std::_Exit(1);
      }
      aof_last_write_ok_ = false;
      aof_last_write_errno_ = errno;
      return;
    }
    aof_fsync_offset_ = aof_current_size_;
    aof_last_fsync_ms_ = base::system_ms();
  } else if (s.appendfsync == AppendFsync::kEverysec &&
             base::system_ms() - aof_last_fsync_ms_ >= 1000) {
    if (!fsyncer_) fsyncer_ = std::make_unique<Fsyncer>();
    if (fsyncer_->request(aof_fd_)) {
      aof_fsync_offset_ = aof_current_size_;
      aof_last_fsync_ms_ = base::system_ms();
    } else {
      ++aof_delayed_fsync_;  // the previous fsync is still running
    }
  }
}

void Persistence::aof_cron() {
  if (aof_state_ == AofState::kOff || aof_fd_ < 0) return;
  // Retries a failed write, and fsyncs everysec even without new writes.
  flush_aof(false);
}

// --- rewrite ---------------------------------------------------------------------

std::string Persistence::bgrewriteaof() {
  if (aof_job_) return "Background append only file rewriting already in progress";
  if (rdb_job_) {
    aof_rewrite_scheduled_ = true;
    return "scheduled";
  }
  return start_aof_rewrite();
}

std::string Persistence::start_aof_rewrite() {
  if (aof_job_) return "Background append only file rewriting already in progress";
  if (::mkdir(aof_dir().c_str(), 0755) != 0 && errno != EEXIST)
    return "Can't open or create append-only dir " + aof_dir() + ": " + std::strerror(errno);
  const bool first = aof_state_ == AofState::kWaitRewrite;
  // The old INCR is complete and durable before the switch; from here on
  // effects go to the new one, and the snapshot taken now holds the rest.
  if (aof_fd_ >= 0) flush_aof(true);
  if (aof_state_ != AofState::kOff) {
    std::string err = open_new_incr(first);
    if (!err.empty()) {
      spdlog::warn("{}", err);
      aof_lastbgrewrite_ok_ = false;
      return err;
    }
  }
  const bool rdb_preamble = state_.settings().aof_use_rdb_preamble;
  const long long base_seq = manifest_.base_seq + 1;
  const std::string base_name = state_.settings().appendfilename + "." + std::to_string(base_seq) +
                                ".base" + (rdb_preamble ? ".rdb" : ".aof");
  auto writer = std::make_unique<persist::FileWriter>(
      aof_path("temp-rewriteaof-bg-" + std::to_string(::getpid()) + ".aof"), aof_path(base_name),
      state_.settings().rdbchecksum,
      rdb_preamble ? persist::FileWriter::Tail::kChecksum : persist::FileWriter::Tail::kNone);
  aof_job_ = start_job(std::move(writer), true);
  aof_job_->final_path = base_name;
  aof_rewrite_time_start_ = unix_seconds();
  spdlog::info("Background append only file rewriting started");
  schedule_background();
  return "";
}

void Persistence::finish_aof_job(bool ok, const std::string& error) {
  const int64_t took = (base::system_ms() - aof_job_->start_ms) / 1000;
  const std::string base_name = aof_job_->final_path;
  if (!aof_job_->snapshot->done()) finishing_.push_back(std::move(aof_job_));
  aof_job_.reset();
  aof_rewrite_time_last_ = took;
  if (!ok) {
    spdlog::warn("Background AOF rewrite error: {}", error);
    aof_lastbgrewrite_ok_ = false;
    ++aof_rewrites_consecutive_failures_;
    if (aof_state_ == AofState::kWaitRewrite) aof_rewrite_scheduled_ = true;  // try again
    return;
  }
  // Switch the manifest: the new BASE and the INCR opened at the start.
  persist::AofManifest next = manifest_;
  if (next.base) {
    next.base->type = 'h';
    next.history.push_back(*next.base);
  }
  next.base = persist::AofFileInfo{base_name, manifest_.base_seq + 1, 'b'};
  next.base_seq += 1;
  if (aof_state_ == AofState::kWaitRewrite) {
    // The temporary INCR becomes the first real one.
    for (auto& f : next.incrs) {
      f.type = 'h';
      next.history.push_back(f);
    }
    next.incrs.clear();
    next.incr_seq += 1;
    const std::string name =
        state_.settings().appendfilename + "." + std::to_string(next.incr_seq) + ".incr.aof";
    flush_aof(true);
    const int64_t rename_start = base::monotonic_us();
    const int rename_rc = ::rename(aof_path(aof_temp_incr_).c_str(), aof_path(name).c_str());
    const int rename_errno = errno;
    if (rename_rc == 0)  // Redis samples the renames that worked
      state_.latency_sample("aof-rename", (base::monotonic_us() - rename_start) / 1000);
    errno = rename_errno;
    if (rename_rc != 0) {
      spdlog::warn("Error trying to rename the temporary AOF incr file {} into {}: {}",
                   aof_temp_incr_, name, std::strerror(errno));
      aof_lastbgrewrite_ok_ = false;
      ++aof_rewrites_consecutive_failures_;
      aof_rewrite_scheduled_ = true;
      return;
    }
    next.incrs.push_back({name, next.incr_seq, 'i'});
    aof_incr_name_ = name;
    aof_temp_incr_.clear();
  } else {
    // Every INCR but the last (opened when the rewrite started) is history.
    while (next.incrs.size() > 1) {
      auto f = next.incrs.front();
      f.type = 'h';
      next.history.push_back(f);
      next.incrs.erase(next.incrs.begin());
    }
  }
  const std::string err = persist_manifest(next);
  if (!err.empty()) {
    spdlog::warn("{}", err);
    aof_lastbgrewrite_ok_ = false;
    ++aof_rewrites_consecutive_failures_;
    return;
  }
  manifest_ = std::move(next);
  if (aof_state_ == AofState::kWaitRewrite) {
    aof_state_ = AofState::kOn;
    spdlog::info("Background AOF rewrite finished successfully");
  }
  delete_history_files();
  aof_base_size_ = file_size(aof_path(base_name));
  aof_current_size_ = aof_base_size_ + file_size(aof_path(aof_incr_name_));
  aof_fsync_offset_ = aof_current_size_;
  aof_lastbgrewrite_ok_ = true;
  aof_rewrites_consecutive_failures_ = 0;
  ++aof_rewrites_;
  spdlog::info("Background AOF rewrite terminated with success");
  if (bgsave_scheduled_) {
    bgsave_scheduled_ = false;
    bgsave(false);
  }
}

void Persistence::delete_history_files() {
  for (const auto& f : manifest_.history) {
    if (::unlink(aof_path(f.name).c_str()) == 0 || errno == ENOENT)
      spdlog::info("Removing the history file {} in the background", f.name);
  }
  if (manifest_.history.empty()) return;
  manifest_.history.clear();
  persist_manifest(manifest_);
}

std::string Persistence::set_appendonly(bool on) {
  if (on == (aof_state_ != AofState::kOff)) return "";
  if (!on) {
    state_.remove_propagation_sink(this);
    if (aof_job_) {
      aof_job_->snapshot->abort();
      finishing_.push_back(std::move(aof_job_));
      schedule_background();
    }
    close_aof();
    aof_state_ = AofState::kOff;
    aof_rewrite_scheduled_ = false;
    return "";
  }
  // Redis's startAppendOnly: the first rewrite writes the dataset as the
  // BASE; effects from then on go to a temporary INCR.
  if (::mkdir(aof_dir().c_str(), 0755) != 0 && errno != EEXIST)
    return "Can't open or create append-only dir " + aof_dir() + ": " + std::strerror(errno);
  manifest_ = persist::AofManifest{};
  const std::string mpath = aof_path(manifest_name());
  if (exists(mpath)) {
    // Continue the sequence numbers of what is there.
    std::string text;
    if (FILE* f = std::fopen(mpath.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    persist::AofManifest old;
    if (persist::parse_aof_manifest(text, old).empty()) {
      manifest_ = old;
      if (manifest_.base) {
        manifest_.base->type = 'h';
        manifest_.history.push_back(*manifest_.base);
        manifest_.base.reset();
      }
      for (auto& f : manifest_.incrs) {
        f.type = 'h';
        manifest_.history.push_back(f);
      }
      manifest_.incrs.clear();
    }
  }
  aof_state_ = AofState::kWaitRewrite;
  state_.add_propagation_sink(kToAof, this);
  if (rdb_job_) {
    aof_rewrite_scheduled_ = true;
    return "";
  }
  const std::string err = start_aof_rewrite();
  if (!err.empty()) {
    aof_state_ = AofState::kOff;
    state_.remove_propagation_sink(this);
    return err;
  }
  return "";
}

// --- loading -------------------------------------------------------------------------

std::string Persistence::load_aof_file(const std::string& name, bool last, bool* truncated) {
  *truncated = false;
  const std::string path = aof_path(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && !exists(path))
      return "The append log file " + name + " doesn't exist: " + std::strerror(ENOENT);
    return "Fatal error: can't open the append log file " + name +
           " for reading: " + std::strerror(errno);
  }
  struct stat st {};
  ::fstat(fd, &st);
  if (st.st_size == 0) {
    ::close(fd);
    return "";
  }
  char sig[5];
  const bool rdb = ::pread(fd, sig, 5, 0) == 5 && std::memcmp(sig, "REDIS", 5) == 0;
  persist::FdSource in(fd, static_cast<uint64_t>(st.st_size));
  if (rdb) {
    spdlog::info("Reading RDB base file on AOF loading...");
    std::string err = load_rdb_source(in, name, true, false);
    if (!err.empty()) {
      ::close(fd);
      return err + " (AOF loading aborted)";
    }
  }
  Client fake(0, base::now_ms());
  // The AOF client runs everything, whatever the users and passwords
  // (Redis's AOF client has no user).
  fake.authenticated = true;
  persist::AofCommandReader reader(in);
  std::vector<std::string> args;
  uint64_t valid_before_multi = reader.valid_up_to();
  bool in_multi = false;
  std::string error;
  bool short_read = false;
  for (;;) {
    const uint64_t before = reader.valid_up_to();
    const auto status = reader.next(args);
    if (status == persist::AofCommandReader::Status::kEnd) break;
    if (status == persist::AofCommandReader::Status::kTruncated) {
      short_read = true;
      break;
    }
    if (status == persist::AofCommandReader::Status::kIoError) {
      error = "Unrecoverable error reading the append only file " + name + ": " + in.error();
      break;
    }
    if (status == persist::AofCommandReader::Status::kBadFormat) {
      error = "Bad file format reading the append only file " + name + " at offset " +
              std::to_string(reader.valid_up_to()) +
              ": make a backup of your AOF file, then use ./redis-check-aof --fix "
              "<filename.manifest>";
      break;
    }
    std::string cmd = args[0];
    for (auto& c : cmd) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (cmd == "multi") {
      in_multi = true;
      valid_before_multi = before;
    } else if (cmd == "exec" || cmd == "discard") {
      in_multi = false;
    }
    const std::string err = state_.command_executor
                                ? state_.command_executor->execute_for_load(fake, args)
                                : std::string("no command executor");
    if (!err.empty()) {
      error = err + " reading the append only file " + name;
      break;
    }
  }
  uint64_t valid = reader.valid_up_to();
  if (error.empty() && !short_read && in_multi) {
    spdlog::warn("Revert incomplete MULTI/EXEC transaction in AOF file {}", name);
    valid = valid_before_multi;
    short_read = true;
  }
  ::close(fd);
  if (!error.empty()) return error;
  if (!short_read) return "";
  if (!last) {
    return "Unexpected end of file reading the append only file " + name +
           " (it is not the last file: this is a fatal error)";
  }
  if (!state_.settings().aof_load_truncated) {
    return "Unexpected end of file reading the append only file " + name +
           ". You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
           "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
           "configuration option to yes and restart the server.";
  }
  spdlog::warn("!!! Warning: short read while loading the AOF file {}!!!", name);
  spdlog::warn("!!! Truncating the AOF {} at offset {} !!!", name, valid);
  if (::truncate(path.c_str(), static_cast<off_t>(valid)) != 0)
    return "Error truncating the AOF file " + name + ": " + std::strerror(errno);
  spdlog::warn("AOF {} loaded anyway because aof-load-truncated is enabled", name);
  *truncated = true;
  return "";
}

std::string Persistence::create_base_at_startup() {
  const long long seq = manifest_.base_seq + 1;
  const bool rdb_preamble = state_.settings().aof_use_rdb_preamble;
  const std::string name = state_.settings().appendfilename + "." + std::to_string(seq) + ".base" +
                           (rdb_preamble ? ".rdb" : ".aof");
  auto writer = std::make_unique<persist::FileWriter>(
      aof_path("temp-rewriteaof-" + std::to_string(::getpid()) + ".aof"), aof_path(name),
      state_.settings().rdbchecksum,
      rdb_preamble ? persist::FileWriter::Tail::kChecksum : persist::FileWriter::Tail::kNone);
  auto job = start_job(std::move(writer), true);
  std::string err;
  if (!run_to_completion(*job, err)) return "Can't create the AOF base file " + name + ": " + err;
  manifest_.base = persist::AofFileInfo{name, seq, 'b'};
  manifest_.base_seq = seq;
  spdlog::info("Creating AOF base file {} on server start", name);
  aof_base_size_ = file_size(aof_path(name));
  return "";
}

std::string Persistence::load_aof() {
  if (::mkdir(aof_dir().c_str(), 0755) != 0 && errno != EEXIST)
    return "Can't open or create append-only dir " + aof_dir() + ": " + std::strerror(errno);
  const std::string mpath = aof_path(manifest_name());
  manifest_ = persist::AofManifest{};
  if (exists(mpath)) {
    std::string text;
    FILE* f = std::fopen(mpath.c_str(), "r");
    if (!f)
      return "Fatal error: can't open the AOF manifest file " + mpath +
             " for reading: " + std::strerror(errno);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    std::fclose(f);
    int line = 0;
    const std::string err = persist::parse_aof_manifest(text, manifest_, &line);
    if (!err.empty())
      return "*** FATAL AOF MANIFEST FILE ERROR *** Reading the manifest file " + mpath +
             ", at line " + std::to_string(line) + ": " + err;
    std::vector<std::string> files;
    if (manifest_.base) files.push_back(manifest_.base->name);
    for (const auto& i : manifest_.incrs) files.push_back(i.name);
    state_.begin_loading();
    const int64_t start = base::monotonic_us();
    uint64_t total = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      bool truncated = false;
      const std::string err2 = load_aof_file(files[i], i + 1 == files.size(), &truncated);
      if (!err2.empty()) {
        state_.end_loading();
        return err2;
      }
      total += file_size(aof_path(files[i]));
    }
    state_.end_loading();
    if (!files.empty())
      spdlog::info("DB loaded from append only file: {:.3f} seconds",
                   static_cast<double>(base::monotonic_us() - start) / 1e6);
    aof_current_size_ = total;
    aof_base_size_ = manifest_.base ? file_size(aof_path(manifest_.base->name)) : 0;
    delete_history_files();
  }
  // A first start: the (empty) dataset becomes the BASE.
  if (!manifest_.base && manifest_.incrs.empty()) {
    std::string err = create_base_at_startup();
    if (!err.empty()) return err;
    aof_current_size_ = aof_base_size_;
  }
  if (manifest_.incrs.empty()) {
    std::string err = open_new_incr(false);
    if (!err.empty()) return err;
  } else {
    const std::string name = manifest_.incrs.back().name;
    const int fd = ::open(aof_path(name).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return "Can't open the append-only file " + name + ": " + std::strerror(errno);
    aof_fd_ = fd;
    aof_incr_name_ = name;
    aof_selected_db_ = -1;
  }
  aof_fsync_offset_ = aof_current_size_;
  lastsave_ = unix_seconds();
  state_.remove_propagation_sink(this);
  state_.add_propagation_sink(kToAof, this);
  return "";
}

std::string Persistence::reload_aof() {
  flush_aof(true);
  if (aof_fd_ >= 0) ::close(aof_fd_);
  aof_fd_ = -1;
  state_.flush_all();
  if (state_.scripts != nullptr) state_.scripts->flush_functions();
  return load_aof();
}

}  // namespace setd::server
