// Credentials and client options: turns a scenario's broker section into the options of
// every MQTT client edgebench opens (the publishers and the collector).
//
// Contract: the password is read once per process with ReadPassword() and passed to
// ClientOptionsFor(); it is a secret, so neither function logs it or puts it in an error.
#ifndef EDGEBENCH_MQTT_CREDENTIALS_H_
#define EDGEBENCH_MQTT_CREDENTIALS_H_

#include <string>

#include "edgebench/base/error.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

// The broker password: the value of the environment variable broker.password_env, or the
// first line of broker.password_file (without its line ending); "" when neither is set.
// Errors: "broker.password_env: environment variable 'X' is not set",
// "cannot read PATH: No such file or directory".
// Reads the environment: call it before any thread starts (or where none sets variables).
Result<std::string> ReadPassword(const BrokerSpec& broker);

// MqttClientOptions with every field taken from the scenario: protocol, keepalive,
// clean_session, max_inflight (publish.max_inflight), TLS, username, `password`, MQTT 5
// session expiry and user properties (the MQTT 5 fields stay empty for protocol 4).
// `host`/`port` are where to connect (the embedded broker's port, or broker.host/port).
MqttClientOptions ClientOptionsFor(const Scenario& s, const std::string& client_id,
                                   const std::string& host, int port, const std::string& password);

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_CREDENTIALS_H_
