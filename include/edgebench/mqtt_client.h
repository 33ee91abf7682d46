// MqttClient: one libmosquitto client handle, driven by the caller's event loop.
//
// Contract: the handle never starts libmosquitto's own network thread. The owner either
// drives it from an epoll loop (socket(), want_write(), LoopRead/Write/Misc) or calls
// Loop() from one thread. Callbacks run inside those calls, on the caller's thread.
// MqttClient keeps `this` inside libmosquitto, so it is neither copyable nor movable:
// hold it in a std::unique_ptr. Not thread-safe. <mosquitto.h> is included only in
// mqtt_client.cc.
#ifndef EDGEBENCH_MQTT_CLIENT_H_
#define EDGEBENCH_MQTT_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "edgebench/error.h"

struct mosquitto;
struct mosquitto_message;

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
};

// Receives the client's events. Every method has an empty default.
class MqttHandler {
 public:
  virtual ~MqttHandler() = default;
  // rc: 0 = accepted; otherwise the CONNACK code (see MqttClient::ConnackString).
  virtual void OnConnect(int rc) { (void)rc; }
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
  // Creates the handle; connects nothing yet. `handler` must outlive the client.
  static Result<std::unique_ptr<MqttClient>> Create(const MqttClientOptions& options,
                                                    MqttHandler* handler);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Starts a non-blocking connect; completion is reported through OnConnect.
  // Error: "cannot connect to the broker at 127.0.0.1:1: Connection refused".
  Status ConnectAsync();
  // Same, after a lost connection.
  Status ReconnectAsync();
  void Disconnect();

  // The socket, or -1 when not connected.
  int socket() const;
  bool want_write() const;
  // Each returns a libmosquitto error code (0 = success); see ErrorString().
  int LoopRead();
  int LoopWrite();
  int LoopMisc();
  // For a client with its own thread: poll the socket up to timeout_ms and handle it.
  int Loop(int timeout_ms);

  // Returns 0 or a libmosquitto error code. `mid` receives the message id when not null.
  int Publish(const char* topic, const void* payload, int size, int qos, bool retain,
              int* mid);
  int Subscribe(const char* filter, int qos, int* mid);

  const MqttClientOptions& options() const { return options_; }
  std::string Address() const { return options_.host + ":" + std::to_string(options_.port); }

  static std::string ErrorString(int rc);
  static std::string ConnackString(int protocol, int rc);
  // libmosquitto error codes callers test for.
  static bool IsNoConnection(int rc);

 private:
  MqttClient(const MqttClientOptions& options, MqttHandler* handler);
  Status Configure();

  struct Deleter {
    void operator()(mosquitto* m) const;
  };
  MqttClientOptions options_;
  MqttHandler* handler_;
  std::unique_ptr<mosquitto, Deleter> mosq_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_CLIENT_H_
