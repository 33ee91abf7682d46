// WireStats: turns captured packets into per-direction traffic and MQTT packet counts.
//
// Contract: pure computation on packet bytes (no libpcap, no I/O), so it is unit-tested on
// hand-made frames. Feed every captured packet, in capture order, with its link-layer type
// and its length on the wire; packets that are not TCP to or from the broker's port are
// counted as `ignored`. A TCP stream is parsed for MQTT only from its SYN on (so the parser
// knows where the first MQTT packet starts); streams first seen mid-way count bytes only.
// A sequence gap (the capture dropped or reordered a segment) or an MQTT fixed header cut by
// the snaplen ends a stream's parse without an error, so MQTT counts are lower bounds.
// Cost per packet: one hash lookup; memory grows only with new streams (never freed).
// Not thread-safe: one owner (the capture thread), read after it stops.
#ifndef EDGEBENCH_MEASURE_WIRE_STATS_H_
#define EDGEBENCH_MEASURE_WIRE_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "edgebench/mqtt/frame.h"

namespace edgebench {

// Link-layer types, with the numeric values of libpcap's DLT_* constants.
enum class LinkType : int {
  kNull = 0,
  kEthernet = 1,
  kRaw = 12,
  kLoop = 108,
  kLinuxSll = 113,
  kLinuxSll2 = 276,
  kRawIpv4 = 228,
  kRawIpv6 = 229
};

// MQTT control packet types 1..15 (index 0 unused).
inline constexpr std::array<const char*, 16> kMqttPacketNames = {
    "RESERVED", "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
    "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
    "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH"};

struct DirectionStats {
  uint64_t packets = 0;
  uint64_t ip_bytes = 0;            // IP header + payload, as on the wire (from the IP length)
  uint64_t tcp_payload_bytes = 0;   // TCP segment data
  uint64_t retransmissions = 0;     // segments whose data was already seen in this stream
  std::array<uint64_t, 16> mqtt{};  // MQTT control packets by type
  uint64_t mqtt_malformed = 0;      // impossible headers: the stream's parse was abandoned
};

struct WireTotals {
  DirectionStats to_broker;
  DirectionStats from_broker;
  uint64_t ignored = 0;           // not TCP, not IP, or not on the broker's port
  uint64_t unparsed_streams = 0;  // streams first seen without their SYN (bytes only)
};

// One per-second bucket of IP bytes.
struct WireSecond {
  uint64_t bytes_to_broker = 0;
  uint64_t bytes_from_broker = 0;
};

class WireStats {
 public:
  // `broker_port` identifies the broker side of each TCP connection.
  explicit WireStats(int broker_port);

  // `data`/`caplen`: the captured bytes (may be cut short of the packet); `t_ns` is used for
  // the per-second series (bucket = (t_ns - origin_ns) / 1 s; packets before origin go to 0).
  void Add(LinkType link, const unsigned char* data, size_t caplen, uint64_t t_ns);
  void SetOrigin(uint64_t origin_ns) { origin_ns_ = origin_ns; }

  const WireTotals& totals() const { return totals_; }
  const std::vector<WireSecond>& per_second() const { return per_second_; }

  // Bytes of link, IP and TCP headers of a captured packet, or 0 when it is not TCP/IP.
  // Used to cut stored packets to "headers plus N bytes".
  // Also 0 when `caplen` does not reach the end of the fixed 20-byte TCP header, and for IP
  // fragments and IPv6 extension headers (which Add() ignores). The result may exceed
  // `caplen` when TCP options are cut.
  static size_t HeaderBytes(LinkType link, const unsigned char* data, size_t caplen);

 private:
  // One direction of one TCP connection. IPv4 addresses use the first 4 bytes of the arrays.
  struct StreamKey {
    std::array<unsigned char, 16> src_ip{};
    std::array<unsigned char, 16> dst_ip{};
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint8_t ip_version = 0;
    bool operator==(const StreamKey&) const = default;
  };
  struct StreamKeyHash {
    size_t operator()(const StreamKey& k) const;
  };

  struct Stream {
    uint32_t isn = 0;
    uint32_t next_seq = 0;     // next byte the MQTT parser expects (meaningful while parsing)
    uint32_t highest_end = 0;  // seq + len of the furthest data seen (meaningful if have_end)
    bool have_isn = false;
    bool have_end = false;
    bool parsing = false;  // from the SYN on, until a gap, a cut fixed header or bad data
    MqttFrameDecoder mqtt{MqttFrameDecoder::Mode::kHeadersOnly};  // shared with the collector
  };

  static void AddSegment(Stream& s, DirectionStats& d, uint32_t seq, uint32_t len,
                         std::span<const unsigned char> captured);
  static void FeedMqtt(Stream& s, DirectionStats& d, const unsigned char* p, size_t n);
  static void SkipMqtt(Stream& s, size_t n);
  void AddToSecond(uint64_t t_ns, bool to_broker, uint64_t ip_bytes);

  int broker_port_;
  uint64_t origin_ns_ = 0;
  WireTotals totals_;
  std::vector<WireSecond> per_second_;
  std::unordered_map<StreamKey, Stream, StreamKeyHash> streams_;  // never erased
};

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_WIRE_STATS_H_
