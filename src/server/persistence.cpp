// Persistence: RDB side and lifecycle (see persistence.hpp). The AOF side
// is in aof.cpp.
#include "setd/server/persistence.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "setd/base/clock.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/server/event_loop.hpp"
#include "setd/server/server_state.hpp"

namespace setd::server {

namespace {

// Work per background slice, and when to pause for the writer thread.
constexpr int64_t kSliceUs = 1000;
constexpr size_t kSliceKeys = 128;
constexpr size_t kSliceBytes = 256 * 1024;
constexpr size_t kMaxWriterBacklog = 4 * 1024 * 1024;
// An image going to replicas' sockets pauses sooner (every byte waiting is
// copied once per replica), in smaller chunks.
constexpr size_t kMaxSinkBacklog = 1024 * 1024;
constexpr size_t kSinkChunk = 256 * 1024;
// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points
// wait this long before trying again.
constexpr int64_t kBgsaveRetryDelay = 5;

int64_t unix_seconds() { return base::system_ms() / 1000; }

const char kMisconfRdb[] =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";

}  // namespace

std::string Persistence::rdb_path() const { return state_.settings().dbfilename; }

std::string Persistence::temp_rdb_path() const {
  return "temp-" + std::to_string(::getpid()) + ".rdb";
}

persist::SnapshotOptions Persistence::snapshot_options(bool aof_base) const {
  const auto& s = state_.settings();
  persist::SnapshotOptions o;
  o.encode.compress = s.rdbcompression;
  o.aux = {{"redis-ver", kRedisCompatVersion},
           {"redis-bits", std::to_string(sizeof(void*) * 8)},
           {"ctime", std::to_string(unix_seconds())},
           {"used-mem", "0"}};
  // Where the replication stream stands at this image (Redis's
  // rdbPopulateSaveInfo): a replica loading it knows the database its
  // master's stream is in, and a restarted replica can continue.
  if (repl_aux) {
    const ReplInfo r = repl_aux();
    if (r.stream_db >= 0) {
      o.aux.emplace_back("repl-stream-db", std::to_string(r.stream_db));
      o.aux.emplace_back("repl-id", r.replid);
      o.aux.emplace_back("repl-offset", std::to_string(r.offset));
    }
  }
  o.aux.emplace_back("aof-base", aof_base ? "1" : "0");
  o.aux.emplace_back("setd-ver", kSetdVersion);
  if (aof_base && !s.aof_use_rdb_preamble) o.format = persist::SnapshotFormat::kAofCommands;
  if (state_.scripts != nullptr) o.functions = state_.scripts->function_codes();
  return o;
}

std::unique_ptr<Persistence::Job> Persistence::start_job(
    std::unique_ptr<persist::FileWriter> writer, bool aof_base, persist::SnapshotSink* sink) {
  // One snapshot observes the databases at a time: an abandoned one must
  // finish marking first (cheap: no serialization).
  for (auto& f : finishing_)
    while (!f->snapshot->step(SIZE_MAX, SIZE_MAX)) {
    }
  finishing_.clear();
  auto job = std::make_unique<Job>();
  job->aof_base = aof_base;
  job->start_ms = base::system_ms();
  std::vector<db::Database*> dbs;
  for (int i = 0; i < state_.db_count(); ++i) dbs.push_back(&state_.db(i));
  job->writer = std::move(writer);
  job->sink = sink;
  persist::SnapshotOptions opts = snapshot_options(aof_base);
  if (sink != nullptr) opts.chunk_bytes = kSinkChunk;
  job->snapshot = std::make_unique<persist::Snapshot>(
      std::move(dbs), sink != nullptr ? sink : job->writer.get(), std::move(opts));
  return job;
}

bool Persistence::run_to_completion(Job& job, std::string& error) {
  while (!job.snapshot->done()) {
    if (job.writer->state() == persist::FileWriter::State::kFailed) break;
    // Let the writer catch up rather than queue the whole dataset.
    if (job.writer->backlog() > kMaxWriterBacklog) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    job.snapshot->step(1024, 4 * 1024 * 1024);
  }
  if (!job.snapshot->done()) {
    job.snapshot->abort();
    while (!job.snapshot->step(SIZE_MAX, SIZE_MAX)) {
    }
  }
  const auto st = job.writer->wait();
  if (st != persist::FileWriter::State::kDone) {
    error = job.writer->error();
    return false;
  }
  return true;
}

// --- SAVE / BGSAVE ------------------------------------------------------------

std::string Persistence::save() {
  if (rdb_job_) return "Background save already in progress";
  // The databases have one observer: a running AOF rewrite completes first.
  if (aof_job_) {
    std::string err;
    const bool ok = run_to_completion(*aof_job_, err);
    finish_aof_job(ok, err);
  }
  auto writer = std::make_unique<persist::FileWriter>(temp_rdb_path(), rdb_path(),
                                                      state_.settings().rdbchecksum);
  if (writer->state() == persist::FileWriter::State::kFailed) {
    char cwd[4096];
    spdlog::warn("Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
                 temp_rdb_path(), ::getcwd(cwd, sizeof(cwd)) ? cwd : "?", writer->error());
    return writer->error();  // a failed SAVE leaves rdb_last_bgsave_status alone, as Redis
  }
  auto job = start_job(std::move(writer), false);
  std::string err;
  if (!run_to_completion(*job, err)) {
    spdlog::warn("Error saving DB on disk: {}", err);
    return err;
  }
  spdlog::info("DB saved on disk");
  state_.dirty = 0;
  lastsave_ = unix_seconds();
  lastbgsave_ok_ = true;
  return "";
}

Persistence::BgsaveStart Persistence::bgsave(bool schedule) {
  if (rdb_job_) return BgsaveStart::kInProgress;
  if (aof_job_) {
    if (!schedule) return BgsaveStart::kBusy;
    bgsave_scheduled_ = true;
    return BgsaveStart::kScheduled;
  }
  ++rdb_saves_;
  last_bgsave_try_ = unix_seconds();
  dirty_before_bgsave_ = state_.dirty;
  rdb_save_time_start_ = unix_seconds();
  auto writer = std::make_unique<persist::FileWriter>(temp_rdb_path(), rdb_path(),
                                                      state_.settings().rdbchecksum);
  if (writer->state() == persist::FileWriter::State::kFailed) {
    char cwd[4096];
    spdlog::warn("Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
                 temp_rdb_path(), ::getcwd(cwd, sizeof(cwd)) ? cwd : "?", writer->error());
  }
  rdb_job_ = start_job(std::move(writer), false);
  spdlog::info("Background saving started");
  schedule_background();
  return BgsaveStart::kStarted;
}

void Persistence::finish_rdb_job(bool ok, const std::string& error) {
  const int64_t took = (base::system_ms() - rdb_job_->start_ms) / 1000;
  const bool to_sink = rdb_job_->sink != nullptr;
  if (to_sink) {
    // Replicas' sockets: the dump file and its status are not involved.
    if (ok)
      spdlog::info("Background RDB transfer terminated with success");
    else
      spdlog::warn("Background transfer error: {}", error);
  } else if (ok) {
    spdlog::info("Background saving terminated with success");
    state_.dirty -= std::min(state_.dirty, dirty_before_bgsave_);
    lastsave_ = unix_seconds();
    lastbgsave_ok_ = true;
  } else {
    spdlog::warn("Background saving error: {}", error);
    lastbgsave_ok_ = false;
  }
  rdb_save_time_last_ = took;
  if (!rdb_job_->snapshot->done()) finishing_.push_back(std::move(rdb_job_));
  rdb_job_.reset();
  if (aof_rewrite_scheduled_) {
    aof_rewrite_scheduled_ = false;
    start_aof_rewrite();
  }
  if (on_bgsave_end) on_bgsave_end(ok, to_sink);
}

Persistence::BgsaveStart Persistence::bgsave_to_sink(persist::SnapshotSink* sink) {
  if (rdb_job_ || aof_job_) return BgsaveStart::kBusy;
  rdb_job_ = start_job(nullptr, false, sink);
  schedule_background();
  return BgsaveStart::kStarted;
}

void Persistence::abort_bgsave() {
  if (!rdb_job_) return;
  spdlog::warn("Background saving stopped: the data is about to be replaced.");
  rdb_job_->snapshot->abort();
  finish_rdb_job(false, "aborted");
  schedule_background();
}

// --- background slices ----------------------------------------------------------

void Persistence::schedule_background() {
  if (background_posted_) return;
  if (state_.loop == nullptr) return;  // no loop (unit tests): cron() drives it
  background_posted_ = true;
  state_.loop->post([this] { background_step(); });
}

void Persistence::background_step() {
  background_posted_ = false;
  // Abandoned snapshots finish marking, a bounded amount per slice.
  for (auto it = finishing_.begin(); it != finishing_.end();) {
    if ((*it)->snapshot->step(64 * 1024, SIZE_MAX))
      it = finishing_.erase(it);
    else
      ++it;
  }
  Job* job = rdb_job_ ? rdb_job_.get() : aof_job_.get();
  if (job == nullptr) {
    if (!finishing_.empty()) schedule_background();
    return;
  }
  const bool is_rdb = job == rdb_job_.get();
  auto finish = [&](bool ok, const std::string& err) {
    if (is_rdb)
      finish_rdb_job(ok, err);
    else
      finish_aof_job(ok, err);
  };
  persist::SnapshotSink& sink = job->sink ? *job->sink : *job->writer;
  const auto failed = [&] {
    return job->sink ? job->sink->failed()
                     : job->writer->state() == persist::FileWriter::State::kFailed;
  };
  if (failed()) {
    job->snapshot->abort();
    finish(false, job->sink ? std::string("no replica left to send to") : job->writer->error());
    schedule_background();
    return;
  }
  if (job->snapshot->done()) {
    // Everything is produced: wait for the writer's thread (a sink has
    // taken everything already).
    if (job->sink || job->writer->state() == persist::FileWriter::State::kDone) {
      finish(true, "");
      schedule_background();
    } else if (state_.loop) {
      state_.loop->post_after(1000, [this] { background_step(); });
      background_posted_ = true;
    }
    return;
  }
  const long long delay = state_.settings().rdb_key_save_delay;
  if (delay > 0) {
    // Deliberately slow (tests): one key per slice.
    job->snapshot->step(1, SIZE_MAX);
    if (state_.loop) {
      background_posted_ = true;
      state_.loop->post_after(delay, [this] { background_step(); });
    }
    return;
  }
  const size_t max_backlog = job->sink ? kMaxSinkBacklog : kMaxWriterBacklog;
  if (sink.backlog() > max_backlog) {
    if (state_.loop) {
      background_posted_ = true;
      state_.loop->post_after(1000, [this] { background_step(); });
    }
    return;
  }
  const int64_t start = base::monotonic_us();
  do {
    if (job->snapshot->step(kSliceKeys, kSliceBytes)) break;
  } while (base::monotonic_us() - start < kSliceUs && sink.backlog() <= max_backlog);
  schedule_background();
}

// --- cron ---------------------------------------------------------------------

bool Persistence::check_save_points() {
  const std::string& save = state_.settings().save;
  if (save.empty() || rdb_job_ || aof_job_) return false;
  const int64_t now = unix_seconds();
  size_t pos = 0;
  while (pos < save.size()) {
    const size_t sp = save.find(' ', pos);
    const size_t sp2 = save.find(' ', sp + 1);
    const long long seconds = std::stoll(save.substr(pos, sp - pos));
    const long long changes =
        std::stoll(save.substr(sp + 1, sp2 == std::string::npos ? sp2 : sp2 - sp - 1));
    pos = sp2 == std::string::npos ? save.size() : sp2 + 1;
    if (state_.dirty >= static_cast<uint64_t>(changes) && now - lastsave_ > seconds &&
        (now - last_bgsave_try_ > kBgsaveRetryDelay || lastbgsave_ok_)) {
      spdlog::info("{} changes in {} seconds. Saving...", changes, seconds);
      bgsave(false);
      return true;
    }
  }
  return false;
}

void Persistence::cron() {
  if (!rdb_job_ && !aof_job_) {
    if (bgsave_scheduled_) {
      bgsave_scheduled_ = false;
      bgsave(false);
    } else if (aof_rewrite_scheduled_) {
      aof_rewrite_scheduled_ = false;
      start_aof_rewrite();
    } else if (!check_save_points()) {
      // Automatic AOF rewrite when the file grew enough.
      const auto& s = state_.settings();
      if (aof_state_ == AofState::kOn && s.auto_aof_rewrite_percentage > 0 &&
          aof_current_size_ > static_cast<uint64_t>(s.auto_aof_rewrite_min_size) &&
          aof_rewrites_consecutive_failures_ < 3) {
        const uint64_t base = aof_base_size_ ? aof_base_size_ : 1;
        const uint64_t growth = (aof_current_size_ * 100 / base) - 100;
        if (growth >= static_cast<uint64_t>(s.auto_aof_rewrite_percentage)) {
          spdlog::info("Starting automatic rewriting of AOF on {}% growth", growth);
          start_aof_rewrite();
        }
      }
    }
  }
  // Without an event loop (unit tests) the cron drives the jobs.
  if (state_.loop == nullptr) {
    while (rdb_job_ || aof_job_ || !finishing_.empty()) {
      Job* job = rdb_job_ ? rdb_job_.get() : aof_job_.get();
      if (job && job->writer && job->snapshot->done() &&
          job->writer->state() == persist::FileWriter::State::kRunning)
        job->writer->wait();
      background_step();
    }
  } else if (rdb_job_ || aof_job_ || !finishing_.empty()) {
    schedule_background();
  }
  aof_cron();
}

std::optional<std::string> Persistence::write_error() const {
  const auto& s = state_.settings();
  if (s.stop_writes_on_bgsave_error && !s.save.empty() && !lastbgsave_ok_)
    return std::string(kMisconfRdb);
  if (aof_state_ != AofState::kOff && !aof_last_write_ok_)
    return "MISCONF Errors writing to the AOF file: " +
           std::string(std::strerror(aof_last_write_errno_));
  return std::nullopt;
}

// --- shutdown and FLUSHALL ---------------------------------------------------------

std::string Persistence::prepare_for_shutdown(bool save_flag, bool nosave) {
  if (rdb_job_) {
    spdlog::warn("There is a child saving an .rdb. Killing it!");
    rdb_job_->snapshot->abort();
    finishing_.push_back(std::move(rdb_job_));
  }
  if (aof_job_) {
    spdlog::warn("There is a child rewriting the AOF. Killing it!");
    aof_job_->snapshot->abort();
    finishing_.push_back(std::move(aof_job_));
  }
  if (aof_state_ != AofState::kOff) {
    spdlog::info("Calling fsync() on the AOF file.");
    flush_aof(true);
  }
  if ((!state_.settings().save.empty() && !nosave) || save_flag) {
    spdlog::info("Saving the final RDB snapshot before exiting.");
    const std::string err = save();
    if (!err.empty()) {
      spdlog::warn("Error trying to save the DB, can't exit.");
      return err;
    }
  }
  return "";
}

void Persistence::after_flushall() {
  // An image going to replicas goes on: it is point in time, and the
  // FLUSHALL reaches them after it.
  if (rdb_job_ && rdb_job_->sink == nullptr) {
    rdb_job_->snapshot->abort();
    finishing_.push_back(std::move(rdb_job_));
    schedule_background();
  }
  if (!state_.settings().save.empty()) save();
}

// --- loading --------------------------------------------------------------------------

namespace {

// Inserts what an RDB holds into the databases.
class Loader final : public persist::RdbVisitor {
 public:
  Loader(ServerState& s, bool keep_expired, bool replace)
      : s_(s), keep_expired_(keep_expired), replace_(replace) {}
  void on_aux(std::string_view key, std::string_view value) override {
    if (key == "repl-stream-db")
      repl.stream_db = std::atoi(std::string(value).c_str());
    else if (key == "repl-id")
      repl.replid = std::string(value);
    else if (key == "repl-offset")
      repl.offset = std::atoll(std::string(value).c_str());
    if (key == "redis-ver")
      spdlog::info("Loading RDB produced by version {}", value);
    else if (key == "ctime")
      spdlog::info("RDB age {} seconds", unix_seconds() - std::atoll(std::string(value).c_str()));
  }
  std::string on_key(persist::LoadedKey&& k) override {
    if (k.db < 0 || k.db >= s_.db_count())
      return "FATAL: Data file was created with a Redis server configured to handle more than " +
             std::to_string(s_.db_count()) + " databases";
    if (!keep_expired_ && k.expire_ms != -1 && k.expire_ms < base::system_ms()) {
      ++expired;
      return "";
    }
    auto& db = s_.db(k.db);
    if (db.peek(k.key) != nullptr || db.is_expired(k.key)) {
      if (!replace_) return "RDB has duplicated key '" + k.key + "' in DB " + std::to_string(k.db);
      db.erase(k.key);
    }
    db::Value& v = db.add(k.key, std::move(k.value), k.expire_ms);
    // As Redis's objectSetLRUOrLFU: the idle time a dump recorded carries on.
    v.set_lru_or_lfu(k.freq, k.idle_seconds);
    ++loaded;
    return "";
  }
  void on_skipped(int db, std::string_view key, std::string_view type) override {
    spdlog::warn("Skipping key '{}' in DB {}: setd does not hold {} values", key, db, type);
  }
  void on_empty_key(int db, std::string_view key) override {
    spdlog::warn("Skipping empty key '{}' in DB {}", key, db);
  }
  // Function libraries, when a script engine is there (Redis's
  // rdbFunctionLoad: a library that fails to load fails the load; one that
  // exists already is replaced only when merging).
  bool accepts_functions() const override { return s_.scripts != nullptr; }
  std::string on_function(std::string&& code) override {
    std::string err = s_.scripts->load_function(code, replace_);
    if (!err.empty()) return "Failed loading library: " + err;
    ++functions;
    return "";
  }
  uint64_t functions = 0;
  uint64_t loaded = 0;
  uint64_t expired = 0;
  Persistence::ReplInfo repl;

 private:
  ServerState& s_;
  bool keep_expired_;
  bool replace_;
};

}  // namespace

std::string Persistence::load_rdb_source(persist::Source& src, const std::string& name,
                                         bool aof_preamble, bool replace) {
  Loader loader(state_, aof_preamble, replace);
  persist::DecodeOptions opts;
  opts.set_limits = state_.settings().set_limits();
  opts.skip_unsupported = state_.settings().rdb_skip_unsupported_types;
  opts.verify_checksum = state_.settings().rdbchecksum;
  const auto r = persist::decode_rdb(src, loader, opts);
  rdb_last_load_keys_loaded_ = loader.loaded;
  rdb_last_load_keys_expired_ = loader.expired;
  loaded_repl_info = loader.repl;
  if (!r.ok)
    return "Bad RDB file " + name + " at offset " + std::to_string(r.offset) + ": " + r.error;
  spdlog::info("Done loading RDB, keys loaded: {}, keys expired: {}.", loader.loaded,
               loader.expired);
  if (r.skipped > 0) spdlog::warn("{} keys of unsupported types were skipped", r.skipped);
  return "";
}

std::string Persistence::load_rdb_file(const std::string& path, bool replace, bool keep_expired) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "Can't open " + path + ": " + std::strerror(errno);
  struct stat st {};
  ::fstat(fd, &st);
  state_.begin_loading();
  const int64_t start = base::monotonic_us();
  persist::FdSource src(fd, static_cast<uint64_t>(st.st_size));
  std::string err = load_rdb_source(src, path, keep_expired, replace);
  ::close(fd);
  state_.end_loading();
  if (err.empty()) {
    spdlog::info("DB loaded from disk: {:.3f} seconds",
                 static_cast<double>(base::monotonic_us() - start) / 1e6);
    lastsave_ = unix_seconds();
  }
  return err;
}

std::string Persistence::load_at_startup() {
  if (state_.settings().appendonly) {
    aof_state_ = AofState::kOn;
    std::string err = load_aof();
    // The AOF goes on after its preamble: the preamble's place in a
    // replication stream says nothing about the data loaded.
    loaded_repl_info = {};
    return err;
  }
  struct stat st {};
  if (::stat(rdb_path().c_str(), &st) != 0) {
    if (errno == ENOENT) return "";
    return "Can't open " + rdb_path() + ": " + std::strerror(errno);
  }
  return load_rdb_file(rdb_path());
}

// --- INFO --------------------------------------------------------------------------------

void Persistence::info(std::string& o) const {
  const auto field = [&](const char* k, const std::string& v) {
    o += k;
    o += ':';
    o += v;
    o += "\r\n";
  };
  const auto num = [&](const char* k, long long v) { field(k, std::to_string(v)); };
  const int64_t now = unix_seconds();
  const Job* rdb = rdb_job_.get();
  const Job* aof = aof_job_.get();
  o += "# Persistence\r\n";
  num("loading", state_.loading ? 1 : 0);
  num("async_loading", 0);
  num("current_cow_peak", 0);
  num("current_cow_size", 0);
  num("current_cow_size_age", 0);
  field("current_fork_perc", "0.00");
  num("current_save_keys_processed",
      rdb ? static_cast<long long>(rdb->snapshot->keys_written()) : 0);
  long long total = 0;
  if (rdb)
    for (int i = 0; i < state_.db_count(); ++i)
      total += static_cast<long long>(state_.db(i).size());
  num("current_save_keys_total", total);
  num("rdb_changes_since_last_save", static_cast<long long>(state_.dirty));
  num("rdb_bgsave_in_progress", rdb ? 1 : 0);
  num("rdb_last_save_time", lastsave_);
  field("rdb_last_bgsave_status", lastbgsave_ok_ ? "ok" : "err");
  num("rdb_last_bgsave_time_sec", rdb_save_time_last_);
  num("rdb_current_bgsave_time_sec", rdb ? now - rdb->start_ms / 1000 : -1);
  num("rdb_saves", static_cast<long long>(rdb_saves_));
  num("rdb_last_cow_size", 0);
  num("rdb_last_load_keys_expired", static_cast<long long>(rdb_last_load_keys_expired_));
  num("rdb_last_load_keys_loaded", static_cast<long long>(rdb_last_load_keys_loaded_));
  num("aof_enabled", aof_state_ != AofState::kOff ? 1 : 0);
  num("aof_rewrite_in_progress", aof ? 1 : 0);
  num("aof_rewrite_scheduled", aof_rewrite_scheduled_ ? 1 : 0);
  num("aof_last_rewrite_time_sec", aof_rewrite_time_last_);
  num("aof_current_rewrite_time_sec", aof ? now - aof->start_ms / 1000 : -1);
  field("aof_last_bgrewrite_status", aof_lastbgrewrite_ok_ ? "ok" : "err");
  num("aof_rewrites", static_cast<long long>(aof_rewrites_));
  num("aof_rewrites_consecutive_failures",
      static_cast<long long>(aof_rewrites_consecutive_failures_));
  field("aof_last_write_status", aof_last_write_ok_ && fsync_ok() ? "ok" : "err");
  num("aof_last_cow_size", 0);
  num("module_fork_in_progress", 0);
  num("module_fork_last_cow_size", 0);
  if (aof_state_ != AofState::kOff) {
    num("aof_current_size", static_cast<long long>(aof_current_size_));
    num("aof_base_size", static_cast<long long>(aof_base_size_));
    num("aof_pending_rewrite", aof_rewrite_scheduled_ ? 1 : 0);
    num("aof_buffer_length", static_cast<long long>(aof_buf_.size()));
    num("aof_pending_bio_fsync", fsync_pending() ? 1 : 0);
    num("aof_delayed_fsync", static_cast<long long>(aof_delayed_fsync_));
  }
}

}  // namespace setd::server
