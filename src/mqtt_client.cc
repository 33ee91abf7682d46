// MqttClient over libmosquitto: the only file that includes <mosquitto.h>.
#include "edgebench/mqtt_client.h"

#include <errno.h>
#include <string.h>

#include <memory>
#include <string>

#include <mosquitto.h>
#include <mqtt_protocol.h>

namespace edgebench {
namespace {

MqttHandler* HandlerOf(void* obj) { return static_cast<MqttHandler*>(obj); }

void OnConnectV5(mosquitto*, void* obj, int rc, int, const mosquitto_property*) {
  HandlerOf(obj)->OnConnect(rc);
}
void OnDisconnectV5(mosquitto*, void* obj, int rc, const mosquitto_property*) {
  HandlerOf(obj)->OnDisconnect(rc);
}
void OnPublishV5(mosquitto*, void* obj, int mid, int, const mosquitto_property*) {
  HandlerOf(obj)->OnPublish(mid);
}
void OnSubscribeV5(mosquitto*, void* obj, int mid, int count, const int* granted,
                   const mosquitto_property*) {
  HandlerOf(obj)->OnSubscribe(mid, count > 0 ? granted[0] : -1);
}
void OnMessageV5(mosquitto*, void* obj, const mosquitto_message* m,
                 const mosquitto_property*) {
  HandlerOf(obj)->OnMessage(m->topic, m->payload, static_cast<size_t>(m->payloadlen));
}

// MOSQ_ERR_ERRNO means "look at errno": make the message say what errno said.
std::string DescribeRc(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return strerror(errno);
  return mosquitto_strerror(rc);
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

MqttClient::MqttClient(const MqttClientOptions& options, MqttHandler* handler)
    : options_(options), handler_(handler) {}

MqttClient::~MqttClient() = default;

Result<std::unique_ptr<MqttClient>> MqttClient::Create(const MqttClientOptions& options,
                                                       MqttHandler* handler) {
  std::unique_ptr<MqttClient> client(new MqttClient(options, handler));
  // MQTT 3.1.1 requires clean_session for an empty id; edgebench always sets an id.
  client->mosq_.reset(
      mosquitto_new(options.client_id.c_str(), options.clean_session, handler));
  if (!client->mosq_) {
    return Error{"cannot create MQTT client '" + options.client_id + "': " + strerror(errno)};
  }
  Status st = client->Configure();
  if (!st) return st.error();
  return client;
}

Status MqttClient::Configure() {
  mosquitto* m = mosq_.get();
  int version = options_.protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, version);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, options_.tcp_nodelay);
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(options_.max_inflight));
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot configure MQTT client: " + DescribeRc(rc)};
  }
  // The v5 callbacks are called for 3.1.1 connections too, with empty properties.
  mosquitto_connect_v5_callback_set(m, OnConnectV5);
  mosquitto_disconnect_v5_callback_set(m, OnDisconnectV5);
  mosquitto_publish_v5_callback_set(m, OnPublishV5);
  mosquitto_subscribe_v5_callback_set(m, OnSubscribeV5);
  mosquitto_message_v5_callback_set(m, OnMessageV5);
  return Ok{};
}

Status MqttClient::ConnectAsync() {
  int rc = mosquitto_connect_async(mosq_.get(), options_.host.c_str(), options_.port,
                                   options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot connect to the broker at " + Address() + ": " + DescribeRc(rc)};
  }
  return Ok{};
}

Status MqttClient::ReconnectAsync() {
  int rc = mosquitto_reconnect_async(mosq_.get());
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{"cannot reconnect to the broker at " + Address() + ": " + DescribeRc(rc)};
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

int MqttClient::Publish(const char* topic, const void* payload, int size, int qos,
                        bool retain, int* mid) {
  return mosquitto_publish(mosq_.get(), mid, topic, size, payload, qos, retain);
}

int MqttClient::Subscribe(const char* filter, int qos, int* mid) {
  return mosquitto_subscribe(mosq_.get(), mid, filter, qos);
}

std::string MqttClient::ErrorString(int rc) { return DescribeRc(rc); }

std::string MqttClient::ConnackString(int protocol, int rc) {
  return protocol == 5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc);
}

bool MqttClient::IsNoConnection(int rc) {
  return rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST;
}

}  // namespace edgebench
