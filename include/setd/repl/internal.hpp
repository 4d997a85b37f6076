// Replication internals shared by src/repl/*.cpp (not for other modules).
//
// Dependency rule (module repl): see replication.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "setd/repl/replication.hpp"

namespace setd::repl {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// One client that is, or is about to be, a replica of ours.
struct Replication::ReplicaLink {
  enum class State : uint8_t {
    kHandshake,        // sent REPLCONF, not yet SYNC / PSYNC
    kWaitBgsaveStart,  // wants a full sync; the snapshot has not started
    kWaitBgsaveEnd,    // its image is being made (diskless: sent)
    kSendBulk,         // the dump file is being sent
    kOnline,           // streaming
  };
  server::Client* client = nullptr;
  State state = State::kHandshake;
  bool capa_eof = false;
  bool capa_psync2 = false;
  bool pre_psync = false;  // old SYNC
  bool diskless = false;   // its image comes from the socket snapshot
  // REPLCONF rdb-only 1 (redis-cli --rdb): the image, then the connection
  // closes; no stream.
  bool rdb_only = false;
  // REPLCONF rdb-filter-only (redis-cli --replica): an image without data.
  bool exclude_data = false;
  // Online, but the stream waits for its first ACK (diskless image).
  bool hold_stream = false;
  int listening_port = 0;
  std::string announced_ip;
  int64_t ack_off = 0;
  int64_t ack_time_s = 0;
  int64_t initial_offset = 0;  // the offset its image was taken at
  int64_t wait_since_ms = 0;
  // The stream since initial_offset, held until the image is through.
  std::string pending;
  // A full sync stalls when its output stops draining (repl-timeout).
  size_t last_unsent = 0;
  int64_t last_progress_s = 0;
  // Sending the dump file.
  int fd = -1;
  uint64_t file_size = 0;
  uint64_t file_off = 0;
};

// Our master's connection, until it streams commands: the handshake's
// replies, then the image, into a temporary file.
class Replication::MasterLink final : public server::RawInput {
 public:
  MasterLink(Replication& repl, server::Client* c) : repl_(repl), c_(c) {}
  ~MasterLink() override;
  MasterLink(const MasterLink&) = delete;
  MasterLink& operator=(const MasterLink&) = delete;

  server::Client* client() const { return c_; }
  // Sends PING: the handshake starts.
  void start();
  size_t consume(server::Client& c, std::string_view data) override;
  // INFO's master_sync_* fields while the image arrives.
  void info(std::string& out, int64_t now_s) const;

 private:
  enum class Step : uint8_t { kPing, kAuth, kPort, kIp, kCapa, kPsync, kBulkHeader, kBulkBody };
  void send(std::initializer_list<std::string_view> args);
  void on_line(std::string_view line);
  size_t body(std::string_view data);
  void fail(const std::string& why);
  bool write_file(std::string_view data);
  void finish_body();

  Replication& repl_;
  server::Client* c_;
  Step step_ = Step::kPing;
  bool sent_ip_ = false;
  // The image.
  std::string temp_path_;
  int fd_ = -1;
  bool use_mark_ = false;
  std::string mark_;
  std::string tail_;   // the last bytes received (EOF marker search)
  int64_t size_ = -1;  // announced length (-1 with a marker)
  int64_t read_ = 0;   // bytes of the image received
  int64_t last_io_s_ = 0;
};

}  // namespace setd::repl
