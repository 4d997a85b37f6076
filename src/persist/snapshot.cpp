#include "setd/persist/snapshot.hpp"

#include <algorithm>
#include <array>

#include "setd/persist/aof_format.hpp"

namespace setd::persist {

Snapshot::Snapshot(std::vector<db::Database*> dbs, SnapshotSink* sink, SnapshotOptions opts)
    : dbs_(std::move(dbs)), sink_(sink), opts_(std::move(opts)), enc_(&buf_, opts_.encode) {
  mark_ = dbs_.empty() ? true : !dbs_.front()->snapshot_mark();
  jobs_.resize(dbs_.size());
  section_open_.assign(dbs_.size(), false);
  for (size_t i = 0; i < dbs_.size(); ++i) {
    Job& j = jobs_[i];
    j.index = static_cast<int>(i);
    j.live = dbs_[i];
    j.keys = &dbs_[i]->key_table();
    j.size_at_start = j.keys->size();
    j.expires_at_start = j.keys->expires_size();
    dbs_[i]->set_snapshot_observer(this, mark_);
  }
  buf_.reserve(opts_.chunk_bytes + (opts_.chunk_bytes >> 2));
  if (opts_.format == SnapshotFormat::kRdb) {
    enc_.magic();
    for (const auto& [k, v] : opts_.aux) enc_.aux(k, v);
    for (const auto& code : opts_.functions) {
      enc_.type(rdb::kOpFunction2);
      enc_.string(code);
    }
  } else {
    for (const auto& code : opts_.functions) append_command(buf_, {"FUNCTION", "LOAD", code});
  }
}

Snapshot::~Snapshot() {
  // An unfinished snapshot cannot leave keys unmarked: finish the marking.
  if (!done_) {
    abort();
    while (!step(SIZE_MAX, SIZE_MAX)) {
    }
  }
}

Snapshot::Job* Snapshot::job_of(db::Database& d) {
  for (Job& j : jobs_)
    if (j.live == &d && !j.taken_keys) return &j;
  return nullptr;
}

void Snapshot::switch_db(const Job& job) {
  if (stream_db_ == job.index) return;
  if (opts_.format == SnapshotFormat::kAofCommands) {
    append_command(buf_, {"SELECT", std::to_string(job.index)});
    stream_db_ = job.index;
    return;
  }
  enc_.select_db(static_cast<uint64_t>(job.index));
  const auto i = static_cast<size_t>(job.index);
  if (!section_open_[i]) {
    enc_.resize_db(job.size_at_start, job.expires_at_start);
    section_open_[i] = true;
  }
  stream_db_ = job.index;
}

namespace {

// What a dump records of a key's accesses, as Redis's rdbSaveKeyValuePair:
// the idle time under an LRU maxmemory-policy, the LFU counter under an LFU
// one, nothing otherwise.
std::pair<long long, int> access_fields(const db::Value& v) {
  const db::AccessTracking& t = db::access_tracking();
  if (t.lfu) return {-1, v.lfu_counter()};
  if (t.save_idle) return {static_cast<long long>(v.idle_seconds(db::lru_clock())), -1};
  return {-1, -1};
}

}  // namespace

void Snapshot::write_key(const Job& job, std::string_view key, const db::Value& v,
                         int64_t expire_ms) {
  if (sink_ == nullptr) return;  // aborted: marking only
  switch_db(job);
  const size_t before = buf_.size();
  if (opts_.format == SnapshotFormat::kRdb) {
    const auto [idle, freq] = access_fields(v);
    enc_.key_value(key, v, expire_ms, idle, freq);
  } else {
    write_commands(key, v, expire_ms);
  }
  bytes_produced_ += buf_.size() - before;
  ++keys_written_;
  flush_chunk(false);
}

bool Snapshot::start_walk(size_t job, std::string_view key, db::Value& v, int64_t expire_ms) {
  if (v.type() != db::Type::kSet || v.as_set().size() <= kWalkThreshold) return false;
  ds::HashSet* hs = v.as_set().as_hash_set();
  if (hs == nullptr || hs->walking()) return false;
  auto w = std::make_unique<SetWalk>();
  w->owner = this;
  w->job = job;
  w->set = hs;
  enc_.set_output(&w->buf);
  const auto [idle, freq] = access_fields(v);
  enc_.key_prefix(expire_ms, idle, freq);
  enc_.type(rdb::kTypeSet);
  enc_.string(key);
  enc_.length(hs->size());
  enc_.set_output(&buf_);
  SetWalk* raw = w.get();
  walks_.push_back(std::move(w));
  hs->begin_walk(raw);
  return true;
}

void Snapshot::SetWalk::member(std::string_view m) {
  RdbEncoder& enc = owner->enc_;
  enc.set_output(&buf);
  enc.string(m);
  enc.set_output(&owner->buf_);
}

void Snapshot::SetWalk::ended() {
  // Every member is in `buf`: the key joins the stream now.
  over = true;
  set = nullptr;
  Snapshot& s = *owner;
  if (s.sink_ == nullptr) return;
  s.switch_db(s.jobs_[job]);
  s.buf_ += buf;
  s.bytes_produced_ += buf.size();
  ++s.keys_written_;
  std::string().swap(buf);
  s.flush_chunk(false);
}

void Snapshot::flush_chunk(bool force) {
  if (sink_ == nullptr || buf_.empty()) return;
  if (!force && buf_.size() < opts_.chunk_bytes) return;
  std::string chunk;
  chunk.reserve(opts_.chunk_bytes + (opts_.chunk_bytes >> 2));
  chunk.swap(buf_);
  sink_->write(std::move(chunk));
}

void Snapshot::write_commands(std::string_view key, const db::Value& v, int64_t expire_ms) {
  // Redis's rewriteAppendOnlyFileRio: one command per 64 members
  // (AOF_REWRITE_ITEMS_PER_CMD).
  constexpr size_t kItemsPerCmd = 64;
  if (v.type() == db::Type::kString) {
    append_command_range(buf_, std::array<std::string_view, 3>{"SET", key, v.as_string().bytes});
  } else {
    std::vector<std::string> args;
    const auto emit = [&] {
      if (args.size() > 2) append_command(buf_, args);
      args.resize(2);
    };
    args = {"SADD", std::string(key)};
    v.as_set().for_each([&](std::string_view m) {
      args.emplace_back(m);
      if (args.size() == kItemsPerCmd + 2) emit();
    });
    emit();
  }
  if (expire_ms >= 0)
    append_command(buf_, {"PEXPIREAT", std::string(key), std::to_string(expire_ms)});
}

bool Snapshot::step(size_t max_keys, size_t max_bytes) {
  if (done_) return true;
  size_t visited = 0;
  const uint64_t bytes_start = bytes_produced_;
  // Walks first, oldest first: their buffers are the snapshot's memory.
  while (!walks_.empty()) {
    SetWalk& w = *walks_.front();
    if (!w.over && w.set != nullptr) {
      // One bucket holds ~3-6 members: count them like keys.
      if (!w.set->walk_step(std::max<size_t>(1, max_keys))) {
        visited += max_keys;
        break;
      }
    }
    walks_.erase(walks_.begin());
    if (visited >= max_keys || bytes_produced_ - bytes_start >= max_bytes) return false;
  }
  if (!walks_.empty()) return false;
  while (next_job_ < jobs_.size()) {
    Job& job = jobs_[next_job_];
    if (job.finished || job.keys->empty()) {
      job.finished = true;
      job.taken_keys.reset();
      ++next_job_;
      continue;
    }
    job.cursor = job.keys->scan(job.cursor, [&](db::Value& v) {
      ++visited;
      if (v.snap_mark() == mark_) return;  // saved already, or created after T
      write_key(job, v.key(), v, v.expire_ms());
      v.set_snap_mark(mark_);
    });
    job.started = true;
    if (job.cursor == 0) {
      job.finished = true;
      job.taken_keys.reset();  // a flushed keyspace is freed once walked
      ++next_job_;
    }
    if (visited >= max_keys || bytes_produced_ - bytes_start >= max_bytes) break;
  }
  if (next_job_ == jobs_.size() && walks_.empty()) complete();
  return done_;
}

void Snapshot::complete() {
  for (db::Database* d : dbs_) d->set_snapshot_observer(nullptr, mark_);
  if (sink_ != nullptr) {
    if (opts_.format == SnapshotFormat::kRdb) enc_.eof();
    flush_chunk(true);
    sink_->finish();
  }
  done_ = true;
}

void Snapshot::abort() {
  if (done_) return;
  sink_ = nullptr;
  std::string().swap(buf_);
  for (auto& w : walks_)
    if (w->set != nullptr) w->set->abandon_walk();
  walks_.clear();
}

void Snapshot::save_before_change(db::Database& db, std::string_view key, db::Value& v,
                                  int64_t expire_ms) {
  Job* job = job_of(db);
  if (job == nullptr || sink_ == nullptr) return;
  if (start_walk(static_cast<size_t>(job - jobs_.data()), key, v, expire_ms)) return;
  write_key(*job, key, v, expire_ms);
}

void Snapshot::before_clear(db::Database& db) {
  Job* job = job_of(db);
  if (job == nullptr || job->finished) return;
  // Keep the tables (no copy: the dicts move) and walk them instead; the
  // database starts over empty. New keys of `db` belong to no job.
  job->taken_keys = std::make_unique<db::Keyspace>(db.take_contents());
  job->keys = job->taken_keys.get();
}

void Snapshot::before_swap(db::Database& a, db::Database& b) {
  Job* ja = job_of(a);
  Job* jb = job_of(b);
  // The contents (and the tables' identity) move between the two objects;
  // each logical database follows its contents.
  if (ja != nullptr) {
    ja->live = &b;
    ja->keys = &b.key_table();
  }
  if (jb != nullptr) {
    jb->live = &a;
    jb->keys = &a.key_table();
  }
}

}  // namespace setd::persist
