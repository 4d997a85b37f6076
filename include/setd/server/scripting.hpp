// Scripting as the modules below it see it: the script engine (module
// script, which sits above cmd) implements ScriptHost; the dispatcher asks
// it whether a script is busy (other clients then get -BUSY), the cron
// leaves the dataset alone while one runs, and persistence saves and loads
// the function libraries through it.
//
// Dependency rule (module server): never Asio, never Lua.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace setd::server {

class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // A script (or function) is running: true from its start to its end,
  // including while the loop serves other clients after
  // busy-reply-threshold.
  virtual bool running() const = 0;
  // It has run past busy-reply-threshold: commands without allow_busy get
  // busy_error() (Redis's isInsideYieldingLongCommand).
  virtual bool busy() const = 0;
  // "BUSY Redis is busy running a script. You can only call SCRIPT KILL or
  // SHUTDOWN NOSAVE." (EVAL) or the FUNCTION KILL variant.
  virtual std::string_view busy_error() const = 0;
  // INFO memory's scripting figures (Redis 7.0's names).
  struct Figures {
    size_t vm_eval = 0;         // used_memory_vm_eval: the EVAL Lua heap
    size_t scripts_eval = 0;    // used_memory_scripts_eval: the script cache
    size_t cached_scripts = 0;  // number_of_cached_scripts
    size_t functions = 0;       // number_of_functions
    size_t libraries = 0;       // number_of_libraries
    size_t vm_functions = 0;    // used_memory_vm_functions: the functions' Lua heap
    size_t functions_mem = 0;   // used_memory_functions: the libraries' code
  };
  virtual Figures figures() const = 0;
  // SHUTDOWN NOSAVE while a script runs: stop it whatever it did.
  virtual void abort_for_shutdown() = 0;
  // Function libraries, for RDB and the AOF preamble: their code, in the
  // order FUNCTION DUMP writes them.
  virtual std::vector<std::string> function_codes() const = 0;
  // Loads one library's code (dump loading, AOF base): "" or the error.
  // `replace` replaces a library of the same name.
  virtual std::string load_function(std::string_view code, bool replace) = 0;
  // Forgets every library (FLUSHALL does not; a full resync and DEBUG
  // RELOAD do, before they load a dump).
  virtual void flush_functions() = 0;
};

}  // namespace setd::server
