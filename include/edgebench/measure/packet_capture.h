// PacketCapture: the run's own libpcap capture of the broker's traffic, in-process.
//
// Contract: Open() activates the capture handle (no thread; it may be called before
// fork(), and packets are buffered in the kernel until Start()). Start() starts the one
// thread that reads packets, counts them with WireStats and writes capture.pcap; Stop()
// breaks the loop, joins, reads the drop statistics and closes the file. TakeReport() is
// valid after Stop(). <pcap.h> is included only in packet_capture.cc.
#ifndef EDGEBENCH_MEASURE_PACKET_CAPTURE_H_
#define EDGEBENCH_MEASURE_PACKET_CAPTURE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "edgebench/base/error.h"
#include "edgebench/measure/wire_stats.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct CaptureOptions {
  CaptureSpec spec;         // from the scenario
  std::string broker_host;  // numeric or a name; resolved for the default filter
  int broker_port = 0;
  std::string pcap_path;  // where capture.pcap goes
};

struct CaptureReport {
  std::string interface;
  std::string filter;
  int link_type = 0;
  WireTotals totals;
  std::vector<WireSecond> per_second;
  uint64_t packets_seen = 0;       // packets handed to edgebench (each once, also on lo)
  uint64_t kernel_dropped = 0;     // pcap_stats ps_drop: no room in the capture buffer
  uint64_t interface_dropped = 0;  // pcap_stats ps_ifdrop
  uint64_t pcap_bytes = 0;         // bytes of packet data stored in capture.pcap
  // Why capture.pcap could not be written in full ("" when it was): a full disk, say. The
  // file is written as capture.pcap.partial and renamed to capture.pcap only when complete.
  std::string pcap_error;
  // The kernel capture buffer asked of libpcap and accepted (capture.buffer_mb): libpcap
  // maps it into this process, so the orchestrator's RSS includes it.
  uint64_t buffer_bytes = 0;
  // The most bytes capture.pcap stores per packet, as its file header says: capture.snaplen,
  // the whole packet the live capture takes (262144) for 0, or 156 for auto (the longest
  // headers WireStats parses plus 16 bytes of TCP payload; most packets keep less).
  int snaplen = 0;
};

// How Open() failed, so the caller can pick the exit code and the wording.
enum class CaptureFailure { kNone, kPermission, kBadInterface, kBadFilter, kOther };

class PacketCapture {
 public:
  // Errors: "no permission to capture packets on lo (...); run as root, or grant the
  // capability once: sudo setcap cap_net_raw,cap_net_admin+eip /abs/path/of/this/binary"
  // (kUnavailable),
  // "capture.interface 'eth9' does not exist", "capture.filter ...: syntax error".
  static Result<std::unique_ptr<PacketCapture>> Open(const CaptureOptions& options,
                                                     CaptureFailure* failure);
  ~PacketCapture();
  PacketCapture(const PacketCapture&) = delete;
  PacketCapture& operator=(const PacketCapture&) = delete;

  void Start();
  // `origin_ns` (CLOCK_MONOTONIC, the run's t0) is second 0 of the per-second series.
  // Safe to call while the capture runs.
  void SetOrigin(uint64_t origin_ns);
  void Stop();
  // Requires: Stop() returned.
  CaptureReport TakeReport();

  class Impl;  // the pcap handles; defined in packet_capture.cc

 private:
  explicit PacketCapture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

// "" when `filter` compiles as a BPF expression, else libpcap's message.
std::string CheckCaptureFilter(const std::string& filter);
// "" when `name` is "auto" or a capture device libpcap knows, else the message.
std::string CheckCaptureInterface(const std::string& name);
// The interface that carries traffic to `host`: "lo" for loopback addresses, otherwise the
// interface holding the local address of the route. Error when the host does not resolve.
Result<std::string> InterfaceForHost(const std::string& host);
// The default filter: "tcp and host 127.0.0.1 and port 1883".
Result<std::string> DefaultCaptureFilter(const std::string& host, int port);

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_PACKET_CAPTURE_H_
