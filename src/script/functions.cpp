#include "setd/script/functions.hpp"

#include <algorithm>
#include <lua.hpp>

#include "setd/base/clock.hpp"
#include "setd/base/glob.hpp"
#include "setd/base/split_args.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/util.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/script/engine.hpp"

namespace setd::script {

namespace {

constexpr int64_t kLoadTimeoutMs = 500;  // Redis's LOAD_TIMEOUT_MS

std::string lower(std::string_view s) { return base::to_lower_ascii(s); }

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

constexpr const char* kBadName =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one "
    "character long";

Functions* g_loading = nullptr;  // the Functions whose library is loading

void load_hook(lua_State* L, lua_Debug*) {
  if (g_loading != nullptr) g_loading->on_load_hook(L);
}

int register_function(lua_State* L) {
  auto* f = static_cast<Functions*>(lua_touserdata(L, lua_upvalueindex(1)));
  return f->lua_register_function(L);
}

[[noreturn]] void raise(lua_State* L, std::string_view text) {
  push_error_table(L, text);
  lua_error(L);
  std::abort();
}

}  // namespace

Functions::Functions(Engine& engine) : engine_(engine) {
  L_ = new_sandbox(engine, heap_);
  make_load_api(L_, register_function, this);
}

Functions::~Functions() {
  if (L_ != nullptr) lua_close(L_);
}

size_t Functions::code_memory() const {
  size_t n = 0;
  for (const auto& [name, lib] : libraries_) n += name.size() + lib.code.size() + 64;
  for (const auto& [key, f] : functions_)
    n += key.size() + f.name.size() + f.description.size() + 64;
  return n;
}

std::vector<std::string> Functions::codes() const {
  std::vector<std::string> out;
  out.reserve(libraries_.size());
  for (const auto& [name, lib] : libraries_) out.push_back(lib.code);
  return out;
}

void Functions::unref(const Function& f) {
  if (f.ref >= 0) luaL_unref(L_, LUA_REGISTRYINDEX, f.ref);
}

void Functions::drop_library(const std::string& name) {
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return;
  for (const auto& fname : it->second.functions) {
    auto f = functions_.find(lower(fname));
    if (f == functions_.end()) continue;
    unref(f->second);
    functions_.erase(f);
  }
  libraries_.erase(it);
}

void Functions::flush() {
  for (const auto& [key, f] : functions_) unref(f);
  functions_.clear();
  libraries_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

std::string Functions::load(std::string_view code, bool replace, std::string* name_out,
                            int64_t timeout_ms) {
  // Metadata: "#!<engine> name=<library>" on the first line.
  if (!code.starts_with("#!")) return "Missing library metadata";
  const size_t nl = code.find('\n');
  if (nl == std::string_view::npos) return "Invalid library metadata";
  const auto parts = base::split_args(code.substr(0, nl));
  if (!parts || parts->empty()) return "Invalid library metadata";
  const std::string engine_name = (*parts)[0].substr(2);
  std::optional<std::string> name;
  for (size_t i = 1; i < parts->size(); ++i) {
    const std::string& part = (*parts)[i];
    if (part.size() >= 5 && lower(part.substr(0, 5)) == "name=") {
      if (name) return "Invalid metadata value, name argument was given multiple times";
      name = part.substr(5);
      continue;
    }
    return "Invalid metadata value given: " + part;
  }
  if (!name) return "Library name was not given";
  if (!valid_name(*name)) return kBadName;
  if (lower(engine_name) != "lua") return "Engine '" + engine_name + "' not found";
  const bool exists = libraries_.count(*name) != 0;
  if (exists && !replace) return "Library '" + *name + "' already exists";

  // The first line's line feed stays: line numbers are the user's.
  const std::string_view body = code.substr(nl);
  if (luaL_loadbuffer(L_, body.data(), body.size(), "@user_function") != 0) {
    std::string err = "Error compiling function: ";
    const char* msg = lua_tostring(L_, -1);
    err += msg ? msg : "?";
    lua_pop(L_, 1);
    return err;
  }
  Pending pending;
  pending.start_us = base::monotonic_us();
  pending.timeout_ms = timeout_ms;
  pending_ = &pending;
  use_load_api(L_, true);
  if (timeout_ms > 0) {
    g_loading = this;
    lua_sethook(L_, load_hook, LUA_MASKCOUNT, 100000);
  }
  heap_.limit = static_cast<size_t>(engine_.state().settings().script_memory_limit);
  heap_.enforce = true;
  const int status = lua_pcall(L_, 0, 0, 0);
  heap_.enforce = false;
  if (timeout_ms > 0) {
    lua_sethook(L_, nullptr, 0, 0);
    g_loading = nullptr;
  }
  use_load_api(L_, false);
  pending_ = nullptr;

  auto discard = [&] {
    for (const auto& f : pending.functions) unref(f);
  };
  if (status != 0) {
    std::string msg = "ERR unknown error";
    if (lua_isstring(L_, -1)) {
      msg = std::string("ERR ") + lua_tostring(L_, -1);
    } else if (lua_istable(L_, -1)) {
      lua_getfield(L_, -1, "err");
      if (lua_isstring(L_, -1)) msg = lua_tostring(L_, -1);
      lua_pop(L_, 1);
    }
    lua_pop(L_, 1);
    discard();
    if (status == LUA_ERRMEM) lua_gc(L_, LUA_GCCOLLECT, 0);
    return "Error registering functions: " + msg;
  }
  if (pending.functions.empty()) return "No functions registered";
  for (const auto& f : pending.functions) {
    auto other = functions_.find(lower(f.name));
    if (other != functions_.end() && other->second.library != *name) {
      discard();
      return "Function " + f.name + " already exists";
    }
  }
  if (exists) drop_library(*name);
  Library lib;
  lib.name = *name;
  lib.code = std::string(code);
  for (auto& f : pending.functions) {
    f.library = *name;
    lib.functions.push_back(f.name);
    functions_.emplace(lower(f.name), std::move(f));
  }
  libraries_.emplace(*name, std::move(lib));
  if (name_out != nullptr) *name_out = *name;
  return "";
}

void Functions::on_load_hook(lua_State* L) {
  if (pending_ == nullptr || pending_->timeout_ms <= 0) return;
  if ((base::monotonic_us() - pending_->start_us) / 1000 > pending_->timeout_ms) {
    lua_sethook(L, load_hook, LUA_MASKLINE, 0);
    raise(L, "FUNCTION LOAD timeout");
  }
}

int Functions::lua_register_function(lua_State* L) {
  if (pending_ == nullptr)
    raise(L, "redis.register_function can only be called on FUNCTION LOAD command");
  const int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) raise(L, "wrong number of arguments to redis.register_function");
  Function f;
  bool have_name = false;
  bool have_callback = false;
  if (argc == 1) {
    if (!lua_istable(L, 1))
      raise(L,
            "calling redis.register_function with a single argument is only applicable to Lua "
            "table (representing named arguments).");
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      if (!lua_isstring(L, -2))
        raise(L, "named argument key given to redis.register_function is not a string");
      const std::string key = lower(lua_tostring(L, -2));
      if (key == "function_name") {
        if (!lua_isstring(L, -1))
          raise(L, "function_name argument given to redis.register_function must be a string");
        f.name = lua_tostring(L, -1);
        have_name = true;
      } else if (key == "description") {
        if (!lua_isstring(L, -1))
          raise(L, "description argument given to redis.register_function must be a string");
        f.description = lua_tostring(L, -1);
        f.has_description = true;
      } else if (key == "callback") {
        if (!lua_isfunction(L, -1))
          raise(L, "callback argument given to redis.register_function must be a function");
        if (f.ref >= 0) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
        f.ref = luaL_ref(L, LUA_REGISTRYINDEX);  // pops the value
        have_callback = true;
        continue;
      } else if (key == "flags") {
        if (!lua_istable(L, -1))
          raise(L,
                "flags argument to redis.register_function must be a table representing function "
                "flags");
        uint32_t flags = 0;
        for (int j = 1;; ++j) {
          lua_rawgeti(L, -1, j);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          uint32_t flag = 0;
          if (lua_isstring(L, -1)) flag = flag_by_name(lower(lua_tostring(L, -1)));
          lua_pop(L, 1);
          if (flag == 0) {
            if (f.ref >= 0) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
            raise(L, "unknown flag given");
          }
          flags |= flag;
        }
        f.flags = flags;
      } else {
        if (f.ref >= 0) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
        raise(L, "unknown argument given to redis.register_function");
      }
      lua_pop(L, 1);
    }
    if (!have_name) {
      if (f.ref >= 0) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
      raise(L, "redis.register_function must get a function name argument");
    }
    if (!have_callback) raise(L, "redis.register_function must get a callback argument");
  } else {
    if (!lua_isstring(L, 1)) raise(L, "first argument to redis.register_function must be a string");
    if (!lua_isfunction(L, 2))
      raise(L, "second argument to redis.register_function must be a function");
    f.name = lua_tostring(L, 1);
    lua_settop(L, 2);
    f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  auto fail = [&](std::string_view text) {
    luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
    raise(L, text);
  };
  if (!valid_name(f.name)) fail(kBadName);
  for (const auto& other : pending_->functions)
    if (other.name == f.name) fail("Function already exists in the library");
  pending_->functions.push_back(std::move(f));
  return 0;
}

std::string Functions::join(std::vector<std::string> codes, bool replace) {
  // Load into a scratch view first so that a failure changes nothing:
  // remember what was there, and put it back on error.
  std::vector<std::string> loaded;
  std::vector<std::pair<std::string, std::string>> replaced;  // (name, old code)
  // The library of ours that `code` names, if any.
  auto existing = [&](const std::string& code) {
    const size_t nl = code.find('\n');
    const auto parts = base::split_args(code.substr(0, nl == std::string::npos ? 0 : nl));
    if (parts) {
      for (size_t i = 1; i < parts->size(); ++i)
        if (lower((*parts)[i].substr(0, 5)) == "name=") {
          auto it = libraries_.find((*parts)[i].substr(5));
          if (it != libraries_.end()) return it;
        }
    }
    return libraries_.end();
  };
  // As Redis's libraryJoin: every library name collision is checked before
  // any function name collision.
  if (!replace)
    for (const auto& code : codes)
      if (auto it = existing(code); it != libraries_.end())
        return "Library " + it->first + " already exists";
  std::string err;
  for (const auto& code : codes) {
    std::string name;
    // The library's previous code, to put back on failure.
    std::string prev;
    if (auto it = existing(code); it != libraries_.end()) prev = it->second.code;
    err = load(code, replace, &name);
    if (!err.empty()) break;
    loaded.push_back(name);
    if (!prev.empty()) replaced.emplace_back(name, prev);
  }
  if (err.empty()) return "";
  for (const auto& name : loaded) drop_library(name);
  for (const auto& [name, code] : replaced) load(code, true, nullptr);
  return err;
}

// --- Commands ---------------------------------------------------------------

void Functions::fcall(cmd::Context& ctx, bool ro) {
  auto it = functions_.find(lower(ctx.arg(1)));
  if (it == functions_.end()) return ctx.rb.error("ERR Function not found");
  long long numkeys = 0;
  if (!base::string_to_ll(ctx.arg(2), numkeys))
    return ctx.rb.error("ERR Bad number of keys provided");
  if (numkeys > static_cast<long long>(ctx.argc()) - 3)
    return ctx.rb.error("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return ctx.rb.error("ERR Number of keys can't be negative");
  const Function& f = it->second;
  push_error_handler(L_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, f.ref);
  const auto n = static_cast<size_t>(numkeys);
  engine_.run(ctx, L_, f.name, f.flags, ro, false, ctx.args.subspan(3, n), ctx.args.subspan(3 + n));
  lua_pop(L_, 1);  // the error handler
}

void Functions::cmd_load(cmd::Context& ctx) {
  bool replace = false;
  size_t pos = 2;
  while (pos < ctx.argc() - 1) {
    const auto a = ctx.arg(pos++);
    if (cmd::is(a, "REPLACE")) {
      replace = true;
      continue;
    }
    return ctx.rb.error("ERR Unknown option given: " + std::string(a));
  }
  if (pos >= ctx.argc()) return ctx.rb.error("ERR Function code is missing");
  const bool from_master = ctx.client.repl_role == server::ReplRole::kMaster;
  std::string name;
  std::string err =
      load(ctx.arg(pos), replace, &name, from_master || ctx.server.loading ? 0 : kLoadTimeoutMs);
  if (!err.empty()) return ctx.rb.error(err);
  ctx.dirty();
  ctx.rb.bulk(name);
}

void Functions::cmd_list(cmd::Context& ctx) {
  bool with_code = false;
  std::optional<std::string> pattern;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const auto a = ctx.arg(i);
    if (!with_code && cmd::is(a, "WITHCODE")) {
      with_code = true;
      continue;
    }
    if (!pattern && cmd::is(a, "LIBRARYNAME")) {
      if (i >= ctx.argc() - 1) return ctx.rb.error("ERR library name argument was not given");
      pattern = std::string(ctx.arg(++i));
      continue;
    }
    return ctx.rb.error("ERR Unknown argument " + std::string(a));
  }
  auto& rb = ctx.rb;
  const size_t mark = rb.begin_deferred();
  size_t n = 0;
  for (const auto& [name, lib] : libraries_) {
    if (pattern && !base::glob_match(*pattern, name, true)) continue;
    ++n;
    rb.map(with_code ? 4 : 3);
    rb.bulk("library_name");
    rb.bulk(name);
    rb.bulk("engine");
    rb.bulk("LUA");
    rb.bulk("functions");
    rb.array(lib.functions.size());
    for (const auto& fname : lib.functions) {
      const Function& f = functions_.at(lower(fname));
      rb.map(3);
      rb.bulk("name");
      rb.bulk(f.name);
      rb.bulk("description");
      if (f.has_description)
        rb.bulk(f.description);
      else
        rb.null();
      rb.bulk("flags");
      const auto names = flag_names(f.flags);
      rb.set(names.size());
      for (const auto fl : names) rb.simple(fl);
    }
    if (with_code) {
      rb.bulk("library_code");
      rb.bulk(lib.code);
    }
  }
  rb.end_deferred(mark, n);
}

void Functions::cmd_delete(cmd::Context& ctx) {
  const std::string name(ctx.arg(2));
  if (libraries_.count(name) == 0) return ctx.rb.error("ERR Library not found");
  drop_library(name);
  ctx.dirty();
  ctx.rb.ok();
}

void Functions::cmd_flush(cmd::Context& ctx) {
  if (ctx.argc() > 3) return cmd::subcommand_syntax_error(ctx);
  if (ctx.argc() == 3 && !cmd::is(ctx.arg(2), "SYNC") && !cmd::is(ctx.arg(2), "ASYNC"))
    return ctx.rb.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  flush();
  ctx.dirty();
  ctx.rb.ok();
}

void Functions::cmd_dump(cmd::Context& ctx) {
  ctx.rb.bulk(persist::functions_payload(codes(), ctx.server.settings().rdbcompression));
}

void Functions::cmd_restore(cmd::Context& ctx) {
  if (ctx.argc() > 4) return cmd::subcommand_syntax_error(ctx);
  enum class Policy { kAppend, kReplace, kFlush } policy = Policy::kAppend;
  if (ctx.argc() == 4) {
    const auto p = ctx.arg(3);
    if (cmd::is(p, "APPEND"))
      policy = Policy::kAppend;
    else if (cmd::is(p, "REPLACE"))
      policy = Policy::kReplace;
    else if (cmd::is(p, "FLUSH"))
      policy = Policy::kFlush;
    else
      return ctx.rb.error(
          "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  auto payload = persist::decode_functions_payload(ctx.arg(2), true);
  if (!payload.error.empty()) return ctx.rb.error("ERR " + payload.error);
  std::string err;
  if (policy == Policy::kFlush) {
    // All or nothing: keep the current libraries' code to put back.
    const auto before = codes();
    flush();
    err = join(std::move(payload.codes), false);
    if (!err.empty()) {
      flush();
      for (const auto& code : before) load(code, true, nullptr);
    }
  } else {
    err = join(std::move(payload.codes), policy == Policy::kReplace);
  }
  if (!err.empty()) return ctx.rb.error(err);
  ctx.dirty();
  ctx.rb.ok();
}

void Functions::cmd_stats(cmd::Context& ctx) {
  auto& rb = ctx.rb;
  RunState* run = engine_.current_run();
  if (run != nullptr && engine_.run_is_eval())
    return rb.error(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  rb.map(2);
  rb.bulk("running_script");
  if (run == nullptr) {
    rb.null();
  } else {
    rb.map(3);
    rb.bulk("name");
    rb.bulk(engine_.run_name());
    rb.bulk("command");
    const auto argv = engine_.run_command();
    rb.array(argv.size());
    for (const auto& a : argv) rb.bulk(a);
    rb.bulk("duration_ms");
    rb.integer(engine_.run_duration_ms());
  }
  rb.bulk("engines");
  rb.map(1);
  rb.bulk("LUA");
  rb.map(2);
  rb.bulk("libraries_count");
  rb.integer(static_cast<long long>(libraries_.size()));
  rb.bulk("functions_count");
  rb.integer(static_cast<long long>(functions_.size()));
}

}  // namespace setd::script
