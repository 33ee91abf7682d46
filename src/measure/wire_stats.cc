// WireStats: link/IP/TCP header parsing, per-stream sequence tracking and an MQTT framing parser.
#include "edgebench/measure/wire_stats.h"

#include <algorithm>
#include <cstring>

namespace edgebench {
namespace {

constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kIpProtoTcp = 6;
constexpr size_t kTcpMinHeader = 20;
constexpr uint64_t kNsPerSecond = 1'000'000'000;

// Fields are read byte by byte: captured data has no alignment guarantee.
uint16_t Be16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint32_t Le32(const unsigned char* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

// a - b as a signed distance in sequence space (RFC 1982), so comparisons survive wrap-around.
int32_t SeqDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

struct TcpPacket {
  std::array<unsigned char, 16> src_ip{};
  std::array<unsigned char, 16> dst_ip{};
  uint8_t ip_version = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
  uint32_t ip_bytes = 0;       // from the IP header, not from caplen
  uint32_t payload_bytes = 0;  // likewise
  size_t header_bytes = 0;     // link + IP + TCP: where the payload starts in the capture
};

// IP version announced by an EtherType, or 0 when it is not IP.
int VersionFromEtherType(uint16_t type) {
  if (type == 0x0800) return 4;
  if (type == 0x86DD) return 6;
  return 0;
}

// BSD loopback address family. DLT_NULL stores it in host order and DLT_LOOP in network order,
// and the captured host may differ from ours, so accept both. IPv6 differs between BSDs.
int VersionFromFamily(uint32_t family) {
  if (family == 2) return 4;
  if (family == 10 || family == 24 || family == 28 || family == 30) return 6;
  return 0;
}

// Finds the IP header after the link header. Sets `version` to the IP version the link layer
// announces, or 0 when the IP header's first nibble decides. False when it is not IP.
bool SkipLinkHeader(LinkType link, const unsigned char* data, size_t caplen, size_t* offset,
                    int* version) {
  switch (link) {
    case LinkType::kEthernet: {
      if (caplen < 14) return false;
      uint16_t type = Be16(data + 12);
      *offset = 14;
      if (type == 0x8100) {  // one 802.1Q tag: TCI, then the real EtherType
        if (caplen < 18) return false;
        type = Be16(data + 16);
        *offset = 18;
      }
      *version = VersionFromEtherType(type);
      return *version != 0;
    }
    case LinkType::kLinuxSll:
      if (caplen < 16) return false;
      *offset = 16;
      *version = VersionFromEtherType(Be16(data + 14));
      return *version != 0;
    case LinkType::kLinuxSll2:
      if (caplen < 20) return false;
      *offset = 20;
      *version = VersionFromEtherType(Be16(data));
      return *version != 0;
    case LinkType::kNull:
    case LinkType::kLoop: {
      if (caplen < 4) return false;
      *offset = 4;
      *version = VersionFromFamily(Be32(data));
      if (*version == 0) *version = VersionFromFamily(Le32(data));
      return *version != 0;
    }
    case LinkType::kRaw:
    case LinkType::kRawIpv4:
    case LinkType::kRawIpv6:
      *offset = 0;
      *version = 0;
      return true;
  }
  return false;  // a DLT we do not know
}

// Fills the IP part of `pkt` and returns the offset of the TCP header, or 0 when the packet is
// not a whole-enough, unfragmented TCP packet.
size_t ParseIp(const unsigned char* data, size_t caplen, size_t off, TcpPacket* pkt) {
  if (caplen <= off) return 0;
  const int version = data[off] >> 4;
  if (version == 4) {
    if (caplen < off + 20) return 0;
    const size_t ihl = size_t{data[off] & 0x0Fu} * 4;
    const uint16_t total = Be16(data + off + 2);
    const uint16_t frag = Be16(data + off + 6);
    // Fragments other than a lone whole datagram: a later fragment has no TCP header, and the
    // first one's TCP payload length cannot be told from its IP length.
    if (ihl < 20 || total < ihl || (frag & 0x3FFF) != 0) return 0;
    if (data[off + 9] != kIpProtoTcp || caplen < off + ihl) return 0;
    pkt->ip_version = 4;
    std::memcpy(pkt->src_ip.data(), data + off + 12, 4);
    std::memcpy(pkt->dst_ip.data(), data + off + 16, 4);
    pkt->ip_bytes = total;
    pkt->payload_bytes = static_cast<uint32_t>(total - ihl);  // TCP header still included
    return off + ihl;
  }
  if (version == 6) {
    if (caplen < off + 40) return 0;
    // Extension headers are not walked: anything but TCP right after the header is ignored.
    if (data[off + 6] != kIpProtoTcp) return 0;
    const uint16_t payload = Be16(data + off + 4);
    pkt->ip_version = 6;
    std::memcpy(pkt->src_ip.data(), data + off + 8, 16);
    std::memcpy(pkt->dst_ip.data(), data + off + 24, 16);
    pkt->ip_bytes = 40u + payload;
    pkt->payload_bytes = payload;
    return off + 40;
  }
  return 0;
}

// Parses the link, IP and TCP headers. False for anything that is not TCP over IP, or whose
// fixed TCP header is not captured.
bool ParseTcpPacket(LinkType link, const unsigned char* data, size_t caplen, TcpPacket* pkt) {
  size_t ip_off = 0;
  int link_version = 0;
  if (!SkipLinkHeader(link, data, caplen, &ip_off, &link_version)) return false;
  const size_t tcp_off = ParseIp(data, caplen, ip_off, pkt);
  if (tcp_off == 0) return false;
  if (link_version != 0 && link_version != pkt->ip_version) return false;
  if (caplen < tcp_off + kTcpMinHeader) return false;
  const unsigned char* tcp = data + tcp_off;
  const uint32_t tcp_header = static_cast<uint32_t>(tcp[12] >> 4) * 4;
  if (tcp_header < kTcpMinHeader || pkt->payload_bytes < tcp_header) return false;
  pkt->src_port = Be16(tcp);
  pkt->dst_port = Be16(tcp + 2);
  pkt->seq = Be32(tcp + 4);
  pkt->flags = tcp[13];
  pkt->payload_bytes -= tcp_header;
  pkt->header_bytes = tcp_off + tcp_header;
  return true;
}

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

size_t WireStats::StreamKeyHash::operator()(const StreamKey& k) const {
  uint64_t words[4];
  std::memcpy(&words[0], k.src_ip.data(), 16);
  std::memcpy(&words[2], k.dst_ip.data(), 16);
  uint64_t h = (uint64_t{k.src_port} << 32) | (uint64_t{k.dst_port} << 8) | k.ip_version;
  for (uint64_t w : words) h = (h ^ w) * 0x9E3779B97F4A7C15ull + (h >> 29);
  return static_cast<size_t>(Mix(h));
}

WireStats::WireStats(int broker_port) : broker_port_(broker_port) { streams_.reserve(1024); }

size_t WireStats::HeaderBytes(LinkType link, const unsigned char* data, size_t caplen) {
  TcpPacket pkt;
  return ParseTcpPacket(link, data, caplen, &pkt) ? pkt.header_bytes : 0;
}

void WireStats::Add(LinkType link, const unsigned char* data, size_t caplen, uint64_t t_ns) {
  TcpPacket pkt;
  if (!ParseTcpPacket(link, data, caplen, &pkt)) {
    ++totals_.ignored;
    return;
  }
  bool to_broker = false;
  if (pkt.dst_port == broker_port_) {
    to_broker = true;
  } else if (pkt.src_port != broker_port_) {
    ++totals_.ignored;
    return;
  }
  DirectionStats& d = to_broker ? totals_.to_broker : totals_.from_broker;
  ++d.packets;
  d.ip_bytes += pkt.ip_bytes;
  d.tcp_payload_bytes += pkt.payload_bytes;
  AddToSecond(t_ns, to_broker, pkt.ip_bytes);

  StreamKey key;
  key.src_ip = pkt.src_ip;
  key.dst_ip = pkt.dst_ip;
  key.src_port = pkt.src_port;
  key.dst_port = pkt.dst_port;
  key.ip_version = pkt.ip_version;
  auto [it, inserted] = streams_.try_emplace(key);
  Stream& s = it->second;
  const bool syn = (pkt.flags & kTcpSyn) != 0;
  // A SYN with a new ISN on a known stream is the 4-tuple being reused by a new connection;
  // a SYN with the same ISN is a retransmitted SYN and changes nothing.
  if (syn && (!s.have_isn || s.isn != pkt.seq)) {
    s = Stream{};
    s.isn = pkt.seq;
    s.have_isn = true;
    s.next_seq = pkt.seq + 1;
    s.highest_end = s.next_seq;
    s.have_end = true;
    s.parsing = true;
  } else if (inserted) {
    ++totals_.unparsed_streams;
  }
  if (pkt.payload_bytes == 0) return;

  // The SYN takes one sequence number, so data on a SYN (TCP Fast Open) starts after it.
  const uint32_t seq = syn ? pkt.seq + 1 : pkt.seq;
  std::span<const unsigned char> captured;  // empty when the snaplen ends in the headers
  if (caplen > pkt.header_bytes) {
    captured = {data + pkt.header_bytes,
                std::min<size_t>(caplen - pkt.header_bytes, pkt.payload_bytes)};
  }
  AddSegment(s, d, seq, pkt.payload_bytes, captured);
}

void WireStats::AddSegment(Stream& s, DirectionStats& d, uint32_t seq, uint32_t len,
                           std::span<const unsigned char> captured) {
  const uint32_t end = seq + len;
  if (s.have_end && SeqDiff(end, s.highest_end) <= 0) {
    ++d.retransmissions;
    return;
  }
  s.highest_end = end;
  s.have_end = true;
  if (!s.parsing) return;
  if (SeqDiff(seq, s.next_seq) > 0) {
    // Bytes the parser needs were never seen, so it no longer knows where packets start.
    s.parsing = false;
    return;
  }
  // Not a retransmission, so next_seq (== the old highest end) lies inside this segment:
  // skip what the parser has already had.
  const uint32_t already_seen = s.next_seq - seq;
  s.next_seq = end;
  size_t fresh_captured = 0;
  if (captured.size() > already_seen) {
    fresh_captured = captured.size() - already_seen;
    FeedMqtt(s, d, captured.data() + already_seen, fresh_captured);
  }
  SkipMqtt(s, len - already_seen - fresh_captured);
}

// Counts each MQTT packet once its fixed header is complete.
void WireStats::FeedMqtt(Stream& s, DirectionStats& d, const unsigned char* p, size_t n) {
  if (!s.mqtt.Feed(p, n, [&d](const MqttFrame& f) { ++d.mqtt[f.type]; })) {
    ++d.mqtt_malformed;
    s.parsing = false;
  }
}

// Accounts for `n` payload bytes that were on the wire but not captured (snaplen). Only a packet
// body of known length can be skipped blind; a fixed header in the gap loses the framing.
void WireStats::SkipMqtt(Stream& s, size_t n) {
  if (n == 0 || !s.parsing) return;
  if (!s.mqtt.Skip(n)) s.parsing = false;
}

void WireStats::AddToSecond(uint64_t t_ns, bool to_broker, uint64_t ip_bytes) {
  const size_t bucket =
      t_ns < origin_ns_ ? 0 : static_cast<size_t>((t_ns - origin_ns_) / kNsPerSecond);
  if (bucket >= per_second_.size()) per_second_.resize(bucket + 1);
  WireSecond& sec = per_second_[bucket];
  (to_broker ? sec.bytes_to_broker : sec.bytes_from_broker) += ip_bytes;
}

}  // namespace edgebench
