// LoadGenerator: the worker's device fleet, publishing on an open-loop schedule from one
// event loop (base/event_loop.h).
//
// Contract: runs inside the forked worker only. Connect() opens the worker's connections
// (one per device, or `devices.gateways` shared ones; libmosquitto without its thread, the
// sockets driven by the event loop here), at `devices.connect_rate` per second when set, and
// returns once all are accepted, or an Error when they are not within the ramp plus the connect
// timeout. Run() publishes device d's message k at its intended time (constant rate with
// evenly spread phases, or Poisson arrivals), never before that time; when behind it sends
// the overdue messages as fast as it can (the lag is recorded, the schedule never shifts);
// still behind 1 s after the window (or half the drain, when shorter), it stops, and what was
// left counts as scheduled and not sent.
// With `publish.rate: max` each connection instead publishes whenever its socket can take
// more and its in-flight window (`publish.max_inflight`, QoS 1/2) has room; the intended
// time is then the actual send time. Lost connections are reconnected with exponential
// back-off; messages due while a connection is down are counted, never published late.
// Run() returns after every message was sent and acknowledged, at the drain deadline, or
// when the control fd says stop. Single-threaded; not thread-safe.
//
// What the broker grants is checked against what the scenario asks (mqtt/protocol_check.h):
// an MQTT 5 CONNACK whose Maximum QoS, Retain Available or Maximum Packet Size the
// scenario's publishes exceed fails Connect() with one line saying so (a reconnect that
// meets one later counts it as a protocol mismatch of the report). libmosquitto closes a
// connection on a wrong kind of ack (PUBACK for a QoS 2 PUBLISH, PUBREC for a QoS 1 one:
// "protocol error"); each such loss is counted and, from the second one on a connection,
// named by the packet (see MqttClient::RecordReceivedPackets()). Acks for packet ids it has
// not sent libmosquitto ignores: those messages stay unacknowledged, and a broker that
// acknowledged none of a QoS 1/2 run's messages is a mismatch too.
#ifndef EDGEBENCH_LOAD_LOAD_GENERATOR_H_
#define EDGEBENCH_LOAD_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/base/event_loop.h"
#include "edgebench/base/fd.h"
#include "edgebench/load/worker.h"
#include "edgebench/mqtt/protocol_check.h"

namespace edgebench {

class LoadGenerator {
 public:
  explicit LoadGenerator(const WorkerConfig& config);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Raises the open-files limit if needed and connects every connection.
  Status Connect();
  // `control_fd` is watched for "stop" (or EOF); `on_progress` is called once a second.
  // Requires: Connect() succeeded.
  void Run(const RunClock& clock, int control_fd,
           const std::function<void(const Counters&)>& on_progress);
  WorkerReport TakeReport();
  // Sends DISCONNECT on every connection; after the final report, once the orchestrator's
  // drain is over (so the broker's work for it does not delay the last messages).
  void DisconnectAll();

  struct Connection;
  struct Device;

 private:
  struct ConnectRamp;
  struct RunState;
  struct ProtocolState;

  // Connect(), in order.
  Status CreateClients(int n_conn);
  void AssignDevices(int n_devices);
  ProtocolAsk DevicesAsk() const;
  Status OpenConnections();
  void StartConnection(Connection& c, bool first, ConnectRamp* ramp);
  void RetryLostConnections(uint64_t now, ConnectRamp* ramp);
  void ServeConnecting(int n, ConnectRamp* ramp);

  // The sockets.
  int ServeSocket(Connection& c, uint32_t events);
  void SyncSocket(Connection& c);
  int Wait(uint64_t now_ns, uint64_t deadline_ns);

  // Run(), in order.
  void StartRun(RunState& r, int control_fd);
  uint64_t NextDueNs(RunState& r, Device& d, uint64_t previous_ns);
  bool SendDue(RunState& r, uint64_t now);
  void SendScheduled(RunState& r, uint64_t now, int* burst);
  bool SendAtMaxRate(RunState& r, int* burst);
  int SendConnectionBurst(RunState& r, Connection& c);
  Device* NextUnfinishedDevice(Connection& c);
  void Touch(RunState& r, Connection& c);
  void SyncTouched(RunState& r);
  void Publish(Device& d, Connection& c, uint64_t intended_ns, const RunClock& clock);
  bool AllCounted() const;
  bool SendingOver(const RunState& r, uint64_t now) const;
  bool DoneDraining(RunState& r, uint64_t now);
  void CountBacklog(RunState& r);
  uint64_t WakeNs(const RunState& r, uint64_t now, bool sending_over) const;
  bool HandleEvents(int n);
  void Maintain(uint64_t now, const std::function<void(const Counters&)>& on_progress);
  void Finish(const RunState& r);
  void ReportProtocol(const RunState& r);

  WorkerConfig config_;
  int first_device_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Device> devices_;
  std::optional<EventLoop> loop_;  // made by Connect()
  WorkerReport report_;
  struct PublishBuffers;
  std::unique_ptr<PublishBuffers> buffers_;
  std::unique_ptr<ProtocolState> protocol_;  // made by the constructor, kept across Run()
  uint64_t next_tick_ns_ = 0;
  uint64_t next_maintenance_ns_ = 0;
  size_t devices_done_ = 0;  // devices that have sent publish.count messages
  size_t next_misc_ = 0;     // next connection whose keep-alive is due
};

// The open-files limit needed for `connections` (3 descriptors each in libmosquitto 2.0:
// the socket and a wake-up socket pair), plus a margin.
uint64_t FilesNeededForConnections(uint64_t connections);

// Raises RLIMIT_NOFILE's soft limit to what `connections` need (up to the hard limit).
// Error: "20000 connections need about 60064 open files (3 per connection), but the hard
// limit is 20000; use devices.gateways, more workers, or raise the hard limit (ulimit -Hn)".
Status EnsureOpenFilesLimit(uint64_t connections);

}  // namespace edgebench

#endif  // EDGEBENCH_LOAD_LOAD_GENERATOR_H_
