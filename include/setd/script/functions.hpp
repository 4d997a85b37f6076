// Function libraries (Redis 7.0's functions.c / function_lua.c): FUNCTION
// LOAD compiles a library ("#!lua name=<lib>" then Lua code) in the
// functions' own Lua state and runs it once, with only `redis` (the load API:
// register_function, log, LOG_*, REDIS_VERSION*) visible, under a 500 ms
// limit; the callbacks it registers then run by name with FCALL / FCALL_RO,
// in the same sandbox as EVAL scripts, getting (keys, args).
//
// Libraries are saved in dumps and the AOF base (RDB_OPCODE_FUNCTION2, one
// per library, its code) and loaded back through load(); FUNCTION DUMP /
// RESTORE use the same records inside a DUMP-style payload.
//
// Dependency rule (module script): cmd, server, persist, Lua.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "setd/cmd/command.hpp"
#include "setd/script/sandbox.hpp"

struct lua_State;

namespace setd::script {

class Engine;

class Functions {
 public:
  explicit Functions(Engine& engine);
  ~Functions();
  Functions(const Functions&) = delete;
  Functions& operator=(const Functions&) = delete;

  LuaHeap& heap() { return heap_; }
  size_t memory() const { return heap_.used; }
  size_t library_count() const { return libraries_.size(); }
  size_t function_count() const { return functions_.size(); }
  // The libraries' code and names (used_memory_functions).
  size_t code_memory() const;

  // Every library's code, by library name.
  std::vector<std::string> codes() const;
  // Loads a library: "" or the error (Redis's texts). `timeout_ms` bounds
  // the library's top-level code (0 = none: dumps, the AOF, our master).
  // `name_out` gets the library's name.
  std::string load(std::string_view code, bool replace, std::string* name_out,
                   int64_t timeout_ms = 0);
  // Forgets every library.
  void flush();

  // The commands (function_family in functions.cpp).
  void fcall(cmd::Context& ctx, bool ro);
  void cmd_load(cmd::Context& ctx);
  void cmd_list(cmd::Context& ctx);
  void cmd_delete(cmd::Context& ctx);
  void cmd_flush(cmd::Context& ctx);
  void cmd_dump(cmd::Context& ctx);
  void cmd_restore(cmd::Context& ctx);
  void cmd_stats(cmd::Context& ctx);

  // register_function during a load (sandbox C function).
  int lua_register_function(lua_State* L);
  // The load's count hook.
  void on_load_hook(lua_State* L);

 private:
  struct Function {
    std::string name;
    std::string library;
    std::string description;
    bool has_description = false;
    uint32_t flags = 0;
    int ref = -1;  // the callback, in the Lua registry
  };
  struct Library {
    std::string name;
    std::string code;
    std::vector<std::string> functions;  // names, in registration order
  };
  // What a load collects before it is committed.
  struct Pending {
    std::vector<Function> functions;
    int64_t start_us = 0;
    int64_t timeout_ms = 0;
  };
  void drop_library(const std::string& name);
  void unref(const Function& f);
  // Adds whole libraries (RESTORE): APPEND/REPLACE semantics; "" or error.
  std::string join(std::vector<std::string> codes, bool replace);

  Engine& engine_;
  LuaHeap heap_;
  lua_State* L_ = nullptr;
  std::map<std::string, Library> libraries_;
  std::map<std::string, Function> functions_;
  Pending* pending_ = nullptr;
};

}  // namespace setd::script
