// MqttClient over libmosquitto: the only file that includes <mosquitto.h>.
#include "edgebench/mqtt/mqtt_client.h"

#include <errno.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <string.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <mosquitto.h>

namespace edgebench {

static_assert(MqttClient::kNoConnection == MOSQ_ERR_NO_CONN);
static_assert(MqttClient::kProtocolError == MOSQ_ERR_PROTOCOL);
static_assert(MqttClient::kConnectionLost == MOSQ_ERR_CONN_LOST);

// The trampolines libmosquitto calls; `obj` is the MqttClient (see mosquitto_new below).
struct MqttClient::Callbacks {
  static MqttClient* ClientOf(void* obj) { return static_cast<MqttClient*>(obj); }

  static void OnConnect(mosquitto* m, void* obj, int rc, int, const mosquitto_property* props) {
    MqttClient* c = ClientOf(obj);
    // Connected: stop formatting a log line for every packet from now on (unless asked to
    // keep the received packets, see RecordReceivedPackets()).
    if (rc == 0 && !c->record_received_) mosquitto_log_callback_set(m, nullptr);
    if (rc == 0) c->handler_->OnConnackProperties(ReadConnackProperties(props));
    c->handler_->OnConnect(rc);
  }
  static ConnackProperties ReadConnackProperties(const mosquitto_property* props) {
    ConnackProperties p;
    uint8_t byte = 0;
    uint16_t word = 0;
    uint32_t dword = 0;
    if (mosquitto_property_read_byte(props, MQTT_PROP_MAXIMUM_QOS, &byte, false)) {
      p.maximum_qos = byte;
    }
    if (mosquitto_property_read_byte(props, MQTT_PROP_RETAIN_AVAILABLE, &byte, false)) {
      p.retain_available = byte != 0;
    }
    if (mosquitto_property_read_int16(props, MQTT_PROP_RECEIVE_MAXIMUM, &word, false)) {
      p.receive_maximum = word;
    }
    if (mosquitto_property_read_int32(props, MQTT_PROP_MAXIMUM_PACKET_SIZE, &dword, false)) {
      p.maximum_packet_size = dword;
    }
    if (mosquitto_property_read_int16(props, MQTT_PROP_TOPIC_ALIAS_MAXIMUM, &word, false)) {
      p.topic_alias_maximum = word;
    }
    if (mosquitto_property_read_byte(props, MQTT_PROP_WILDCARD_SUB_AVAILABLE, &byte, false)) {
      p.wildcard_subscription_available = byte != 0;
    }
    if (mosquitto_property_read_byte(props, MQTT_PROP_SHARED_SUB_AVAILABLE, &byte, false)) {
      p.shared_subscription_available = byte != 0;
    }
    if (mosquitto_property_read_int16(props, MQTT_PROP_SERVER_KEEP_ALIVE, &word, false)) {
      p.server_keepalive_s = word;
    }
    return p;
  }
  static void OnDisconnect(mosquitto*, void* obj, int rc, const mosquitto_property*) {
    ClientOf(obj)->handler_->OnDisconnect(rc);
  }
  static void OnPublish(mosquitto*, void* obj, int mid, int, const mosquitto_property*) {
    ClientOf(obj)->handler_->OnPublish(mid);
  }
  static void OnSubscribe(mosquitto*, void* obj, int mid, int count, const int* granted,
                          const mosquitto_property*) {
    ClientOf(obj)->handler_->OnSubscribe(mid, count > 0 ? granted[0] : -1);
  }
  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* m,
                        const mosquitto_property*) {
    ClientOf(obj)->handler_->OnMessage(m->topic, m->payload, static_cast<size_t>(m->payloadlen));
  }

  // libmosquitto reports why a TLS connection failed only here: it logs OpenSSL's error
  // queue and then clears it. Keep its error lines, shortened:
  //   "Error: host name verification failed."                          -> text
  //   "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed" -> reason
  static void OnLog(mosquitto*, void* obj, int level, const char* line) {
    std::string_view text(line);
    if (level == MOSQ_LOG_DEBUG && ClientOf(obj)->record_received_) {
      // "Client eb-1-0 received PUBACK (Mid: 3, RC:0)"
      constexpr std::string_view kReceived = " received ";
      size_t at = text.find(kReceived);
      if (at != std::string_view::npos) {
        ClientOf(obj)->last_received_ = text.substr(at + kReceived.size());
      }
      return;
    }
    if (level != MOSQ_LOG_ERR) return;
    if (text.starts_with("OpenSSL Error")) {
      size_t colon = text.rfind(':');
      if (colon != std::string_view::npos) text.remove_prefix(colon + 1);
    } else if (text.starts_with("Error: ")) {
      text.remove_prefix(7);
    }
    while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty()) return;
    std::string& out = ClientOf(obj)->tls_error_;
    // OpenSSL repeats itself (each failed try of a key decoder): keep each line once.
    if (("; " + out + "; ").find("; " + std::string(text) + "; ") != std::string::npos) return;
    if (!out.empty()) out += "; ";
    out += text;
  }

  // An encrypted key file would otherwise make OpenSSL prompt on the terminal; refuse it.
  static int NoKeyPassphrase(char*, int, int, void*) { return 0; }
};

namespace {

// MOSQ_ERR_ERRNO means "look at errno": make the message say what errno said.
std::string DescribeRc(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return ErrnoMessage(errno);
  if (rc == MOSQ_ERR_TLS) return "TLS error";
  return mosquitto_strerror(rc);
}

// A property list being built; frees what it still holds.
struct PropertyList {
  PropertyList() = default;
  ~PropertyList() { mosquitto_property_free_all(&head); }
  PropertyList(const PropertyList&) = delete;
  PropertyList& operator=(const PropertyList&) = delete;
  mosquitto_property* head = nullptr;
};

// The error of a file that cannot be opened for reading, or "".
std::string UnreadableFile(const std::string& path) {
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return "cannot read TLS file " + path + ": " + ErrnoMessage(errno);
  fclose(f);
  return "";
}

}  // namespace

MosquittoLibrary::MosquittoLibrary() { mosquitto_lib_init(); }
MosquittoLibrary::~MosquittoLibrary() { mosquitto_lib_cleanup(); }

std::string MosquittoLibrary::Version() {
  int major = 0, minor = 0, revision = 0;
  mosquitto_lib_version(&major, &minor, &revision);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(revision);
}

void MqttClient::Deleter::operator()(mosquitto* m) const { mosquitto_destroy(m); }

void MqttClient::PropertyDeleter::operator()(mqtt5__property* p) const {
  mosquitto_property_free_all(&p);
}

MqttClient::MqttClient(const MqttClientOptions& options, MqttHandler* handler)
    : options_(options), handler_(handler) {}

MqttClient::~MqttClient() = default;

Result<std::unique_ptr<MqttClient>> MqttClient::Create(const MqttClientOptions& options,
                                                       MqttHandler* handler) {
  std::unique_ptr<MqttClient> client(new MqttClient(options, handler));
  // MQTT 3.1.1 requires clean_session for an empty id; edgebench always sets an id.
  client->mosq_.reset(
      mosquitto_new(options.client_id.c_str(), options.clean_session, client.get()));
  if (!client->mosq_) {
    return Error{"cannot create MQTT client '" + options.client_id + "': " + ErrnoMessage(errno)};
  }
  Status st = client->Configure();
  if (!st) return st.error();
  return client;
}

Status MqttClient::Configure() {
  mosquitto* m = mosq_.get();
  int version = options_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, version);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, options_.tcp_nodelay);
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(options_.max_inflight));
  }
  if (rc == MOSQ_ERR_SUCCESS && !options_.username.empty()) {
    rc = mosquitto_username_pw_set(m, options_.username.c_str(),
                                   options_.password.empty() ? nullptr : options_.password.c_str());
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot configure MQTT client: " + DescribeRc(rc)};
  }
  if (options_.tls) {
    Status st = ConfigureTls();
    if (!st) return st;
  }
  if (options_.protocol == 5) {
    Status st = ConfigureMqtt5();
    if (!st) return st;
  }
  // The v5 callbacks are called for 3.1.1 connections too, with empty properties.
  mosquitto_connect_v5_callback_set(m, Callbacks::OnConnect);
  mosquitto_disconnect_v5_callback_set(m, Callbacks::OnDisconnect);
  mosquitto_publish_v5_callback_set(m, Callbacks::OnPublish);
  mosquitto_subscribe_v5_callback_set(m, Callbacks::OnSubscribe);
  mosquitto_message_v5_callback_set(m, Callbacks::OnMessage);
  return Ok{};
}

Status MqttClient::ConfigureTls() {
  mosquitto* m = mosq_.get();
  if (options_.ca_file.empty()) return Error{"cannot load TLS files: TLS needs a CA file"};
  // mosquitto_tls_set() says only "Invalid function arguments" for a file it cannot open.
  for (const std::string* path : {&options_.ca_file, &options_.cert_file, &options_.key_file}) {
    if (path->empty()) continue;
    std::string err = UnreadableFile(*path);
    if (!err.empty()) return Error{err};
  }
  auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  int rc = mosquitto_tls_set(m, options_.ca_file.c_str(), nullptr, or_null(options_.cert_file),
                             or_null(options_.key_file), Callbacks::NoKeyPassphrase);
  if (rc != MOSQ_ERR_SUCCESS) return Error{"cannot load TLS files: " + DescribeRc(rc)};
  // SSL_VERIFY_PEER (1): verify the broker's chain; libmosquitto's default too, made explicit.
  rc = mosquitto_tls_opts_set(m, 1, nullptr, nullptr);
  if (rc == MOSQ_ERR_SUCCESS && options_.tls_insecure) rc = mosquitto_tls_insecure_set(m, true);
  if (rc != MOSQ_ERR_SUCCESS) return Error{"cannot configure TLS: " + DescribeRc(rc)};
  return Ok{};
}

Status MqttClient::ConfigureMqtt5() {
  PropertyList connect;
  PropertyList publish;
  if (options_.session_expiry_s > 0) {
    int rc = mosquitto_property_add_int32(&connect.head, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                          static_cast<uint32_t>(options_.session_expiry_s));
    if (rc != MOSQ_ERR_SUCCESS) return Error{"cannot set MQTT 5 session expiry: " + DescribeRc(rc)};
  }
  for (const auto& [name, value] : options_.user_properties) {
    for (PropertyList* list : {&connect, &publish}) {
      int rc = mosquitto_property_add_string_pair(&list->head, MQTT_PROP_USER_PROPERTY,
                                                  name.c_str(), value.c_str());
      if (rc != MOSQ_ERR_SUCCESS) {
        return Error{"cannot set MQTT 5 user property '" + name + "': " + DescribeRc(rc)};
      }
    }
  }
  publish_properties_.reset(std::exchange(publish.head, nullptr));
  if (connect.head == nullptr) return Ok{};
  // See ConnectAsync() in the header: with no host this copies the properties into the
  // handle for every later connect and returns MOSQ_ERR_INVAL before any network I/O.
  int rc = mosquitto_connect_bind_v5(mosq_.get(), nullptr, options_.port, options_.keepalive_s,
                                     nullptr, connect.head);
  if (rc != MOSQ_ERR_INVAL) {
    std::string why = rc == MOSQ_ERR_SUCCESS ? "unexpected connect" : DescribeRc(rc);
    return Error{"cannot set MQTT 5 CONNECT properties: " + why};
  }
  return Ok{};
}

// Records libmosquitto's error lines for this attempt, so that DescribeError() can say why
// a TLS connection failed; OnConnect removes the callback once the broker accepts.
void MqttClient::BeginConnect() {
  tls_error_.clear();
  if (options_.tls || record_received_) mosquitto_log_callback_set(mosq_.get(), Callbacks::OnLog);
}

void MqttClient::RecordReceivedPackets() {
  record_received_ = true;
  last_received_.clear();
  mosquitto_log_callback_set(mosq_.get(), Callbacks::OnLog);
}

Status MqttClient::ConnectAsync() {
  BeginConnect();
  int rc = mosquitto_connect_async(mosq_.get(), options_.host.c_str(), options_.port,
                                   options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot connect to the broker at " + Address() + ": " + DescribeError(rc)};
  }
  return Ok{};
}

Status MqttClient::ReconnectAsync() {
  BeginConnect();
  int rc = mosquitto_reconnect_async(mosq_.get());
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot reconnect to the broker at " + Address() + ": " + DescribeError(rc)};
  }
  return Ok{};
}

void MqttClient::Disconnect() { mosquitto_disconnect(mosq_.get()); }

int MqttClient::socket() const { return mosquitto_socket(mosq_.get()); }
bool MqttClient::want_write() const { return mosquitto_want_write(mosq_.get()); }
int MqttClient::LoopRead() { return mosquitto_loop_read(mosq_.get(), 1); }
int MqttClient::LoopWrite() { return mosquitto_loop_write(mosq_.get(), 1); }
int MqttClient::LoopMisc() { return mosquitto_loop_misc(mosq_.get()); }
int MqttClient::Loop(int timeout_ms) { return mosquitto_loop(mosq_.get(), timeout_ms, 1); }

int MqttClient::Publish(const char* topic, const void* payload, int size, int qos, bool retain,
                        int* mid) {
  if (publish_properties_) {
    return mosquitto_publish_v5(mosq_.get(), mid, topic, size, payload, qos, retain,
                                publish_properties_.get());
  }
  return mosquitto_publish(mosq_.get(), mid, topic, size, payload, qos, retain);
}

int MqttClient::Subscribe(const char* filter, int qos, int* mid) {
  return mosquitto_subscribe(mosq_.get(), mid, filter, qos);
}

std::string MqttClient::ErrorString(int rc) { return DescribeRc(rc); }

std::string MqttClient::DescribeError(int rc) const {
  const int saved_errno = errno;  // for MOSQ_ERR_ERRNO
  if (options_.tls && (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO)) {
    if (!tls_error_.empty()) return "TLS error: " + tls_error_;
    // libmosquitto turns every failed OpenSSL read or write into errno EPROTO. With nothing
    // logged, the broker closed or reset the connection; a broker that rejects the client
    // certificate can do so before its alert is read.
    if (rc == MOSQ_ERR_ERRNO && saved_errno == EPROTO) {
      return "TLS error: the broker closed the connection";
    }
  }
  errno = saved_errno;
  return DescribeRc(rc);
}

std::string MqttClient::ConnackString(int protocol, int rc) {
  return protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
}

}  // namespace edgebench
