// Placeholder until the struct and cmsgpack libraries land.
#include "setd/script/lua_libs.hpp"
