// ScriptedPeer: a fake MQTT broker for tests, a TCP listener on 127.0.0.1 that reads and
// writes exactly the bytes a test tells it to.
//
// A real mosquitto decides itself how it splits its output into writes; a test that checks
// how the collector batches (N messages in one read, acks of one read in one write) needs
// N messages in one write, so it plays the broker byte for byte.
//
// Contract: the listener is on an ephemeral port from construction; it accepts one
// connection at a time (Accept() again after Close() for a reconnect). Every read waits at
// most its timeout; no call asserts, so a peer may run on its own thread (Catch2 assertions
// are not thread-safe): one thread at a time uses it, and the test checks what it returns.
#ifndef EDGEBENCH_TESTS_MQTT_SCRIPTED_PEER_H_
#define EDGEBENCH_TESTS_MQTT_SCRIPTED_PEER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"

namespace edgebench::testing {

class ScriptedPeer {
 public:
  using Bytes = std::vector<unsigned char>;

  // Requires: called from the test's thread (it REQUIREs the listener).
  ScriptedPeer() {
    listener_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener_.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_.get(), 4) == 0);
    REQUIRE(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }

  int port() const { return port_; }
  bool connected() const { return conn_.valid(); }

  // Accepts the next connection (a blocking socket); false after timeout_ms.
  bool Accept(int timeout_ms = 5000) {
    if (!Wait(listener_.get(), timeout_ms)) return false;
    conn_.Reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn_.valid()) return false;
    // Each Write() goes out at once, not held back by Nagle until the last one is acked.
    int one = 1;
    return ::setsockopt(conn_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  }

  // Exactly n bytes, or fewer when the connection closed or timeout_ms passed.
  Bytes ReadExactly(size_t n, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    Bytes out;
    while (out.size() < n && conn_.valid()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !Wait(conn_.get(), static_cast<int>(left.count()))) break;
      unsigned char buf[4096];
      const size_t want = std::min(sizeof buf, n - out.size());
      ssize_t got = ::recv(conn_.get(), buf, want, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      out.insert(out.end(), buf, buf + got);
    }
    return out;
  }

  // One whole MQTT packet (fixed header and body), read without taking a byte of the next;
  // empty when none came whole within timeout_ms.
  Bytes ReadPacket(int timeout_ms = 5000) {
    Bytes packet = ReadExactly(1, timeout_ms);
    if (packet.empty()) return {};
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) {
      Bytes b = ReadExactly(1, timeout_ms);
      if (b.empty()) return {};
      packet.push_back(b[0]);
      length |= uint32_t{b[0] & 0x7Fu} << (7 * i);
      if ((b[0] & 0x80) == 0) break;
    }
    Bytes body = ReadExactly(length, timeout_ms);
    if (body.size() != length) return {};
    packet.insert(packet.end(), body.begin(), body.end());
    return packet;
  }

  // All of `bytes` in one send() (a blocking socket takes them whole).
  bool Write(const Bytes& bytes) {
    if (!conn_.valid()) return false;
    ssize_t put = 0;
    do {
      put = ::send(conn_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    } while (put < 0 && errno == EINTR);
    return put == static_cast<ssize_t>(bytes.size());
  }

  // True when no byte is waiting to be read now (nothing more was sent).
  bool Idle() {
    unsigned char b = 0;
    ssize_t got = ::recv(conn_.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK);
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // True when the other side closed (EOF) within timeout_ms, with nothing unread before.
  bool ClosedByClient(int timeout_ms = 5000) {
    if (!Wait(conn_.get(), timeout_ms)) return false;
    unsigned char b = 0;
    return ::recv(conn_.get(), &b, 1, 0) == 0;
  }

  void Close() { conn_.Reset(); }

 private:
  static bool Wait(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int rc = 0;
    do {
      rc = ::poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
  }

  Fd listener_;
  Fd conn_;
  int port_ = 0;
};

}  // namespace edgebench::testing

#endif  // EDGEBENCH_TESTS_MQTT_SCRIPTED_PEER_H_
