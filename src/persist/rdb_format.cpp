// RDB type names (rdb_format.hpp).
//
// Dependency rule (module persist): see rdb_format.hpp.
#include "setd/persist/rdb_format.hpp"

namespace setd::persist::rdb {

std::string_view type_name(uint8_t type) {
  switch (type) {
    case kTypeString:
      return "string";
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return "list";
    case kTypeSet:
    case kTypeSetIntset:
    case kTypeSetListpack:
      return "set";
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return "zset";
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeHashMetadataPreGa:
    case kTypeHashListpackExPreGa:
    case kTypeHashMetadata:
    case kTypeHashListpackEx:
      return "hash";
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
    case kTypeStreamListpacks3:
      return "stream";
    case kTypeModulePreGa:
    case kTypeModule2:
      return "module";
    default:
      return "";
  }
}

bool is_value_type(uint8_t b) { return !type_name(b).empty(); }

}  // namespace setd::persist::rdb
