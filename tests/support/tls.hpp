// Integration-test support for TLS: certificates made with the `openssl`
// command at test time, a TLS client that is a Client (server_process.hpp)
// to the test, and a client whose TLS records the test handles itself (for
// hostile peers). Header-only; OpenSSL.
//
// TlsClient talks plain RESP to the test over a socket pair; a thread of
// its own (the tunnel) moves the bytes through TLS to the server. So every
// Client helper works on TLS as on TCP, also a sender thread beside a
// reading one (one SSL object must never be used by two threads at once).
#pragma once

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "server_process.hpp"

namespace setd::testing {

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

// A directory of test certificates, made by make_certs.sh (the openssl
// command; EC P-256 keys, valid 2 days), removed at the end:
//   ca.crt/.key              the CA setd trusts
//   server.crt/.key          CN=localhost (SAN localhost, 127.0.0.1), signed by ca
//   client.crt/.key          CN=client, signed by ca
//   other-ca.crt/.key        a CA setd does not trust
//   other-client.crt/.key    CN=intruder, signed by other-ca
// issue() makes more.
class TlsFiles {
 public:
  TlsFiles() {
    make_certs("");
    make_certs("ca other-ca 'other test CA'");
    issue("other-client", "intruder", "other-ca");
  }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  // "<dir>/<name>"
  std::string path(const std::string& name) const { return dir_.file(name); }
  const std::string& dir() const { return dir_.path(); }

  // <name>.crt and <name>.key: a certificate for `cn` signed by the CA
  // <ca>; key_type "ec" (P-256) or "rsa" (2048 bits).
  void issue(const std::string& name, const std::string& cn, const std::string& ca,
             const std::string& key_type = "ec") {
    make_certs("issue " + name + " '" + cn + "' " + ca + " " + key_type);
  }

  // The server parameters of these settings, as setd and redis-server take
  // them on the command line.
  std::vector<std::string> server_args(int tls_port, const std::string& auth = "yes",
                                       const std::string& name = "server") const {
    return {"--tls-port",         std::to_string(tls_port),
            "--tls-cert-file",    path(name + ".crt"),
            "--tls-key-file",     path(name + ".key"),
            "--tls-ca-cert-file", path("ca.crt"),
            "--tls-auth-clients", auth};
  }

 private:
  void make_certs(const std::string& args) const {
    const std::string cmd =
        "bash '" SETD_SOURCE_DIR "/tests/support/make_certs.sh' '" + dir_.path() + "' " + args;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  }

  TempDir dir_;
};

// ---------------------------------------------------------------------------
// Client side TLS
// ---------------------------------------------------------------------------

struct TlsClientOptions {
  std::string ca;    // CA file the server's certificate is checked against ("" = not checked)
  std::string cert;  // client certificate and key ("" = none)
  std::string key;
  std::string ciphers;       // TLSv1.2 cipher list ("" = OpenSSL's default)
  std::string ciphersuites;  // TLSv1.3 suites ("" = default)
  int min_version = 0;       // TLS1_2_VERSION, ... (0 = any)
  int max_version = 0;
  SSL_SESSION* resume = nullptr;  // a session to resume (not owned)
};

// The oldest error in OpenSSL's queue, as text (the queue is emptied).
inline std::string tls_error_text() {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// Server name indication "localhost" (SSL_set_tlsext_host_name without
// its C cast).
inline void set_sni(SSL* ssl) {
  static char name[] = "localhost";
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name);
}

// A client SSL_CTX for `o`; throws on bad files.
inline SSL_CTX* make_client_ctx(const TlsClientOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Sessions are kept by the test (TlsTunnel::session()): a session left
  // in this context's cache would be made unresumable when it is freed.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  auto fail = [&](const std::string& what) {
    const std::string why = tls_error_text();
    SSL_CTX_free(ctx);
    throw std::runtime_error(what + ": " + why);
  };
  if (!o.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.ca.c_str(), nullptr) != 1) fail("CA " + o.ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!o.cert.empty() && SSL_CTX_use_certificate_chain_file(ctx, o.cert.c_str()) != 1)
    fail("certificate " + o.cert);
  if (!o.key.empty() && SSL_CTX_use_PrivateKey_file(ctx, o.key.c_str(), SSL_FILETYPE_PEM) != 1)
    fail("key " + o.key);
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str()) != 1) fail("ciphers");
  if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1)
    fail("ciphersuites");
  if (o.min_version) SSL_CTX_set_min_proto_version(ctx, o.min_version);
  if (o.max_version) SSL_CTX_set_max_proto_version(ctx, o.max_version);
  return ctx;
}

// A TCP connection to 127.0.0.1:`port` (blocking); throws if refused.
inline int tcp_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed to port " + std::to_string(port));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One TLS connection, handshaken in the constructor (throws if that fails),
// then served by a thread that moves bytes between it and `app_fd()`, the
// other end of a socket pair. The first failure of the TLS connection is
// kept (error()); the socket pair is then closed like a TCP connection the
// server closed.
class TlsTunnel {
 public:
  TlsTunnel(int port, const TlsClientOptions& o, int timeout_ms) {
    ::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes with write(2)
    ctx_ = make_client_ctx(o);
    try {
      tcp_ = tcp_connect(port);
    } catch (const std::exception&) {
      cleanup();
      throw;
    }
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(tcp_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(tcp_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, tcp_);
    set_sni(ssl_);
    if (o.resume) SSL_set_session(ssl_, o.resume);
    if (SSL_connect(ssl_) != 1) {
      const std::string why = tls_error_text();
      cleanup();
      throw std::runtime_error("TLS handshake failed: " + why);
    }
    if (X509* peer = SSL_get1_peer_certificate(ssl_)) {
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
      peer_cn_ = cn;
      X509_free(peer);
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
      cleanup();
      throw std::runtime_error("socketpair failed");
    }
    app_fd_ = sv[0];
    pump_fd_ = sv[1];
    if (::pipe(wake_) != 0) {
      cleanup();
      throw std::runtime_error("pipe failed");
    }
    ::fcntl(tcp_, F_SETFL, ::fcntl(tcp_, F_GETFL) | O_NONBLOCK);
    ::fcntl(pump_fd_, F_SETFL, ::fcntl(pump_fd_, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([this] { pump(); });
  }
  ~TlsTunnel() {
    if (thread_.joinable()) {
      // The pump ends by itself once the application's end is closed
      // (after its close_notify: a session ended without one cannot be
      // resumed); it is stopped if that takes too long.
      stop_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      stop_ = true;
      const char c = 0;
      if (::write(wake_[1], &c, 1) < 0) std::perror("write");
      thread_.join();
    }
    cleanup();
  }
  TlsTunnel(const TlsTunnel&) = delete;
  TlsTunnel& operator=(const TlsTunnel&) = delete;

  // The application's end of the socket pair (the caller takes it over).
  int app_fd() const { return app_fd_; }
  // The server certificate's CN, the protocol and cipher negotiated.
  const std::string& peer_cn() const { return peer_cn_; }
  std::string version() const { return SSL_get_version(ssl_); }
  std::string cipher() const { return SSL_get_cipher_name(ssl_); }
  bool session_reused() const { return SSL_session_reused(ssl_) == 1; }
  // The session to resume later (owned by the caller: SSL_SESSION_free).
  SSL_SESSION* session() const { return SSL_get1_session(ssl_); }
  // Why the TLS connection ended ("" while it works or if the server
  // closed it cleanly).
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  static constexpr size_t kCap = 256 * 1024;

  void set_error(const std::string& e) {
    std::lock_guard lock(mu_);
    if (error_.empty()) error_ = e;
  }
  // After SSL_read / SSL_write returned `ret` <= 0: 1 = wait for readable,
  // 2 = writable, 0 = over.
  int after(int ret) {
    const int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_WANT_READ) return 1;
    if (err == SSL_ERROR_WANT_WRITE) return 2;
    if (err == SSL_ERROR_ZERO_RETURN) {
      set_error("closed by the server (close_notify)");
    } else if (err == SSL_ERROR_SYSCALL) {
      set_error(errno ? std::string(std::strerror(errno)) : "closed by the server");
    } else {
      set_error(tls_error_text());
    }
    ERR_clear_error();
    return 0;
  }

  void pump() {
    std::string to_server, to_app;
    bool app_eof = false, tls_over = false;
    char buf[16384];
    while (!stop_ || std::chrono::steady_clock::now() < stop_at_) {
      int tls_wants = 0;  // 1 readable, 2 writable
      // Server -> application first: a server that refused us has said
      // why (an alert) before our writes fail.
      while (!tls_over && to_app.size() < kCap) {
        const int n = SSL_read(ssl_, buf, sizeof(buf));
        if (n > 0) {
          to_app.append(buf, static_cast<size_t>(n));
          continue;
        }
        tls_wants = after(n);
        if (tls_wants == 0) tls_over = true;
        break;
      }
      // Application -> server.
      while (!app_eof && to_server.size() < kCap) {
        const ssize_t n = ::recv(pump_fd_, buf, sizeof(buf), 0);
        if (n > 0) {
          to_server.append(buf, static_cast<size_t>(n));
        } else {
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) app_eof = true;
          break;
        }
      }
      while (!tls_over && !to_server.empty()) {
        const int n = SSL_write(ssl_, to_server.data(), static_cast<int>(to_server.size()));
        if (n > 0) {
          to_server.erase(0, static_cast<size_t>(n));
          continue;
        }
        const int w = after(n);
        if (w == 0) tls_over = true;
        if (w == 2 || tls_wants == 0) tls_wants = w;
        break;
      }
      while (!to_app.empty()) {
        const ssize_t n = ::send(pump_fd_, to_app.data(), to_app.size(), MSG_NOSIGNAL);
        if (n > 0) {
          to_app.erase(0, static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          app_eof = true;
          to_app.clear();
        }
        break;
      }
      if (tls_over && to_app.empty()) {
        ::shutdown(pump_fd_, SHUT_RDWR);  // the application sees the end
        return;
      }
      if (app_eof && to_server.empty()) {
        SSL_shutdown(ssl_);  // close_notify, then the socket closes
        ::shutdown(tcp_, SHUT_RDWR);
        return;
      }
      pollfd p[3] = {{tcp_, 0, 0}, {pump_fd_, 0, 0}, {wake_[0], POLLIN, 0}};
      if (tls_wants == 1 || to_app.size() < kCap) p[0].events |= POLLIN;
      if (tls_wants == 2) p[0].events |= POLLOUT;
      if (!app_eof && to_server.size() < kCap) p[1].events |= POLLIN;
      if (!to_app.empty()) p[1].events |= POLLOUT;
      ::poll(p, 3, SSL_pending(ssl_) > 0 && to_app.size() < kCap ? 0 : 50);
    }
  }

  void cleanup() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    for (int* fd : {&tcp_, &pump_fd_, &wake_[0], &wake_[1]}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int tcp_ = -1;
  int app_fd_ = -1;  // owned by the TlsClient
  int pump_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::string peer_cn_;
  std::atomic<bool> stop_{false};
  std::chrono::steady_clock::time_point stop_at_;  // set before stop_
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

// A Client over TLS (see the top of this file).
class TlsClient : public Client {
 public:
  TlsClient(int port, const TlsClientOptions& o, int timeout_ms = 5000)
      : TlsClient(std::make_unique<TlsTunnel>(port, o, timeout_ms), timeout_ms) {}
  ~TlsClient() override {
    // Closing our end first lets the tunnel say goodbye (close_notify).
    ::shutdown(fd(), SHUT_RDWR);
  }

  TlsTunnel& tls() { return *tunnel_; }

 private:
  TlsClient(std::unique_ptr<TlsTunnel> t, int timeout_ms)
      : Client(Adopt{t->app_fd()}, timeout_ms), tunnel_(std::move(t)) {}
  std::unique_ptr<TlsTunnel> tunnel_;
};

// The options of a client that trusts `files`' CA and shows `cert` ("" =
// no certificate).
inline TlsClientOptions tls_options(const TlsFiles& files, const std::string& cert = "client") {
  TlsClientOptions o;
  o.ca = files.path("ca.crt");
  if (!cert.empty()) {
    o.cert = files.path(cert + ".crt");
    o.key = files.path(cert + ".key");
  }
  return o;
}

// ---------------------------------------------------------------------------
// TLS records by hand
// ---------------------------------------------------------------------------

// A client-side TLS session over memory BIOs: the test decides which bytes
// go to the server and when (half a ClientHello, half a record, ...).
class RawTls {
 public:
  explicit RawTls(const TlsClientOptions& o) {
    ctx_ = make_client_ctx(o);
    ssl_ = SSL_new(ctx_);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_, rbio_, wbio_);  // the SSL owns them
    SSL_set_connect_state(ssl_);
    set_sni(ssl_);
  }
  ~RawTls() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  RawTls(const RawTls&) = delete;
  RawTls& operator=(const RawTls&) = delete;

  // The ClientHello (the first flight of the handshake).
  std::string client_hello() {
    step();
    return take();
  }
  // Completes the handshake over the raw socket `fd`; false on failure or
  // after `ms`.
  bool handshake_over(int fd, int ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      const int r = step();
      if (!send_all(fd, take())) return false;
      if (r == 1) return true;
      if (r < 0 || std::chrono::steady_clock::now() >= deadline) return false;
      if (!receive(fd, 100) && r < 0) return false;
    }
  }
  // What asks the server to renegotiate (TLS 1.2: a new ClientHello).
  std::string renegotiate() {
    SSL_renegotiate(ssl_);
    SSL_do_handshake(ssl_);
    return take();
  }
  // A TLS 1.3 KeyUpdate that asks the server to update its keys too.
  std::string key_update() {
    SSL_key_update(ssl_, SSL_KEY_UPDATE_REQUESTED);
    SSL_do_handshake(ssl_);
    return take();
  }
  // Our close_notify.
  std::string close_notify() {
    SSL_shutdown(ssl_);
    return take();
  }
  // The records carrying `plain` (SSL_write), to be sent by the test.
  std::string seal(std::string_view plain) {
    SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    return take();
  }
  // Reads from `fd` for up to `ms` and returns the plaintext that came.
  std::string open(int fd, int ms = 1000) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[16384];
      int n;
      while ((n = SSL_read(ssl_, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
      if (!out.empty()) return out;
      if (!receive(fd, 50)) continue;
    }
    return out;
  }

  static bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  // One handshake step: 1 done, 0 waiting for the server, -1 failed.
  int step() {
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return 1;
    const int err = SSL_get_error(ssl_, r);
    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? 0 : -1;
  }
  // What the SSL wrote to its output BIO.
  std::string take() {
    std::string out;
    char buf[16384];
    int n;
    while ((n = BIO_read(wbio_, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  // Moves what the server sent within `ms` into the input BIO.
  bool receive(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    BIO_write(rbio_, buf, static_cast<int>(n));
    return true;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
};

}  // namespace setd::testing
