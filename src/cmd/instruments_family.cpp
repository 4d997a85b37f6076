// The operator's instruments: SLOWLOG, LATENCY and MONITOR, as Redis 7.0's
// slowlog.c, latency.c and monitorCommand. What they read is recorded by
// Dispatcher::call() (slow log, latency samples, histograms, MONITOR lines)
// and kept in module server (server/slowlog.hpp, server/latency.hpp).
#include <algorithm>
#include <climits>

#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

// --- SLOWLOG --------------------------------------------------------------------

void slowlog_get(Context& ctx) {
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  const auto& entries = ctx.server.slowlog().entries();
  long long count = 10;
  if (ctx.argc() == 3) {
    if (!base::string_to_ll(ctx.arg(2), count) || count < -1 || count > LONG_MAX) {
      ctx.rb.error("ERR count should be greater than or equal to -1");
      return;
    }
    if (count == -1) count = static_cast<long long>(entries.size());
  }
  const size_t n = std::min(entries.size(), static_cast<size_t>(count));
  ctx.rb.array(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = entries[i];
    ctx.rb.array(6);
    ctx.rb.integer(e.id);
    ctx.rb.integer(e.time);
    ctx.rb.integer(e.duration);
    ctx.rb.array(e.args.size());
    for (const auto& a : e.args) ctx.rb.bulk(a);
    ctx.rb.bulk(e.peer);
    ctx.rb.bulk(e.name);
  }
}

void slowlog_len(Context& ctx) {
  ctx.rb.integer(static_cast<long long>(ctx.server.slowlog().entries().size()));
}

void slowlog_reset(Context& ctx) {
  ctx.server.slowlog().reset();
  ctx.rb.ok();
}

void slowlog_help(Context& ctx) {
  reply_help(ctx, "slowlog",
             {"GET [<count>]",
              "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
              "    Entries are made of:",
              "    id, timestamp, time in microseconds, arguments array, client IP and port,",
              "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
              "    Reset the slowlog."});
}

// --- LATENCY --------------------------------------------------------------------

void latency_latest(Context& ctx) {
  const auto& events = ctx.server.latency().events();
  ctx.rb.array(events.size());
  for (const auto& [name, ts] : events) {
    const auto& last = ts.samples[static_cast<size_t>(
        (ts.idx + server::LatencyMonitor::kSamples - 1) % server::LatencyMonitor::kSamples)];
    ctx.rb.array(4);
    ctx.rb.bulk(name);
    ctx.rb.integer(last.time);
    ctx.rb.integer(last.latency);
    ctx.rb.integer(ts.max);
  }
}

void latency_history(Context& ctx) {
  const auto* ts = ctx.server.latency().find(ctx.arg(2));
  if (ts == nullptr) {
    ctx.rb.array(0);
    return;
  }
  const size_t mark = ctx.rb.begin_deferred();
  size_t n = 0;
  for (int j = 0; j < server::LatencyMonitor::kSamples; ++j) {
    const auto& s =
        ts->samples[static_cast<size_t>((ts->idx + j) % server::LatencyMonitor::kSamples)];
    if (s.time == 0) continue;
    ctx.rb.array(2);
    ctx.rb.integer(s.time);
    ctx.rb.integer(s.latency);
    ++n;
  }
  ctx.rb.end_deferred(mark, n);
}

void latency_graph(Context& ctx) {
  auto& mon = ctx.server.latency();
  const auto it = mon.events().find(ctx.arg(2));
  if (it == mon.events().end()) {
    ctx.rb.error("ERR No samples available for event '" +
                 std::string(base::c_string_view(ctx.arg(2))) + "'");
    return;
  }
  ctx.rb.verbatim(mon.graph(it->first, it->second, server::LatencyMonitor::now_seconds()));
}

void latency_doctor(Context& ctx) {
  const auto& s = ctx.server.settings();
  server::LatencyMonitor::DoctorSettings cfg{
      .threshold = s.latency_monitor_threshold,
      .slowlog_slower_than = s.slowlog_log_slower_than,
      .fsync_always = s.appendfsync == server::AppendFsync::kAlways,
      .hz = s.hz};
  ctx.rb.verbatim(ctx.server.latency().doctor(server::LatencyMonitor::now_seconds(), cfg));
}

void latency_reset(Context& ctx) {
  auto& mon = ctx.server.latency();
  if (ctx.argc() == 2) {
    ctx.rb.integer(mon.reset_all());
    return;
  }
  int resets = 0;
  for (size_t j = 2; j < ctx.argc(); ++j) resets += mon.reset(base::c_string_view(ctx.arg(j)));
  ctx.rb.integer(resets);
}

// One command's "calls" and "histogram_usec" (Redis's fillCommandCDF).
void reply_histogram(Context& ctx, const server::LatencyHistogram& h) {
  ctx.rb.map(2);
  ctx.rb.bulk("calls");
  ctx.rb.integer(static_cast<long long>(h.total()));
  ctx.rb.bulk("histogram_usec");
  const auto buckets = h.log2_buckets();
  ctx.rb.map(buckets.size());
  for (const auto& [usec, count] : buckets) {
    ctx.rb.integer(usec);
    ctx.rb.integer(static_cast<long long>(count));
  }
}

void latency_histogram(Context& ctx) {
  const size_t mark = ctx.rb.begin_deferred();
  size_t n = 0;
  auto one = [&](const CommandSpec& c) {
    const server::LatencyHistogram* h = c.stats.histogram.get();
    if (h == nullptr) return;
    ctx.rb.bulk(c.name);
    reply_histogram(ctx, *h);
    ++n;
  };
  const auto& reg = ctx.dispatcher.registry();
  if (ctx.argc() == 2) {
    for (const auto& c : reg.all()) {
      one(*c);
      for (const auto& sub : c->subcommands) one(sub);
    }
  } else {
    for (size_t j = 2; j < ctx.argc(); ++j) {
      // A name Redis's lookupCommandBySds knows: "cmd" or "container|sub".
      const std::string_view name = ctx.arg(j);
      const size_t bar = name.find('|');
      if (bar != std::string_view::npos && name.find('|', bar + 1) != std::string_view::npos)
        continue;
      const CommandSpec* c = reg.find_full(name);
      if (c == nullptr) continue;
      one(*c);
      for (const auto& sub : c->subcommands) one(sub);
    }
  }
  ctx.rb.end_deferred(mark, n, proto::ReplyBuilder::Aggregate::kMap);
}

void latency_help(Context& ctx) {
  reply_help(ctx, "latency",
             {"DOCTOR", "    Return a human readable latency analysis report.", "GRAPH <event>",
              "    Return an ASCII latency graph for the <event> class.", "HISTORY <event>",
              "    Return time-latency samples for the <event> class.", "LATEST",
              "    Return the latest latency samples for all events.", "RESET [<event> ...]",
              "    Reset latency data of one or more <event> classes.",
              "    (default: reset all data for all event classes)", "HISTOGRAM [COMMAND ...]",
              "    Return a cumulative distribution of latencies in the format of a histogram for "
              "the specified command names.",
              "    If no commands are specified then all histograms are replied."});
}

// --- MONITOR --------------------------------------------------------------------

void monitor_cmd(Context& ctx) {
  // Inside EXEC a client cannot block (Redis's CLIENT_DENY_BLOCKING).
  if (ctx.dispatcher.in_exec()) {
    ctx.rb.error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  // Already a monitor (or a replica): ignored, without a reply.
  if (ctx.client.monitor || ctx.client.repl_role == server::ReplRole::kReplica) return;
  ctx.server.add_monitor(ctx.client);
  ctx.rb.ok();
}

CommandSpec sub(std::string container, std::string name, int arity, std::string flags, Handler h,
                std::string summary, std::string since, std::string complexity, std::string args,
                std::vector<std::string> tips) {
  CommandSpec s =
      make_command(container + "|" + name, arity, std::move(flags), h, "server", std::move(summary),
                   std::move(since), std::move(complexity), std::move(args));
  s.tips = std::move(tips);
  return s;
}

}  // namespace

void register_instruments_commands(Registry& r) {
  CommandSpec slowlog{.name = "slowlog",
                      .arity = -2,
                      .flags = "",
                      .acl = "",
                      .handler = nullptr,
                      .doc = {"A container for slow log commands", "2.2.12", "server",
                              "Depends on subcommand.", ""}};
  const std::string admin = "admin loading stale";
  auto get = sub("slowlog", "get", -2, admin, slowlog_get, "Get the slow log's entries", "2.2.12",
                 "O(N) where N is the number of entries returned", "[count:integer]",
                 {"request_policy:all_nodes", "nondeterministic_output"});
  get.doc.history = {{"4.0.0", "Added client IP address, port and name to the reply."}};
  slowlog.subcommands = {
      std::move(get),
      sub("slowlog", "len", 2, admin, slowlog_len, "Get the slow log's length", "2.2.12", "O(1)",
          "", {"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"}),
      sub("slowlog", "reset", 2, admin, slowlog_reset, "Clear all entries from the slow log",
          "2.2.12", "O(N) where N is the number of entries in the slowlog", "",
          {"request_policy:all_nodes", "response_policy:all_succeeded"}),
      sub("slowlog", "help", 2, "loading stale", slowlog_help,
          "Show helpful text about the different subcommands", "6.2.0", "O(1)", "", {}),
  };
  r.add(std::move(slowlog));

  CommandSpec latency{.name = "latency",
                      .arity = -2,
                      .flags = "",
                      .acl = "",
                      .handler = nullptr,
                      .doc = {"A container for latency diagnostics commands", "2.8.13", "server",
                              "Depends on subcommand.", ""}};
  const std::string ladmin = "admin noscript loading stale";
  const std::vector<std::string> special = {"nondeterministic_output", "request_policy:all_nodes",
                                            "response_policy:special"};
  latency.subcommands = {
      sub("latency", "latest", 2, ladmin, latency_latest,
          "Return the latest latency samples for all events.", "2.8.13", "O(1)", "", special),
      sub("latency", "graph", 3, ladmin, latency_graph, "Return a latency graph for the event.",
          "2.8.13", "O(1)", "event", special),
      sub("latency", "history", 3, ladmin, latency_history,
          "Return timestamp-latency samples for the event.", "2.8.13", "O(1)", "event", special),
      sub("latency", "histogram", -2, ladmin, latency_histogram,
          "Return the cumulative distribution of latencies of a subset of commands or all.",
          "7.0.0",
          "O(N) where N is the number of commands with latency information being retrieved.",
          "[command...]", special),
      sub("latency", "reset", -2, ladmin, latency_reset,
          "Reset latency data for one or more events.", "2.8.13", "O(1)", "[event...]",
          {"request_policy:all_nodes", "response_policy:all_succeeded"}),
      sub("latency", "doctor", 2, ladmin, latency_doctor,
          "Return a human readable latency analysis report.", "2.8.13", "O(1)", "", special),
      sub("latency", "help", 2, "loading stale", latency_help,
          "Show helpful text about the different subcommands.", "2.8.13", "O(1)", "", {}),
  };
  r.add(std::move(latency));

  r.add(make_command("monitor", 1, "admin noscript loading stale", monitor_cmd, "server",
                     "Listen for all requests received by the server in real time", "1.0.0", "",
                     ""));
}

}  // namespace setd::cmd
