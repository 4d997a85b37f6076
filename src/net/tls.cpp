#include "setd/net/tls.hpp"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace setd::net {

namespace {

// tls-protocols, as Redis's parseProtocolsConfig: words separated by single
// spaces; "" means TLSv1.2 and TLSv1.3.
constexpr int kTlsV1 = 1 << 0;
constexpr int kTlsV1_1 = 1 << 1;
constexpr int kTlsV1_2 = 1 << 2;
constexpr int kTlsV1_3 = 1 << 3;

int parse_protocols(const std::string& text) {
  if (text.empty()) return kTlsV1_2 | kTlsV1_3;
  int protocols = 0;
  size_t start = 0;
  for (;;) {
    const size_t sp = text.find(' ', start);
    std::string word = text.substr(start, sp == std::string::npos ? sp : sp - start);
    for (auto& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (word == "tlsv1") {
      protocols |= kTlsV1;
    } else if (word == "tlsv1.1") {
      protocols |= kTlsV1_1;
    } else if (word == "tlsv1.2") {
      protocols |= kTlsV1_2;
    } else if (word == "tlsv1.3") {
      protocols |= kTlsV1_3;
    } else {
      spdlog::warn(
          "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' "
          "and 'TLSv1.3'.");
      return -1;
    }
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return protocols;
}

// The oldest error in OpenSSL's queue, as text; the queue is emptied.
std::string openssl_error() {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// tls-key-file-pass for the key being loaded.
int password_callback(char* buf, int size, int, void* pass) {
  if (pass == nullptr) return -1;
  const auto* p = static_cast<const std::string*>(pass);
  if (p->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, p->data(), p->size());
  return static_cast<int>(p->size());
}

// What follows an SSL call that returned `ret` <= 0. `error` gets the
// reason when the stream is done for ("" when the peer just closed).
Io classify(SSL* ssl, int ret, std::string& error) {
  const int err = SSL_get_error(ssl, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      error.clear();
      break;
    case SSL_ERROR_SYSCALL:
      if (errno == EINTR) return Io::kOk;
      error = errno != 0 && errno != ECONNRESET ? std::strerror(errno) : "";
      break;
    default:
      error = openssl_error();
      break;
  }
  ERR_clear_error();
  return Io::kClosed;
}

class TlsStream final : public Stream {
 public:
  TlsStream(int fd, SSL_CTX* ctx, server::TlsAuthClients auth) : fd_(fd), ctx_(ctx), auth_(auth) {
    SSL_CTX_up_ref(ctx_);
  }
  ~TlsStream() override {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Io handshake() override {
    if (!ssl_) {
      // Nothing is allocated for a peer that has not spoken yet.
      if (!waited_) {
        waited_ = true;
        return Io::kWantRead;
      }
      if (!make_ssl()) return Io::kClosed;
    }
    ERR_clear_error();
    const int ret = SSL_accept(ssl_);
    if (ret == 1) {
      connected_ = true;
      // Records are read one by one during the handshake, as Redis does
      // (bytes after a record that fails it stay in the socket), and read
      // ahead from now on: one recv for as many records as have arrived.
      SSL_set_read_ahead(ssl_, 1);
      return Io::kOk;
    }
    const Io next = classify(ssl_, ret, error_);
    if (next == Io::kClosed) {
      failed_ = true;
      if (error_.empty()) error_ = "connection closed by the peer during the TLS handshake";
    }
    return next;
  }

  IoResult read(char* dst, size_t room) override {
    if (failed_ || !connected_) return {0, Io::kClosed};
    size_t got = 0;
    while (got < room) {
      ERR_clear_error();
      const int want = static_cast<int>(std::min<size_t>(room - got, INT_MAX));
      const int n = SSL_read(ssl_, dst + got, want);
      if (n > 0) {
        got += static_cast<size_t>(n);
        // Read on until OpenSSL finds the socket empty (WANT_READ): bytes
        // inside OpenSSL (records read ahead, the rest of one) and bytes
        // still in the socket would not raise another edge (poller.hpp).
        continue;
      }
      const Io next = classify(ssl_, n, error_);
      if (next == Io::kClosed) {
        failed_ = true;
        // What came before the end is delivered first; the next read
        // reports the end.
        return {got, got > 0 ? Io::kOk : Io::kClosed};
      }
      return {got, next};
    }
    return {got, Io::kOk};
  }

  IoResult write(const char* src, size_t len) override {
    if (failed_ || !connected_) return {0, Io::kClosed};
    ERR_clear_error();
    const int n = SSL_write(ssl_, src, static_cast<int>(std::min<size_t>(len, INT_MAX)));
    if (n > 0) return {static_cast<size_t>(n), Io::kOk};
    const Io next = classify(ssl_, n, error_);
    if (next == Io::kClosed) failed_ = true;
    return {0, next};
  }

  void shutdown() override {
    // close_notify, as Redis: once, only on a working connection, and
    // without waiting for the peer's.
    if (!ssl_ || !connected_ || failed_) return;
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
    failed_ = true;
  }

  std::string error() const override { return error_; }

 private:
  bool make_ssl() {
    ssl_ = SSL_new(ctx_);
    SSL_CTX_free(ctx_);  // the SSL holds its own reference
    ctx_ = nullptr;
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) {
      error_ = openssl_error();
      failed_ = true;
      return false;
    }
    switch (auth_) {
      case server::TlsAuthClients::kNo:
        SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
        break;
      case server::TlsAuthClients::kOptional:
        SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
        break;
      case server::TlsAuthClients::kYes:
        SSL_set_verify(ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        break;
    }
    SSL_set_accept_state(ssl_);
    return true;
  }

  int fd_;
  SSL_CTX* ctx_;  // until the SSL is made
  SSL* ssl_ = nullptr;
  server::TlsAuthClients auth_;
  bool waited_ = false;     // handshake() asked once to wait for the peer
  bool connected_ = false;  // the handshake completed
  bool failed_ = false;     // nothing more can be read or written
  std::string error_;
};

// Redis's createSSLContext() for the server side, then what tlsConfigure()
// adds; nullptr (and the reason logged) on failure.
SSL_CTX* build_context(const server::Settings& s, int protocols) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    spdlog::warn("Failed to create the TLS context: {}", openssl_error());
    return nullptr;
  }
  auto fail = [&] {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return nullptr;
  };
  // OpenSSL 3 refuses renegotiation by clients unless told otherwise.
  uint64_t options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS |
                     SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE;
  if (!(protocols & kTlsV1)) options |= SSL_OP_NO_TLSv1;
  if (!(protocols & kTlsV1_1)) options |= SSL_OP_NO_TLSv1_1;
  if (!(protocols & kTlsV1_2)) options |= SSL_OP_NO_TLSv1_2;
  if (!(protocols & kTlsV1_3)) options |= SSL_OP_NO_TLSv1_3;
  if (s.tls_prefer_server_ciphers) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);

  // The password is only needed while the key is read.
  std::string pass = s.tls_key_file_pass;
  SSL_CTX_set_default_passwd_cb(ctx, password_callback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, s.tls_key_file_pass.empty() ? nullptr : &pass);
  if (SSL_CTX_use_certificate_chain_file(ctx, s.tls_cert_file.c_str()) <= 0) {
    spdlog::warn("Failed to load certificate: {}: {}", s.tls_cert_file, openssl_error());
    return fail();
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, s.tls_key_file.c_str(), SSL_FILETYPE_PEM) <= 0) {
    spdlog::warn("Failed to load private key: {}: {}", s.tls_key_file, openssl_error());
    return fail();
  }
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  const char* ca_file = s.tls_ca_cert_file.empty() ? nullptr : s.tls_ca_cert_file.c_str();
  const char* ca_dir = s.tls_ca_cert_dir.empty() ? nullptr : s.tls_ca_cert_dir.c_str();
  if ((ca_file || ca_dir) && SSL_CTX_load_verify_locations(ctx, ca_file, ca_dir) <= 0) {
    spdlog::warn("Failed to configure CA certificate(s) file/directory: {}", openssl_error());
    return fail();
  }
  if (!s.tls_ciphers.empty() && !SSL_CTX_set_cipher_list(ctx, s.tls_ciphers.c_str())) {
    spdlog::warn("Failed to configure ciphers: {}", s.tls_ciphers);
    return fail();
  }
  if (!s.tls_ciphersuites.empty() && !SSL_CTX_set_ciphersuites(ctx, s.tls_ciphersuites.c_str())) {
    spdlog::warn("Failed to configure ciphersuites: {}", s.tls_ciphersuites);
    return fail();
  }

  static const unsigned char kSessionContext[] = "setd";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (s.tls_session_caching) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, s.tls_session_cache_size);
    SSL_CTX_set_timeout(ctx, s.tls_session_cache_timeout);
  } else {
    // No resumption at all. Redis 7.0 still issues session tickets here,
    // and fails the handshake of a client that uses one ("session id
    // context uninitialized"); setd issues none.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }

  if (s.tls_dh_params_file.empty()) {
    SSL_CTX_set_dh_auto(ctx, 1);
    return ctx;
  }
  FILE* dh_file = std::fopen(s.tls_dh_params_file.c_str(), "r");
  if (!dh_file) {
    spdlog::warn("Failed to load {}: {}", s.tls_dh_params_file, std::strerror(errno));
    return fail();
  }
  EVP_PKEY* dh = nullptr;
  OSSL_DECODER_CTX* decoder = OSSL_DECODER_CTX_new_for_pkey(
      &dh, "PEM", nullptr, "DH", OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS, nullptr, nullptr);
  if (!decoder) {
    spdlog::warn("No decoder for DH params.");
    std::fclose(dh_file);
    return fail();
  }
  const bool decoded = OSSL_DECODER_from_fp(decoder, dh_file) == 1;
  OSSL_DECODER_CTX_free(decoder);
  std::fclose(dh_file);
  if (!decoded) {
    spdlog::warn("{}: failed to read DH params.", s.tls_dh_params_file);
    return fail();
  }
  if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) <= 0) {  // takes `dh` only on success
    spdlog::warn("Failed to load DH params file: {}: {}", s.tls_dh_params_file, openssl_error());
    EVP_PKEY_free(dh);
    return fail();
  }
  return ctx;
}

}  // namespace

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

bool TlsContext::configure(const server::Settings& s) {
  static std::once_flag init;
  std::call_once(init, [] {
    // As Redis's tlsInit(): honour openssl.cnf, seed the generator.
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    if (!RAND_poll()) spdlog::warn("OpenSSL: Failed to seed random number generator.");
  });
  ERR_clear_error();
  if (s.tls_cert_file.empty()) {
    spdlog::warn("No tls-cert-file configured!");
    return false;
  }
  if (s.tls_key_file.empty()) {
    spdlog::warn("No tls-key-file configured!");
    return false;
  }
  if (s.tls_auth_clients != server::TlsAuthClients::kNo && s.tls_ca_cert_file.empty() &&
      s.tls_ca_cert_dir.empty()) {
    spdlog::warn(
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-auth-clients is "
        "enabled!");
    return false;
  }
  const int protocols = parse_protocols(s.tls_protocols);
  if (protocols == -1) return false;
  SSL_CTX* ctx = build_context(s, protocols);
  if (!ctx) return false;
  if (ctx_) SSL_CTX_free(ctx_);  // open connections hold references of their own
  ctx_ = ctx;
  return true;
}

std::unique_ptr<Stream> TlsContext::accept(int fd, server::TlsAuthClients auth) const {
  if (!ctx_) return nullptr;
  return std::make_unique<TlsStream>(fd, ctx_, auth);
}

}  // namespace setd::net
