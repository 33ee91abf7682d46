// MqttClient: one libmosquitto client handle, driven by the caller's event loop.
//
// Contract: the handle never starts libmosquitto's own network thread. The owner either
// drives it from an epoll loop (socket(), want_write(), LoopRead/Write/Misc) or calls
// Loop() from one thread. Callbacks run inside those calls, on the caller's thread.
// MqttClient keeps `this` inside libmosquitto, so it is neither copyable nor movable:
// hold it in a std::unique_ptr. Not thread-safe. <mosquitto.h> is included only in
// mqtt_client.cc.
//
// TLS, username/password and the MQTT 5 options come from MqttClientOptions and are set
// up once in Create(); every later ConnectAsync()/ReconnectAsync() uses them.
#ifndef EDGEBENCH_MQTT_MQTT_CLIENT_H_
#define EDGEBENCH_MQTT_MQTT_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/mqtt/protocol_check.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;  // libmosquitto's mosquitto_property

namespace edgebench {

// Process-wide libmosquitto init/cleanup. One per process (the orchestrator, each worker).
class MosquittoLibrary {
 public:
  MosquittoLibrary();
  ~MosquittoLibrary();
  MosquittoLibrary(const MosquittoLibrary&) = delete;
  MosquittoLibrary& operator=(const MosquittoLibrary&) = delete;
  // "2.0.11"
  static std::string Version();
};

struct MqttClientOptions {
  std::string client_id;
  std::string host = "127.0.0.1";
  int port = 1883;
  int protocol = 4;  // 4 = MQTT 3.1.1, 5 = MQTT 5
  int keepalive_s = 60;
  bool clean_session = true;
  bool tcp_nodelay = true;
  int max_inflight = 20;  // QoS 1/2 messages in flight (libmosquitto's default is 20)

  // TLS. The broker's certificate chain is always verified against ca_file (PEM).
  bool tls = false;
  std::string ca_file;
  std::string cert_file;  // client certificate for mutual TLS, with key_file (PEM, no passphrase)
  std::string key_file;
  bool tls_insecure = false;  // skip only the check that the certificate names `host`

  // Authentication; "" = none. The password is a secret: never log it.
  std::string username;
  std::string password;

  // MQTT 5 only (ignored for protocol 4).
  int64_t session_expiry_s = 0;  // CONNECT session expiry interval; 0 = none (the session ends)
  std::vector<std::pair<std::string, std::string>> user_properties;  // on CONNECT and PUBLISH
};

// Receives the client's events. Every method has an empty default.
class MqttHandler {
 public:
  virtual ~MqttHandler() = default;
  // rc: 0 = accepted; otherwise the CONNACK code (see MqttClient::ConnackString).
  virtual void OnConnect(int rc) { (void)rc; }
  // Right before OnConnect(0): the MQTT 5 CONNACK's limits (all empty for MQTT 3.1.1).
  virtual void OnConnackProperties(const ConnackProperties& granted) { (void)granted; }
  // rc: 0 = we asked for it; otherwise the connection was lost.
  virtual void OnDisconnect(int rc) { (void)rc; }
  // QoS 0: written to the socket. QoS 1/2: acknowledged by the broker.
  virtual void OnPublish(int mid) { (void)mid; }
  virtual void OnSubscribe(int mid, int granted_qos) { (void)mid, (void)granted_qos; }
  virtual void OnMessage(const char* topic, const void* payload, size_t size) {
    (void)topic, (void)payload, (void)size;
  }
};

class MqttClient {
 public:
  // Creates the handle and applies every option; connects nothing yet. `handler` must
  // outlive the client. Errors: "cannot read TLS file PATH: No such file or directory",
  // "cannot load TLS files: ...", "cannot set MQTT 5 user property 'NAME': ...".
  static Result<std::unique_ptr<MqttClient>> Create(const MqttClientOptions& options,
                                                    MqttHandler* handler);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Starts a non-blocking connect; completion is reported through OnConnect.
  // Error: "cannot connect to the broker at 127.0.0.1:1: Connection refused".
  // With TLS, a CA file that is not PEM fails here ("...: TLS error: Unable to load CA
  // certificates, check cafile \"PATH\"; no certificate or crl found"). A failed handshake
  // usually shows up later as a loop error (see DescribeError()), but here when the
  // handshake completes while CONNECT is written; the text after the address is the same.
  //
  // MQTT 5 CONNECT properties (session expiry, user properties): libmosquitto 2.0 takes
  // them only through the blocking mosquitto_connect_bind_v5(), which copies them into the
  // handle (mosq->connect_properties) before it validates host/port, and every later
  // connect (async or not) and reconnect sends that stored list. Create() therefore calls
  // it once with no host: it stores the properties and fails with MOSQ_ERR_INVAL without
  // touching the network, and ConnectAsync() stays a non-blocking connect. The
  // alternative, a blocking connect per client, would stall the caller's event loop for a
  // TCP handshake (a full round trip, seconds when SYNs are dropped) for every device.
  // This relies on libmosquitto's order of checks (verified for 2.0.11; tls_auth_test
  // reads the CONNECT bytes off the wire on connect and reconnect to catch a change).
  Status ConnectAsync();
  // Same, after a lost connection (the same options and CONNECT properties).
  Status ReconnectAsync();
  void Disconnect();

  // The socket, or -1 when not connected.
  int socket() const;
  bool want_write() const;
  // Each returns a libmosquitto error code (0 = success); see DescribeError().
  int LoopRead();
  int LoopWrite();
  int LoopMisc();
  // For a client with its own thread: poll the socket up to timeout_ms and handle it.
  int Loop(int timeout_ms);

  // Returns 0 or a libmosquitto error code. `mid` receives the message id when not null.
  int Publish(const char* topic, const void* payload, int size, int qos, bool retain, int* mid);
  int Subscribe(const char* filter, int qos, int* mid);

  const MqttClientOptions& options() const { return options_; }
  std::string Address() const { return options_.host + ":" + std::to_string(options_.port); }

  // The text of a libmosquitto error code: strerror for MOSQ_ERR_ERRNO, "TLS error" for
  // MOSQ_ERR_TLS. Prefer DescribeError(), which knows what went wrong in this client.
  static std::string ErrorString(int rc);
  // ErrorString(), except that for a TLS client whose connection failed in TLS it says why:
  // "TLS error: certificate verify failed" (wrong CA), "TLS error: host name verification
  // failed; certificate verify failed", "TLS error: tlsv13 alert certificate required" (no
  // client certificate), or "TLS error: the broker closed the connection" when OpenSSL
  // gave no reason. Call it right after the call that returned rc (it may read errno).
  std::string DescribeError(int rc) const;
  // libmosquitto's and OpenSSL's error messages from the current connection attempt, "; "
  // between them; "" when there were none. Recorded (TLS clients only) from ConnectAsync()/
  // ReconnectAsync() until the broker accepts the connection, so the hot path pays nothing.
  const std::string& tls_error() const { return tls_error_; }

  // libmosquitto closes a connection on a broker's protocol violation (kProtocolError) without
  // saying which packet it was. Once asked, the client keeps libmosquitto's line about the
  // last packet it received ("received PUBACK (Mid: 3, RC:0)"), which names it when the
  // next violation comes. It costs a formatted log line per packet, so a caller turns it on
  // only after a first violation (a broker that follows the protocol never pays for it).
  void RecordReceivedPackets();
  // "PUBACK (Mid: 3, RC:0)"; "" when not recording or nothing was received since.
  const std::string& last_received() const { return last_received_; }

  static std::string ConnackString(int protocol, int rc);
  // libmosquitto error codes callers test for.
  static constexpr int kNoConnection = 4;    // MOSQ_ERR_NO_CONN
  static constexpr int kProtocolError = 2;   // MOSQ_ERR_PROTOCOL
  static constexpr int kConnectionLost = 7;  // MOSQ_ERR_CONN_LOST: the broker closed it

 private:
  struct Callbacks;  // libmosquitto's callbacks; defined in mqtt_client.cc
  MqttClient(const MqttClientOptions& options, MqttHandler* handler);
  Status Configure();
  Status ConfigureTls();
  Status ConfigureMqtt5();
  void BeginConnect();

  struct Deleter {
    void operator()(mosquitto* m) const;
  };
  struct PropertyDeleter {
    void operator()(mqtt5__property* p) const;
  };
  MqttClientOptions options_;
  MqttHandler* handler_;
  // Sent with every PUBLISH (MQTT 5 user properties); null when there are none.
  std::unique_ptr<mqtt5__property, PropertyDeleter> publish_properties_;
  std::string tls_error_;
  bool record_received_ = false;
  std::string last_received_;
  // Declared last, so destroyed first: its callbacks reach the members above.
  std::unique_ptr<mosquitto, Deleter> mosq_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_MQTT_CLIENT_H_
