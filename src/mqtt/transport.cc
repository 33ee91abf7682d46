// Transport: a non-blocking TCP socket, and OpenSSL on top of it when the broker speaks TLS.
#include "edgebench/mqtt/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "edgebench/base/fd.h"

namespace edgebench {
namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

// One non-blocking connect() to one address, finished within the deadline.
Result<Fd> ConnectOne(const addrinfo& ai, bool nodelay, Clock::time_point deadline) {
  Fd fd(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol));
  if (!fd.valid()) return Error{ErrnoMessage(errno)};
  int one = 1;
  if (nodelay) ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) return Error{ErrnoMessage(errno)};
  if (!WaitFor(fd.get(), POLLOUT, MsLeft(deadline))) return Error{"connect timeout"};
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Error{ErrnoMessage(err)};
  return fd;
}

Result<Fd> ConnectTcp(const MqttClientOptions& o, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(o.port);
  if (int rc = ::getaddrinfo(o.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error{::gai_strerror(rc)};
  }
  Error last{"no address"};
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Result<Fd> fd = ConnectOne(*ai, o.tcp_nodelay, deadline);
    if (fd.ok()) {
      ::freeaddrinfo(found);
      return fd;
    }
    last = fd.error();
  }
  ::freeaddrinfo(found);
  return last;
}

// OpenSSL's reason for the last failure, or "" when its queue is empty.
std::string OpenSslReason() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "error " + std::to_string(e);
}

struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
};

// Checks that a TLS file can be read, so its error names it as libmosquitto's do.
Status Readable(const std::string& path) {
  if (path.empty()) return Ok{};
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot read TLS file " + path + ": " + ErrnoMessage(errno)};
  return Ok{};
}

Result<std::unique_ptr<SSL_CTX, CtxDeleter>> MakeContext(const MqttClientOptions& o) {
  for (const std::string* f : {&o.ca_file, &o.cert_file, &o.key_file}) {
    if (Status st = Readable(*f); !st) return st.error();
  }
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error{"TLS error: " + OpenSslReason()};
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_read_ahead(ctx.get(), 1);  // fewer read() calls per record
  if (SSL_CTX_load_verify_locations(ctx.get(), o.ca_file.c_str(), nullptr) != 1) {
    return Error{"TLS error: Unable to load CA certificates, check cafile \"" + o.ca_file + "\"; " +
                 OpenSslReason()};
  }
  if (!o.cert_file.empty() &&
      SSL_CTX_use_certificate_chain_file(ctx.get(), o.cert_file.c_str()) != 1) {
    return Error{"TLS error: Unable to load client certificate \"" + o.cert_file + "\"; " +
                 OpenSslReason()};
  }
  if (!o.key_file.empty() &&
      SSL_CTX_use_PrivateKey_file(ctx.get(), o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error{"TLS error: Unable to load client key file \"" + o.key_file + "\"; " +
                 OpenSslReason()};
  }
  return ctx;
}

}  // namespace

class Transport::Impl {
 public:
  Fd fd;
  Fd epoll;  // fd registered once for input: cheaper per wait than poll()'s set-up
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx;
  std::unique_ptr<SSL, SslDeleter> ssl;
  std::string error;

  // Why the last TLS call failed, in libmosquitto's words where it has them.
  std::string TlsFailure(int ssl_error) {
    if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
      std::string reason = OpenSslReason();
      return "TLS error: " + (reason.empty() ? "the broker closed the connection" : reason);
    }
    // OpenSSL 3 checks an IP address host against the certificate's IP addresses.
    const long verify = SSL_get_verify_result(ssl.get());
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      ERR_clear_error();
      return "TLS error: host name verification failed; certificate verify failed";
    }
    std::string reason = OpenSslReason();
    return "TLS error: " + (reason.empty() ? "the broker closed the connection" : reason);
  }

  Status Handshake(const MqttClientOptions& o, Clock::time_point deadline);
};

Status Transport::Impl::Handshake(const MqttClientOptions& o, Clock::time_point deadline) {
  Result<std::unique_ptr<SSL_CTX, CtxDeleter>> made = MakeContext(o);
  if (!made.ok()) return made.error();
  ctx = std::move(made.value());
  ssl.reset(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) return Error{"TLS error: " + OpenSslReason()};
  in6_addr ip{};
  const bool is_ip = ::inet_pton(AF_INET, o.host.c_str(), &ip) == 1 ||
                     ::inet_pton(AF_INET6, o.host.c_str(), &ip) == 1;
  if (!is_ip) {  // SNI names hosts only. (SSL_set_tlsext_host_name, without its C cast.)
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(o.host.c_str()));
  }
  if (!o.tls_insecure && SSL_set1_host(ssl.get(), o.host.c_str()) != 1) {
    return Error{"TLS error: " + OpenSslReason()};
  }
  SSL_set_mode(ssl.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  while (true) {
    ERR_clear_error();
    int rc = SSL_connect(ssl.get());
    if (rc == 1) return Ok{};
    int e = SSL_get_error(ssl.get(), rc);
    const short events = e == SSL_ERROR_WANT_READ    ? short{POLLIN}
                         : e == SSL_ERROR_WANT_WRITE ? short{POLLOUT}
                                                     : short{0};
    if (events == 0) return Error{TlsFailure(e)};
    if (!WaitFor(fd.get(), events, MsLeft(deadline))) return Error{"TLS handshake timeout"};
  }
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::Transport(Transport&&) noexcept = default;
Transport& Transport::operator=(Transport&&) noexcept = default;
Transport::~Transport() = default;

Result<Transport> Transport::Connect(const MqttClientOptions& options, double timeout_s) {
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  auto impl = std::make_unique<Impl>();
  Result<Fd> fd = ConnectTcp(options, deadline);
  if (!fd.ok()) return fd.error();
  impl->fd = std::move(fd.value());
  impl->epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (!impl->epoll.valid() ||
      ::epoll_ctl(impl->epoll.get(), EPOLL_CTL_ADD, impl->fd.get(), &ev) != 0) {
    return Error{std::string("epoll: ") + ErrnoMessage(errno)};
  }
  if (options.tls) {
    if (Status st = impl->Handshake(options, deadline); !st) return st.error();
  }
  return Transport(std::move(impl));
}

int Transport::fd() const { return impl_->fd.get(); }
const std::string& Transport::error() const { return impl_->error; }
bool Transport::HasBuffered() const { return impl_->ssl && SSL_has_pending(impl_->ssl.get()) == 1; }

ssize_t Transport::Read(unsigned char* p, size_t n) {
  Impl& t = *impl_;
  if (!t.ssl) {
    ssize_t got = 0;
    do {
      got = ::read(t.fd.get(), p, n);
    } while (got < 0 && errno == EINTR);
    if (got > 0) return got;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    t.error = got == 0 ? "the broker closed the connection" : ErrnoMessage(errno);
    return -1;
  }
  size_t got = 0;
  ERR_clear_error();
  if (SSL_read_ex(t.ssl.get(), p, n, &got) == 1) return static_cast<ssize_t>(got);
  int e = SSL_get_error(t.ssl.get(), 0);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  t.error = t.TlsFailure(e);
  return -1;
}

bool Transport::Write(const unsigned char* p, size_t n, int timeout_ms) {
  Impl& t = *impl_;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (n > 0) {
    size_t put = 0;
    short wait = POLLOUT;
    if (t.ssl) {
      ERR_clear_error();
      if (SSL_write_ex(t.ssl.get(), p, n, &put) != 1) {
        int e = SSL_get_error(t.ssl.get(), 0);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          t.error = t.TlsFailure(e);
          return false;
        }
        if (e == SSL_ERROR_WANT_READ) wait = POLLIN;
      }
    } else {
      ssize_t rc = ::send(t.fd.get(), p, n, MSG_NOSIGNAL);
      if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        t.error = ErrnoMessage(errno);
        return false;
      }
      put = rc > 0 ? static_cast<size_t>(rc) : 0;
    }
    p += put;
    n -= put;
    if (n > 0 && put == 0 && !WaitFor(t.fd.get(), wait, MsLeft(deadline))) {
      t.error = "the broker took no data for " + std::to_string(timeout_ms) + " ms";
      return false;
    }
  }
  return true;
}

bool Transport::Poll(int timeout_ms) const {
  if (HasBuffered()) return true;
  epoll_event ev{};
  int rc = 0;
  do {
    rc = ::epoll_wait(impl_->epoll.get(), &ev, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace edgebench
