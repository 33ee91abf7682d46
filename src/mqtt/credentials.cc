// Reading the broker password and building MQTT client options from a scenario.
#include "edgebench/mqtt/credentials.h"

#include <stdlib.h>

#include <string>

#include "edgebench/base/fd.h"

namespace edgebench {

Result<std::string> ReadPassword(const BrokerSpec& broker) {
  if (!broker.password_env.empty()) {
    // Read once at start-up, before the worker and sampler threads exist.
    const char* value = ::getenv(broker.password_env.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      return Error{"broker.password_env: environment variable '" + broker.password_env +
                   "' is not set"};
    }
    return std::string(value);
  }
  if (!broker.password_file.empty()) {
    Result<std::string> text = ReadFile(broker.password_file, kPasswordFileLimit);
    if (!text.ok()) return text.error();
    std::string line = text->substr(0, text->find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
    return line;
  }
  return std::string();
}

MqttClientOptions ClientOptionsFor(const Scenario& s, const std::string& client_id,
                                   const std::string& host, int port, const std::string& password) {
  const BrokerSpec& b = s.broker;
  MqttClientOptions o;
  o.client_id = client_id;
  o.host = host;
  o.port = port;
  o.protocol = b.protocol;
  o.keepalive_s = b.keepalive_s;
  o.clean_session = b.clean_session;
  o.max_inflight = s.publish.max_inflight;
  o.tls = b.tls.enabled;
  o.ca_file = b.tls.ca_file;
  o.cert_file = b.tls.cert_file;
  o.key_file = b.tls.key_file;
  o.tls_insecure = b.tls.insecure;
  o.username = b.username;
  o.password = b.username.empty() ? std::string() : password;
  if (b.protocol == 5) {
    o.session_expiry_s = b.session_expiry_s;
    for (const UserProperty& p : b.user_properties) o.user_properties.emplace_back(p.name, p.value);
  }
  return o;
}

}  // namespace edgebench
