// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP and INFO's
// memory section, as Redis 7.0's object.c (memoryCommand,
// getMemoryOverheadData, getMemoryDoctorReport) and server.c (the memory
// section of INFO), on the figures of base/allocator.hpp and the server's
// MemoryStats (peak, start-up, the cron's samples).
//
// What setd counts as overhead, as Redis does: the memory in use at
// start-up, the replication backlog, replica and client buffers, the AOF
// buffer and the keyspace's own structures (Keyspace::overhead_bytes(): the
// bucket arrays, and per entry the chain link, header and TTL slot). setd
// keeps TTLs in the keys' entries, not in a second table, so
// overhead.hashtable.expires is 0. There is no Lua, no functions and no
// cluster: those figures are 0. The dataset is used memory minus overhead.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "setd/base/allocator.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/metrics.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

struct DbOverhead {
  int id = 0;
  size_t main = 0;
  size_t expires = 0;
  size_t slot_to_keys = 0;
};

// Redis's struct redisMemOverhead, filled as getMemoryOverheadData does.
struct Overhead {
  size_t total_allocated = 0;
  size_t startup_allocated = 0;
  size_t peak_allocated = 0;
  float total_frag = 0;
  long long total_frag_bytes = 0;
  float allocator_frag = 0;
  long long allocator_frag_bytes = 0;
  float allocator_rss = 0;
  long long allocator_rss_bytes = 0;
  float rss_extra = 0;
  long long rss_extra_bytes = 0;
  size_t repl_backlog = 0;
  size_t clients_slaves = 0;
  size_t clients_normal = 0;
  size_t cluster_links = 0;
  size_t aof_buffer = 0;
  size_t lua_caches = 0;
  size_t functions_caches = 0;
  std::vector<DbOverhead> dbs;
  size_t overhead_total = 0;
  size_t total_keys = 0;
  size_t dataset = 0;
  size_t bytes_per_key = 0;
  float dataset_perc = 0;
  float peak_perc = 0;
  server::MemorySample sample;
};

float ratio(size_t a, size_t b) { return static_cast<float>(a) / static_cast<float>(b); }
long long diff(size_t a, size_t b) { return static_cast<long long>(a) - static_cast<long long>(b); }

// Memory of the clients that are not replicas (normal, pub/sub, our
// master's link): buffers and the client itself, as Redis's
// getClientMemoryUsage counts them.
size_t normal_clients_memory(const server::ServerState& s) {
  size_t n = 0;
  for (const auto& [id, c] : s.clients()) {
    if (c->repl_role == server::ReplRole::kReplica) continue;
    n += c->memory_usage();
  }
  return n;
}

Overhead overhead(server::ServerState& s, const repl::Replication& r) {
  Overhead mh;
  server::MemoryStats& mem = s.memory();
  const size_t used = mem.used();
  mh.sample = mem.sample();
  const server::MemorySample& cs = mh.sample;
  mh.total_allocated = used;
  mh.startup_allocated = mem.startup();
  mh.peak_allocated = mem.peak();
  mh.total_frag = ratio(cs.process_rss, cs.used);
  mh.total_frag_bytes = diff(cs.process_rss, cs.used);
  mh.allocator_frag = ratio(cs.active, cs.allocated);
  mh.allocator_frag_bytes = diff(cs.active, cs.allocated);
  mh.allocator_rss = ratio(cs.resident, cs.active);
  mh.allocator_rss_bytes = diff(cs.resident, cs.active);
  mh.rss_extra = ratio(cs.process_rss, cs.resident);
  mh.rss_extra_bytes = diff(cs.process_rss, cs.resident);

  size_t total = mh.startup_allocated;
  mh.repl_backlog = r.backlog_memory();
  mh.clients_slaves = r.replica_buffers_memory();
  mh.clients_normal = normal_clients_memory(s);
  mh.aof_buffer = s.persistence().aof_buffer_memory();
  if (s.scripts != nullptr) {
    const auto sf = s.scripts->figures();
    mh.lua_caches = sf.scripts_eval;
    mh.functions_caches = sf.functions_mem;
  }
  total += mh.repl_backlog + mh.clients_slaves + mh.clients_normal + mh.cluster_links +
           mh.aof_buffer + mh.lua_caches + mh.functions_caches;
  for (int i = 0; i < s.db_count(); ++i) {
    const db::Database& d = s.db(i);
    if (d.size() == 0) continue;
    mh.total_keys += d.size();
    DbOverhead o;
    o.id = i;
    o.main = d.overhead_bytes();
    mh.dbs.push_back(o);
    total += o.main + o.expires + o.slot_to_keys;
  }
  mh.overhead_total = total;
  mh.dataset = used > total ? used - total : 0;
  mh.peak_perc = static_cast<float>(used) * 100 / static_cast<float>(mh.peak_allocated);
  const size_t net = used > mh.startup_allocated ? used - mh.startup_allocated : 1;
  mh.dataset_perc = static_cast<float>(mh.dataset) * 100 / static_cast<float>(net);
  mh.bytes_per_key = mh.total_keys ? net / mh.total_keys : 0;
  return mh;
}

// Redis's bytesToHuman.
std::string human(unsigned long long n) {
  char buf[64];
  const double d = static_cast<double>(n);
  constexpr double k = 1024;
  if (n < 1024)
    std::snprintf(buf, sizeof(buf), "%lluB", n);
  else if (n < 1024ULL * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fK", d / k);
  else if (n < 1024ULL * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (k * k));
  else if (n < 1024ULL * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (k * k * k));
  else if (n < 1024ULL * 1024 * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fT", d / (k * k * k * k));
  else if (n < 1024ULL * 1024 * 1024 * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fP", d / (k * k * k * k * k));
  else
    std::snprintf(buf, sizeof(buf), "%lluB", n);
  return buf;
}

std::string fixed2(double v, const char* suffix = "") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f%s", v, suffix);
  return buf;
}

void line(std::string& o, std::string_view name, std::string_view value) {
  o.append(name);
  o.push_back(':');
  o.append(value);
  o += "\r\n";
}
void line(std::string& o, std::string_view name, long long value) {
  line(o, name, std::to_string(value));
}
void line(std::string& o, std::string_view name, size_t value) {
  line(o, name, std::to_string(value));
}
void line(std::string& o, std::string_view name, int value) {
  line(o, name, static_cast<long long>(value));
}

// --- MEMORY ---------------------------------------------------------------------------

// MEMORY USAGE key [SAMPLES count]. The count is checked as Redis checks it
// (an integer >= 0; 0 = all); setd's figure is exact whatever it is (a set
// keeps its byte count), so it changes nothing.
void memory_usage(Context& ctx) {
  for (size_t j = 3; j < ctx.argc(); ++j) {
    if (is(ctx.arg(j), "SAMPLES") && j + 1 < ctx.argc()) {
      long long samples = 0;
      if (!parse_ll(ctx, ctx.arg(j + 1), samples)) return;
      if (samples < 0) return ctx.syntax_error();
      ++j;
    } else {
      return ctx.syntax_error();
    }
  }
  // As Redis's dictFind: no expiry, no LRU touch, no keyspace statistics.
  const db::Value* v = ctx.db().key_table().find(ctx.arg(2));
  if (v == nullptr) return ctx.rb.null();
  ctx.rb.integer(static_cast<long long>(v->usage_bytes()));
}

void memory_stats(Context& ctx) {
  const Overhead mh = overhead(ctx.server, ctx.dispatcher.replication());
  auto& rb = ctx.rb;
  auto num = [&](std::string_view name, auto value) {
    rb.bulk(name);
    rb.integer(static_cast<long long>(value));
  };
  auto dbl = [&](std::string_view name, float value) {
    rb.bulk(name);
    rb.dbl(static_cast<double>(value));
  };
  rb.map(27 + mh.dbs.size());
  num("peak.allocated", mh.peak_allocated);
  num("total.allocated", mh.total_allocated);
  num("startup.allocated", mh.startup_allocated);
  num("replication.backlog", mh.repl_backlog);
  num("clients.slaves", mh.clients_slaves);
  num("clients.normal", mh.clients_normal);
  num("cluster.links", mh.cluster_links);
  num("aof.buffer", mh.aof_buffer);
  num("lua.caches", mh.lua_caches);
  num("functions.caches", mh.functions_caches);
  for (const DbOverhead& d : mh.dbs) {
    rb.bulk("db." + std::to_string(d.id));
    rb.map(3);
    num("overhead.hashtable.main", d.main);
    num("overhead.hashtable.expires", d.expires);
    num("overhead.hashtable.slot-to-keys", d.slot_to_keys);
  }
  num("overhead.total", mh.overhead_total);
  num("keys.count", mh.total_keys);
  num("keys.bytes-per-key", mh.bytes_per_key);
  num("dataset.bytes", mh.dataset);
  dbl("dataset.percentage", mh.dataset_perc);
  dbl("peak.percentage", mh.peak_perc);
  num("allocator.allocated", mh.sample.allocated);
  num("allocator.active", mh.sample.active);
  num("allocator.resident", mh.sample.resident);
  dbl("allocator-fragmentation.ratio", mh.allocator_frag);
  num("allocator-fragmentation.bytes", mh.allocator_frag_bytes);
  dbl("allocator-rss.ratio", mh.allocator_rss);
  num("allocator-rss.bytes", mh.allocator_rss_bytes);
  dbl("rss-overhead.ratio", mh.rss_extra);
  num("rss-overhead.bytes", mh.rss_extra_bytes);
  dbl("fragmentation", mh.total_frag);
  num("fragmentation.bytes", mh.total_frag_bytes);
}

// Redis's getMemoryDoctorReport, check for check and word for word.
std::string doctor_report(server::ServerState& s, const repl::Replication& r) {
  const Overhead mh = overhead(s, r);
  int reports = 0;
  auto check = [&](bool found) {
    reports += found;
    return found;
  };
  constexpr long long k10mb = 10 << 20;
  const bool empty = check(mh.total_allocated < 1024 * 1024 * 5);
  bool big_peak = false, high_frag = false, high_alloc_frag = false, high_alloc_rss = false;
  bool high_proc_rss = false, big_client_buf = false, big_slave_buf = false;
  bool many_scripts = false;
  if (!empty) {
    big_peak = check(ratio(mh.peak_allocated, mh.total_allocated) > 1.5f);
    high_frag = check(mh.total_frag > 1.4f && mh.total_frag_bytes > k10mb);
    high_alloc_frag = check(mh.allocator_frag > 1.1f && mh.allocator_frag_bytes > k10mb);
    high_alloc_rss = check(mh.allocator_rss > 1.1f && mh.allocator_rss_bytes > k10mb);
    high_proc_rss = check(mh.rss_extra > 1.1f && mh.rss_extra_bytes > k10mb);
    size_t replicas = 0;
    for (const auto& [id, c] : s.clients())
      if (c->repl_role == server::ReplRole::kReplica) ++replicas;
    const size_t clients = std::max<size_t>(s.client_count() - replicas, 1);
    big_client_buf = check(mh.clients_normal / clients > 1024 * 200);
    big_slave_buf = check(replicas > 0 && mh.clients_slaves > 1024 * 1024 * 10);
    many_scripts = check(s.scripts != nullptr && s.scripts->figures().cached_scripts > 1000);
  }
  if (reports == 0)
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
           "occurs on this base.\n";
  if (empty)
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector "
           "can't be used in these conditions. Please, leave for your mission on Earth and fill "
           "it with some data. The new Sam and I will be back to our programming as soon as I "
           "finished rebooting.\n";
  std::string o = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
  if (big_peak)
    o += " * Peak memory: In the past this instance used more than 150% the memory that is "
         "currently using. The allocator is normally not able to release memory after a peak, "
         "so you can expect to see a big fragmentation ratio, however this is actually harmless "
         "and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) "
         "is currently bigger than expected, the memory will be used as soon as you fill the "
         "Redis instance with more data. If the memory peak was only occasional and you want to "
         "try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other "
         "option is to shutdown and restart the instance.\n\n";
  if (high_frag)
    o += std::string(
             " * High total RSS: This instance has a memory fragmentation and RSS overhead "
             "greater than 1.4 (this means that the Resident Set Size of the Redis process is "
             "much larger than the sum of the logical allocations Redis performed). This problem "
             "is usually due either to a large peak memory (check if there is a peak memory "
             "entry above in the report) or may result from a workload that causes the allocator "
             "to fragment memory a lot. If the problem is a large peak memory, then there is no "
             "issue. Otherwise, make sure you are using the Jemalloc allocator and not the "
             "default libc malloc. Note: The currently used allocator is \"") +
         base::alloc::name() + "\".\n\n";
  if (high_alloc_frag)
    o += " * High allocator fragmentation: This instance has an allocator external "
         "fragmentation greater than 1.1. This problem is usually due either to a large peak "
         "memory (check if there is a peak memory entry above in the report) or may result from "
         "a workload that causes the allocator to fragment memory a lot. You can try enabling "
         "'activedefrag' config option.\n\n";
  if (high_alloc_rss)
    o += " * High allocator RSS overhead: This instance has an RSS memory overhead is greater "
         "than 1.1 (this means that the Resident Set Size of the allocator is much larger than "
         "the sum what the allocator actually holds). This problem is usually due to a large "
         "peak memory (check if there is a peak memory entry above in the report), you can try "
         "the MEMORY PURGE command to reclaim it.\n\n";
  if (high_proc_rss)
    o += " * High process RSS overhead: This instance has non-allocator RSS memory overhead is "
         "greater than 1.1 (this means that the Resident Set Size of the Redis process is much "
         "larger than the RSS the allocator holds). This problem may be due to Lua scripts or "
         "Modules.\n\n";
  if (big_slave_buf)
    o += " * Big replica buffers: The replica output buffers in this instance are greater than "
         "10MB for each replica (on average). This likely means that there is some replica "
         "instance that is struggling receiving data, either because it is too slow or because "
         "of networking issues. As a result, data piles on the master output buffers. Please "
         "try to identify what replica is not receiving data correctly and why. You can use the "
         "INFO output in order to check the replicas delays and the CLIENT LIST command to "
         "check the output buffers of each replica.\n\n";
  if (big_client_buf)
    o += " * Big client buffers: The clients output buffers in this instance are greater than "
         "200K per client (on average). This may result from different causes, like Pub/Sub "
         "clients subscribed to channels bot not receiving data fast enough, so that data piles "
         "on the Redis instance output buffer, or clients sending commands with large replies "
         "or very large sequences of commands in the same pipeline. Please use the CLIENT LIST "
         "command in order to investigate the issue if it causes problems in your instance, or "
         "to understand better why certain clients are using a big amount of memory.\n\n";
  if (many_scripts)
    o += " * Many scripts: There seem to be many cached scripts in this instance (more than "
         "1000). This may be because scripts are generated and `EVAL`ed, instead of being "
         "parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT "
         "FLUSH` is called periodically, the scripts' caches may end up consuming most of your "
         "memory.\n\n";
  o += "I'm here to keep you safe, Sam. I want to help you.\n";
  return o;
}

void memory_doctor(Context& ctx) {
  ctx.rb.verbatim(doctor_report(ctx.server, ctx.dispatcher.replication()));
}

void memory_malloc_stats(Context& ctx) { ctx.rb.verbatim(base::alloc::stats_text()); }

void memory_purge(Context& ctx) {
  if (base::alloc::purge())
    ctx.rb.ok();
  else
    ctx.rb.error("ERR Error purging dirty pages");
}

void memory_help(Context& ctx) {
  reply_help(ctx, "memory",
             {"DOCTOR", "    Return memory problems reports.", "MALLOC-STATS",
              "    Return internal statistics report from the memory allocator.", "PURGE",
              "    Attempt to purge dirty pages for reclamation by the allocator.", "STATS",
              "    Return information about the memory usage of the server.",
              "USAGE <key> [SAMPLES <count>]",
              "    Return memory in bytes used by <key> and its value. Nested values are",
              "    sampled up to <count> times (default: 5, 0 means sample all)."});
}

CommandSpec memory_sub(std::string name, int arity, std::string flags, Handler h,
                       std::string summary, std::string complexity, std::string args = "") {
  return make_command("memory|" + name, arity, std::move(flags), h, "server", std::move(summary),
                      "4.0.0", std::move(complexity), std::move(args));
}

}  // namespace

MemoryFigures memory_figures(server::ServerState& s, const repl::Replication& r) {
  const Overhead mh = overhead(s, r);
  MemoryFigures f;
  f.used = mh.total_allocated;
  f.rss = mh.sample.process_rss;
  f.peak = mh.peak_allocated;
  f.startup = mh.startup_allocated;
  f.overhead = mh.overhead_total;
  f.dataset = mh.dataset;
  f.replication_backlog = mh.repl_backlog;
  f.clients_normal = mh.clients_normal;
  f.clients_replicas = mh.clients_slaves;
  f.aof_buffer = mh.aof_buffer;
  f.scripts = mh.lua_caches + mh.functions_caches;
  f.fragmentation_ratio = static_cast<double>(mh.total_frag);
  return f;
}

void info_memory_section(std::string& o, server::ServerState& s, const repl::Replication& r) {
  const Overhead mh = overhead(s, r);
  const server::MemorySample& cs = mh.sample;
  const size_t used = mh.total_allocated;
  const size_t system = base::alloc::system_memory();
  // Replica buffers and the AOF buffer, as Redis's freeMemoryGetNotCountedMemory.
  const size_t not_counted = mh.clients_slaves + mh.aof_buffer;
  o += "# Memory\r\n";
  line(o, "used_memory", used);
  line(o, "used_memory_human", human(used));
  line(o, "used_memory_rss", cs.process_rss);
  line(o, "used_memory_rss_human", human(cs.process_rss));
  line(o, "used_memory_peak", mh.peak_allocated);
  line(o, "used_memory_peak_human", human(mh.peak_allocated));
  line(o, "used_memory_peak_perc", fixed2(static_cast<double>(mh.peak_perc), "%"));
  line(o, "used_memory_overhead", mh.overhead_total);
  line(o, "used_memory_startup", mh.startup_allocated);
  line(o, "used_memory_dataset", mh.dataset);
  line(o, "used_memory_dataset_perc", fixed2(static_cast<double>(mh.dataset_perc), "%"));
  line(o, "allocator_allocated", cs.allocated);
  line(o, "allocator_active", cs.active);
  line(o, "allocator_resident", cs.resident);
  line(o, "total_system_memory", system);
  line(o, "total_system_memory_human", human(system));
  // Scripting: the Lua heaps (EVAL's, the functions'), the script cache and
  // the libraries.
  const server::ScriptHost::Figures sf =
      s.scripts != nullptr ? s.scripts->figures() : server::ScriptHost::Figures{};
  line(o, "used_memory_lua", sf.vm_eval);
  line(o, "used_memory_vm_eval", sf.vm_eval);
  line(o, "used_memory_lua_human", human(sf.vm_eval));
  line(o, "used_memory_scripts_eval", sf.scripts_eval);
  line(o, "number_of_cached_scripts", sf.cached_scripts);
  line(o, "number_of_functions", sf.functions);
  line(o, "number_of_libraries", sf.libraries);
  line(o, "used_memory_vm_functions", sf.vm_functions);
  line(o, "used_memory_vm_total", sf.vm_eval + sf.vm_functions);
  line(o, "used_memory_vm_total_human", human(sf.vm_eval + sf.vm_functions));
  line(o, "used_memory_functions", sf.functions_mem);
  line(o, "used_memory_scripts", sf.scripts_eval + sf.functions_mem);
  line(o, "used_memory_scripts_human", human(sf.scripts_eval + sf.functions_mem));
  const auto maxmemory = static_cast<size_t>(s.settings().maxmemory);
  line(o, "maxmemory", maxmemory);
  line(o, "maxmemory_human", human(maxmemory));
  line(o, "maxmemory_policy", server::policy_name(s.settings().maxmemory_policy));
  line(o, "allocator_frag_ratio", fixed2(static_cast<double>(mh.allocator_frag)));
  line(o, "allocator_frag_bytes", mh.allocator_frag_bytes);
  line(o, "allocator_rss_ratio", fixed2(static_cast<double>(mh.allocator_rss)));
  line(o, "allocator_rss_bytes", mh.allocator_rss_bytes);
  line(o, "rss_overhead_ratio", fixed2(static_cast<double>(mh.rss_extra)));
  line(o, "rss_overhead_bytes", mh.rss_extra_bytes);
  line(o, "mem_fragmentation_ratio", fixed2(static_cast<double>(mh.total_frag)));
  line(o, "mem_fragmentation_bytes", mh.total_frag_bytes);
  line(o, "mem_not_counted_for_evict", not_counted);
  line(o, "mem_replication_backlog", mh.repl_backlog);
  line(o, "mem_total_replication_buffers", mh.repl_backlog + mh.clients_slaves);
  line(o, "mem_clients_slaves", mh.clients_slaves);
  line(o, "mem_clients_normal", mh.clients_normal);
  line(o, "mem_cluster_links", mh.cluster_links);
  line(o, "mem_aof_buffer", mh.aof_buffer);
  line(o, "mem_allocator", base::alloc::name());
  line(o, "active_defrag_running", 0);
  // Objects the lazyfree thread has queued and has freed (a flushed table
  // counts its keys).
  line(o, "lazyfree_pending_objects", static_cast<size_t>(s.lazyfree().pending()));
  line(o, "lazyfreed_objects", static_cast<size_t>(s.lazyfree().freed()));
}

void register_memory_commands(Registry& r) {
  CommandSpec memory{.name = "memory",
                     .arity = -2,
                     .flags = "",
                     .acl = "",
                     .handler = nullptr,
                     .doc = {"A container for memory diagnostics commands", "4.0.0", "server",
                             "Depends on subcommand.", ""}};
  const std::vector<std::string> kAllShardsSpecial = {
      "nondeterministic_output", "request_policy:all_shards", "response_policy:special"};
  constexpr const char* kMaybeSlow = "Depends on how much memory is allocated, could be slow";
  auto doctor =
      memory_sub("doctor", 2, "", memory_doctor, "Outputs memory problems report", "O(1)");
  doctor.tips = kAllShardsSpecial;
  auto malloc_stats = memory_sub("malloc-stats", 2, "", memory_malloc_stats,
                                 "Show allocator internal stats", kMaybeSlow);
  malloc_stats.tips = kAllShardsSpecial;
  auto purge =
      memory_sub("purge", 2, "", memory_purge, "Ask the allocator to release memory", kMaybeSlow);
  purge.tips = {"request_policy:all_shards", "response_policy:all_succeeded"};
  auto stats = memory_sub("stats", 2, "", memory_stats, "Show memory usage details", "O(1)");
  stats.tips = kAllShardsSpecial;
  auto usage =
      memory_sub("usage", -3, "readonly", memory_usage, "Estimate the memory usage of a key",
                 "O(N) where N is the number of samples.", "key [SAMPLES count:integer]");
  KeySpec key;
  key.flags = "RO";
  key.begin_index = 2;
  usage.keys = {key};
  memory.subcommands = {
      std::move(doctor),
      memory_sub("help", 2, "loading stale", memory_help,
                 "Show helpful text about the different subcommands", "O(1)"),
      std::move(malloc_stats),
      std::move(purge),
      std::move(stats),
      std::move(usage),
  };
  r.add(std::move(memory));
}

}  // namespace setd::cmd
