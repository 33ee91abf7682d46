// Transport: one non-blocking TCP connection to the broker, plain or TLS (OpenSSL).
//
// Contract: Connect() resolves the host, connects within a deadline and, with TLS, does the
// handshake: the broker's chain is verified against ca_file, its certificate must name
// `host` unless tls_insecure, and cert_file/key_file give mutual TLS (the same options as
// the devices' libmosquitto clients, MqttClientOptions). Afterwards Read() and Write()
// never block; Poll() waits for the socket. <openssl/*.h> is included only in transport.cc.
// Move-only; not thread-safe.
//
// Error texts (what follows "cannot connect to the broker at HOST:PORT: "), as libmosquitto
// gives them to the devices: "Connection refused", "TLS error: certificate verify failed",
// "TLS error: host name verification failed; certificate verify failed",
// "TLS error: the broker closed the connection", "cannot read TLS file PATH: ...".
#ifndef EDGEBENCH_MQTT_TRANSPORT_H_
#define EDGEBENCH_MQTT_TRANSPORT_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "edgebench/base/error.h"
#include "edgebench/mqtt/mqtt_client.h"

namespace edgebench {

class Transport {
 public:
  // The options used: host, port, tcp_nodelay and the TLS fields.
  static Result<Transport> Connect(const MqttClientOptions& options, double timeout_s);
  Transport(Transport&&) noexcept;
  Transport& operator=(Transport&&) noexcept;
  ~Transport();

  int fd() const;
  // Reads up to `n` bytes of what has arrived: the byte count, 0 when nothing is ready
  // now, or -1 when the connection is closed or failed (error() says why).
  ssize_t Read(unsigned char* p, size_t n);
  // True when TLS holds decrypted bytes that Read() would return without the socket.
  bool HasBuffered() const;
  // Writes all of `n` bytes, waiting for the socket as needed up to timeout_ms. False when
  // the connection failed or the broker did not take them in time (error() says why).
  bool Write(const unsigned char* p, size_t n, int timeout_ms);
  // Waits up to timeout_ms for data (or a hang-up). True when Read() should be called.
  bool Poll(int timeout_ms) const;
  const std::string& error() const;

  class Impl;  // the socket and the OpenSSL objects; defined in transport.cc

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_TRANSPORT_H_
