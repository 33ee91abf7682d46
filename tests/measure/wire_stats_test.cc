// Tests for src/wire_stats.cc on hand-built Ethernet, VLAN, SLL, NULL and raw IP frames.
#include "edgebench/measure/wire_stats.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

using Bytes = std::vector<unsigned char>;

constexpr uint16_t kBroker = 1883;
constexpr uint16_t kClient = 40000;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;
constexpr size_t kEthIpv4TcpHeaders = 14 + 20 + 20;

void Put16(Bytes& b, size_t at, uint32_t v) {
  b[at] = static_cast<unsigned char>(v >> 8);
  b[at + 1] = static_cast<unsigned char>(v);
}

void Put32(Bytes& b, size_t at, uint32_t v) {
  Put16(b, at, v >> 16);
  Put16(b, at + 2, v & 0xFFFF);
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// One TCP segment; the helpers below wrap it in IP and link-layer headers.
struct Segment {
  uint16_t src_port = kClient;
  uint16_t dst_port = kBroker;
  uint32_t seq = 0;
  uint8_t flags = kAck;
  Bytes payload;
  size_t option_bytes = 0;  // multiple of 4
};

Bytes Tcp(const Segment& s) {
  Bytes b(20 + s.option_bytes, 0x01);  // options: NOPs
  Put16(b, 0, s.src_port);
  Put16(b, 2, s.dst_port);
  Put32(b, 4, s.seq);
  Put32(b, 8, 0);
  b[12] = static_cast<unsigned char>(((20 + s.option_bytes) / 4) << 4);
  b[13] = s.flags;
  Put16(b, 14, 65535);
  Put32(b, 16, 0);  // checksum, urgent pointer
  b.insert(b.end(), s.payload.begin(), s.payload.end());
  return b;
}

// The broker is 10.0.0.2 (or ::2); every client is 10.0.0.1 (or ::1).
unsigned char HostOf(uint16_t port) { return port == kBroker ? 2 : 1; }

Bytes Ipv4(const Segment& s, uint8_t protocol = 6, uint16_t frag = 0) {
  const Bytes tcp = Tcp(s);
  Bytes b(20, 0);
  b[0] = 0x45;
  Put16(b, 2, static_cast<uint32_t>(20 + tcp.size()));
  Put16(b, 6, frag);
  b[8] = 64;
  b[9] = protocol;
  b[12] = 10;
  b[15] = HostOf(s.src_port);
  b[16] = 10;
  b[19] = HostOf(s.dst_port);
  b.insert(b.end(), tcp.begin(), tcp.end());
  return b;
}

Bytes Ipv6(const Segment& s, uint8_t next_header = 6) {
  const Bytes tcp = Tcp(s);
  Bytes b(40, 0);
  b[0] = 0x60;
  Put16(b, 4, static_cast<uint32_t>(tcp.size()));
  b[6] = next_header;
  b[7] = 64;
  b[8] = 0xFD;
  b[23] = HostOf(s.src_port);
  b[24] = 0xFD;
  b[39] = HostOf(s.dst_port);
  b.insert(b.end(), tcp.begin(), tcp.end());
  return b;
}

uint16_t EtherTypeOf(const Bytes& ip) { return (ip[0] >> 4) == 6 ? 0x86DD : 0x0800; }

Bytes Ethernet(const Bytes& ip, bool vlan = false, uint16_t ether_type = 0) {
  Bytes b(vlan ? 18 : 14, 0xAA);
  size_t type_at = 12;
  if (vlan) {
    Put16(b, 12, 0x8100);
    Put16(b, 14, 42);  // VLAN id
    type_at = 16;
  }
  Put16(b, type_at, ether_type != 0 ? ether_type : EtherTypeOf(ip));
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

Bytes Sll(const Bytes& ip) {
  Bytes b(16, 0);
  Put16(b, 2, 1);  // ARPHRD_ETHER
  Put16(b, 4, 6);  // address length
  Put16(b, 14, EtherTypeOf(ip));
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

Bytes Sll2(const Bytes& ip) {
  Bytes b(20, 0);
  Put16(b, 0, EtherTypeOf(ip));
  Put32(b, 4, 3);  // interface index
  Put16(b, 8, 1);  // ARPHRD_ETHER
  b[11] = 6;       // address length
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

Bytes Null(const Bytes& ip, uint32_t family, bool big_endian) {
  Bytes b(4, 0);
  Put32(b, 0, family);
  if (!big_endian) std::reverse(b.begin(), b.end());
  b.insert(b.end(), ip.begin(), ip.end());
  return b;
}

// An MQTT control packet: the first byte, the remaining length, then that many zero bytes
// (a zero byte read as a fixed header is malformed, so a parser that loses its place shows).
Bytes Mqtt(uint8_t first, size_t body_bytes) {
  Bytes b{first};
  size_t n = body_bytes;
  do {
    unsigned char digit = static_cast<unsigned char>(n % 128);
    n /= 128;
    if (n > 0) digit |= 0x80;
    b.push_back(digit);
  } while (n > 0);
  b.resize(b.size() + body_bytes, 0);
  return b;
}

Bytes Publish(size_t body_bytes) { return Mqtt(0x30, body_bytes); }
Bytes Pingreq() { return {0xC0, 0x00}; }
Bytes Connect() { return {0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 2, 'i', 'd'}; }

uint64_t MqttTotal(const DirectionStats& d) {
  return std::accumulate(d.mqtt.begin(), d.mqtt.end(), uint64_t{0});
}

using Framer = Bytes (*)(const Segment&);
Bytes EthIpv4(const Segment& s) { return Ethernet(Ipv4(s)); }

// One direction of a TCP connection, keeping its sequence number.
class Flow {
 public:
  Flow(WireStats& w, uint16_t src_port, uint16_t dst_port, uint32_t isn,
       LinkType link = LinkType::kEthernet, Framer frame = EthIpv4)
      : w_(w),
        link_(link),
        frame_(frame),
        src_port_(src_port),
        dst_port_(dst_port),
        isn_(isn),
        next_(isn + 1) {}

  void Syn() { Add(isn_, kSyn | (src_port_ == kBroker ? kAck : 0), {}, SIZE_MAX); }
  // Sends at the next sequence number; `caplen` cuts the captured frame.
  void Send(const Bytes& payload, size_t caplen = SIZE_MAX) { Add(next_, kAck, payload, caplen); }
  // Sends at `seq`; the flow goes on from the end of this segment.
  void SendAt(uint32_t seq, const Bytes& payload) { Add(seq, kAck, payload, SIZE_MAX); }
  uint32_t next() const { return next_; }
  void set_time_ns(uint64_t t_ns) { t_ns_ = t_ns; }

 private:
  void Add(uint32_t seq, uint8_t flags, const Bytes& payload, size_t caplen) {
    Segment s;
    s.src_port = src_port_;
    s.dst_port = dst_port_;
    s.seq = seq;
    s.flags = flags;
    s.payload = payload;
    const Bytes frame = frame_(s);
    w_.Add(link_, frame.data(), std::min(caplen, frame.size()), t_ns_);
    next_ = seq + ((flags & kSyn) != 0 ? 1 : 0) + static_cast<uint32_t>(payload.size());
  }

  WireStats& w_;
  LinkType link_;
  Framer frame_;
  uint16_t src_port_;
  uint16_t dst_port_;
  uint32_t isn_;
  uint32_t next_;
  uint64_t t_ns_ = 0;
};

TEST_CASE("one PUBLISH in one segment", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  c.Send(Publish(20));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 2);
  CHECK(d.ip_bytes == 40 + 62);
  CHECK(d.tcp_payload_bytes == 22);
  CHECK(d.mqtt[3] == 1);
  CHECK(MqttTotal(d) == 1);
  CHECK(d.retransmissions == 0);
  CHECK(d.mqtt_malformed == 0);
  CHECK(w.totals().from_broker.packets == 0);
  CHECK(w.totals().ignored == 0);
  CHECK(w.totals().unparsed_streams == 0);
}

TEST_CASE("three MQTT packets in one segment are counted exactly", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 7);
  c.Syn();
  c.Send(Concat({Connect(), Publish(10), Pingreq()}));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.tcp_payload_bytes == 16 + 12 + 2);
  CHECK(d.mqtt[1] == 1);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 1);
  CHECK(MqttTotal(d) == 3);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a PUBLISH split over three segments, the first split inside the length", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 50);
  c.Syn();
  const Bytes pub = Publish(321);
  REQUIRE(pub.size() == 324);
  c.Send(Bytes(pub.begin(), pub.begin() + 2));  // 0x30 0xC1: the length goes on
  CHECK(MqttTotal(w.totals().to_broker) == 0);
  c.Send(Bytes(pub.begin() + 2, pub.begin() + 100));
  CHECK(w.totals().to_broker.mqtt[3] == 1);
  c.Send(Concat({Bytes(pub.begin() + 100, pub.end()), Pingreq()}));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 4);
  CHECK(d.tcp_payload_bytes == 326);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 1);
  CHECK(MqttTotal(d) == 2);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("multi-byte remaining lengths", "[wire]") {
  const Bytes pub = Publish(321);
  REQUIRE(pub.size() == 324);
  CHECK(pub[1] == 0xC1);
  CHECK(pub[2] == 0x02);
  const Bytes big = Publish(16384);
  REQUIRE(big.size() == 16388);
  CHECK(big[1] == 0x80);
  CHECK(big[2] == 0x80);
  CHECK(big[3] == 0x01);

  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1);
  c.Syn();
  c.Send(Concat({pub, Pingreq()}));
  c.Send(Concat({big, Pingreq()}));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.mqtt[3] == 2);
  CHECK(d.mqtt[12] == 2);
  CHECK(MqttTotal(d) == 4);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a retransmitted segment is counted once and not parsed again", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  c.Send(Publish(10));
  c.SendAt(1001, Publish(10));
  c.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 4);
  CHECK(d.ip_bytes == 40 + 52 + 52 + 42);
  CHECK(d.tcp_payload_bytes == 12 + 12 + 2);  // bytes on the wire, retransmission included
  CHECK(d.retransmissions == 1);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 1);
  CHECK(MqttTotal(d) == 2);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a partly new segment feeds only its new bytes", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  c.Send(Publish(10));
  c.SendAt(1001, Concat({Publish(10), Pingreq()}));  // old PUBLISH + new PINGREQ
  c.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.retransmissions == 0);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 2);
  CHECK(MqttTotal(d) == 3);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("sequence numbers wrap around 2^32", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 0xFFFFFFF0u);
  c.Syn();
  c.Send(Publish(30));  // bytes 0xFFFFFFF1 .. 0x10
  c.SendAt(0xFFFFFFF1u, Publish(30));
  c.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.retransmissions == 1);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 1);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a gap stops parsing the stream without miscounting", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  c.Send(Publish(10));  // 1001..1012
  const uint32_t hole = c.next();
  c.SendAt(hole + 12, Publish(10));  // the capture lost 1013..1024
  c.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 4);
  CHECK(d.tcp_payload_bytes == 12 + 12 + 2);
  CHECK(d.mqtt[3] == 1);
  CHECK(MqttTotal(d) == 1);
  CHECK(d.mqtt_malformed == 0);
  CHECK(d.retransmissions == 0);
  CHECK(w.totals().unparsed_streams == 0);

  // Data that arrives late to fill the hole is behind the highest end seen; new data after
  // it is counted but no longer parsed.
  const uint32_t end = c.next();
  c.SendAt(hole, Publish(10));
  c.SendAt(end, Publish(10));
  CHECK(d.packets == 6);
  CHECK(d.retransmissions == 1);
  CHECK(MqttTotal(d) == 1);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a stream first seen without its SYN counts bytes only", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 4999);
  c.SendAt(5000, Publish(10));
  c.Send(Pingreq());
  c.SendAt(5000, Publish(10));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 3);
  CHECK(d.ip_bytes == 52 + 42 + 52);
  CHECK(d.tcp_payload_bytes == 12 + 2 + 12);
  CHECK(d.retransmissions == 1);
  CHECK(MqttTotal(d) == 0);
  CHECK(d.mqtt_malformed == 0);
  CHECK(w.totals().unparsed_streams == 1);
}

TEST_CASE("a reused 4-tuple is parsed from its new SYN; a repeated SYN changes nothing", "[wire]") {
  WireStats w(kBroker);
  Flow first(w, kClient, kBroker, 100);
  first.Syn();
  first.Send(Publish(10));
  first.Syn();  // the same ISN again: no reset
  first.SendAt(101 + 12, Pingreq());
  first.SendAt(first.next() + 50, Pingreq());  // a gap ends this connection's parse
  Flow second(w, kClient, kBroker, 90000);
  second.Syn();
  second.Send(Publish(4));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.mqtt[3] == 2);
  CHECK(d.mqtt[12] == 1);
  CHECK(d.retransmissions == 0);
  CHECK(d.mqtt_malformed == 0);
  CHECK(w.totals().unparsed_streams == 0);
}

TEST_CASE("a payload cut by the snaplen is counted from the IP length", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  c.Send(Publish(30), kEthIpv4TcpHeaders + 5);  // header 0x30 0x1E and 3 body bytes seen
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 2);
  CHECK(d.ip_bytes == 40 + 72);
  CHECK(d.tcp_payload_bytes == 32);
  CHECK(d.mqtt[3] == 1);
  c.Send(Concat({Pingreq(), Publish(4)}), kEthIpv4TcpHeaders + 5);
  c.Send(Concat({Publish(1), Pingreq()}));
  CHECK(d.tcp_payload_bytes == 32 + 8 + 5);
  CHECK(d.mqtt[3] == 3);
  CHECK(d.mqtt[12] == 2);
  CHECK(MqttTotal(d) == 5);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("a snaplen cut inside a fixed header stops parsing", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  // Byte 5 is the next PUBLISH's type; its length is not captured.
  c.Send(Concat({Publish(2), Publish(10)}), kEthIpv4TcpHeaders + 5);
  c.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 3);
  CHECK(d.ip_bytes == 40 + 56 + 42);
  CHECK(d.tcp_payload_bytes == 16 + 2);
  CHECK(d.mqtt[3] == 1);
  CHECK(MqttTotal(d) == 1);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("Ethernet padding after a short packet is not parsed", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000);
  c.Syn();
  Segment s;
  s.seq = c.next();
  s.payload = Pingreq();
  Bytes frame = EthIpv4(s);
  REQUIRE(frame.size() == 56);
  frame.resize(60, 0);  // minimum Ethernet frame
  w.Add(LinkType::kEthernet, frame.data(), frame.size(), 0);
  c.SendAt(c.next() + 2, Publish(1));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.ip_bytes == 40 + 42 + 43);
  CHECK(d.tcp_payload_bytes == 2 + 3);
  CHECK(d.mqtt[12] == 1);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt_malformed == 0);
}

TEST_CASE("non-TCP, other ports, fragments and short frames are ignored", "[wire]") {
  WireStats w(kBroker);
  Segment s;
  s.payload = Publish(4);
  const Bytes udp = Ethernet(Ipv4(s, 17));
  const Bytes first_fragment = Ethernet(Ipv4(s, 6, 0x2000));  // MF
  const Bytes later_fragment = Ethernet(Ipv4(s, 6, 0x0010));  // offset 16 * 8
  const Bytes arp = Ethernet(Ipv4(s), false, 0x0806);
  const Bytes hop_by_hop = Ethernet(Ipv6(s, 0));
  const Bytes tcp = EthIpv4(s);
  Segment other = s;
  other.dst_port = 8080;
  const Bytes other_port = EthIpv4(other);
  for (const Bytes* f : {&udp, &first_fragment, &later_fragment, &arp, &hop_by_hop, &other_port}) {
    w.Add(LinkType::kEthernet, f->data(), f->size(), 0);
  }
  w.Add(LinkType::kEthernet, tcp.data(), kEthIpv4TcpHeaders - 1, 0);  // TCP header cut
  w.Add(LinkType::kEthernet, tcp.data(), 10, 0);
  w.Add(static_cast<LinkType>(147), tcp.data(), tcp.size(), 0);  // a DLT we do not know
  w.Add(LinkType::kRawIpv4, tcp.data(), tcp.size(), 0);          // Ethernet bytes as IP
  CHECK(w.totals().ignored == 10);
  CHECK(w.totals().to_broker.packets == 0);
  CHECK(w.totals().from_broker.packets == 0);
  CHECK(w.totals().unparsed_streams == 0);
  CHECK(w.per_second().empty());
}

TEST_CASE("an 802.1Q VLAN tag", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 1000, LinkType::kEthernet,
         [](const Segment& s) { return Ethernet(Ipv4(s), true); });
  c.Syn();
  c.Send(Publish(10));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 2);
  CHECK(d.ip_bytes == 40 + 52);
  CHECK(d.tcp_payload_bytes == 12);
  CHECK(d.mqtt[3] == 1);
  CHECK(w.totals().ignored == 0);
}

TEST_CASE("IPv6 over Ethernet and raw IPv6", "[wire]") {
  WireStats w(kBroker);
  Flow eth(w, kClient, kBroker, 1000, LinkType::kEthernet,
           [](const Segment& s) { return Ethernet(Ipv6(s)); });
  eth.Syn();
  eth.Send(Publish(10));
  Flow raw(w, kClient + 1, kBroker, 2000, LinkType::kRaw, [](const Segment& s) { return Ipv6(s); });
  raw.Syn();
  raw.Send(Pingreq());
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 4);
  CHECK(d.ip_bytes == 60 + 72 + 60 + 62);
  CHECK(d.tcp_payload_bytes == 12 + 2);
  CHECK(d.mqtt[3] == 1);
  CHECK(d.mqtt[12] == 1);
  CHECK(w.totals().ignored == 0);
  CHECK(w.totals().unparsed_streams == 0);
}

TEST_CASE("IPv4 and IPv6 streams with the same ports are distinct", "[wire]") {
  WireStats w(kBroker);
  Flow v4(w, kClient, kBroker, 1000);
  Flow v6(w, kClient, kBroker, 1000, LinkType::kEthernet,
          [](const Segment& s) { return Ethernet(Ipv6(s)); });
  v4.Syn();
  v6.SendAt(5000, Pingreq());  // no SYN: a separate, unparsed stream
  v4.Send(Publish(10));
  CHECK(w.totals().to_broker.mqtt[3] == 1);
  CHECK(w.totals().to_broker.mqtt[12] == 0);
  CHECK(w.totals().unparsed_streams == 1);
}

TEST_CASE("Linux cooked captures, SLL and SLL2", "[wire]") {
  WireStats w(kBroker);
  Flow sll(w, kClient, kBroker, 1000, LinkType::kLinuxSll,
           [](const Segment& s) { return Sll(Ipv4(s)); });
  Flow sll2(w, kClient + 1, kBroker, 2000, LinkType::kLinuxSll2,
            [](const Segment& s) { return Sll2(Ipv6(s)); });
  sll.Syn();
  sll2.Syn();
  sll.Send(Publish(10));
  sll2.Send(Concat({Publish(3), Pingreq()}));
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 4);
  CHECK(d.ip_bytes == 40 + 52 + 60 + 67);
  CHECK(d.tcp_payload_bytes == 12 + 7);
  CHECK(d.mqtt[3] == 2);
  CHECK(d.mqtt[12] == 1);
  CHECK(w.totals().ignored == 0);
}

TEST_CASE("BSD loopback families in either byte order", "[wire]") {
  WireStats w(kBroker);
  Flow ipv4_le(w, kClient, kBroker, 1, LinkType::kNull,
               [](const Segment& s) { return Null(Ipv4(s), 2, false); });
  Flow ipv6_be(w, kClient + 1, kBroker, 2, LinkType::kLoop,
               [](const Segment& s) { return Null(Ipv6(s), 30, true); });
  Flow ipv6_le(w, kClient + 2, kBroker, 3, LinkType::kNull,
               [](const Segment& s) { return Null(Ipv6(s), 24, false); });
  Flow linux_ipv6(w, kClient + 3, kBroker, 4, LinkType::kNull,
                  [](const Segment& s) { return Null(Ipv6(s), 10, false); });
  Flow unknown(w, kClient + 4, kBroker, 5, LinkType::kNull,
               [](const Segment& s) { return Null(Ipv4(s), 99, false); });
  Flow mismatch(w, kClient + 5, kBroker, 6, LinkType::kNull,
                [](const Segment& s) { return Null(Ipv4(s), 28, true); });
  for (Flow* f : {&ipv4_le, &ipv6_be, &ipv6_le, &linux_ipv6, &unknown, &mismatch}) {
    f->Syn();
    f->Send(Pingreq());
  }
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 8);
  CHECK(d.ip_bytes == (40 + 42) + 3 * (60 + 62));
  CHECK(d.mqtt[12] == 4);
  CHECK(w.totals().ignored == 4);
}

TEST_CASE("both directions of a connection", "[wire]") {
  WireStats w(kBroker);
  Flow c(w, kClient, kBroker, 100);
  Flow b(w, kBroker, kClient, 9000);
  c.Syn();
  b.Syn();  // SYN-ACK
  c.Send(Connect());
  b.Send({0x20, 0x02, 0x00, 0x00});  // CONNACK
  c.Send(Mqtt(0x32, 10));            // PUBLISH QoS 1
  b.Send({0x40, 0x02, 0x00, 0x01});  // PUBACK
  const WireTotals& t = w.totals();
  CHECK(t.to_broker.packets == 3);
  CHECK(t.to_broker.ip_bytes == 40 + 56 + 52);
  CHECK(t.to_broker.tcp_payload_bytes == 16 + 12);
  CHECK(t.to_broker.mqtt[1] == 1);
  CHECK(t.to_broker.mqtt[3] == 1);
  CHECK(MqttTotal(t.to_broker) == 2);
  CHECK(t.from_broker.packets == 3);
  CHECK(t.from_broker.ip_bytes == 40 + 44 + 44);
  CHECK(t.from_broker.tcp_payload_bytes == 8);
  CHECK(t.from_broker.mqtt[2] == 1);
  CHECK(t.from_broker.mqtt[4] == 1);
  CHECK(MqttTotal(t.from_broker) == 2);
  CHECK(t.unparsed_streams == 0);
  CHECK(t.ignored == 0);
}

TEST_CASE("per-second buckets of IP bytes", "[wire]") {
  constexpr uint64_t kSecond = 1'000'000'000;
  WireStats w(kBroker);
  w.SetOrigin(10 * kSecond);
  Flow c(w, kClient, kBroker, 100);
  Flow b(w, kBroker, kClient, 9000);
  c.set_time_ns(9 * kSecond);  // before the origin: bucket 0
  c.Syn();
  c.set_time_ns(10 * kSecond + kSecond / 2);
  c.Send(Publish(10));
  b.set_time_ns(11 * kSecond);
  b.Syn();
  c.set_time_ns(13 * kSecond - 1);
  c.Send(Pingreq());
  Segment udp;
  const Bytes ignored = Ethernet(Ipv4(udp, 17));
  w.Add(LinkType::kEthernet, ignored.data(), ignored.size(), 30 * kSecond);
  const std::vector<WireSecond>& s = w.per_second();
  REQUIRE(s.size() == 3);
  CHECK(s[0].bytes_to_broker == 40 + 52);
  CHECK(s[0].bytes_from_broker == 0);
  CHECK(s[1].bytes_to_broker == 0);
  CHECK(s[1].bytes_from_broker == 40);
  CHECK(s[2].bytes_to_broker == 42);
  CHECK(s[2].bytes_from_broker == 0);
}

TEST_CASE("HeaderBytes", "[wire]") {
  Segment s;
  s.payload = Publish(10);
  Segment opts = s;
  opts.option_bytes = 12;
  const Bytes eth = EthIpv4(s);
  const Bytes eth_opts = EthIpv4(opts);
  const Bytes vlan = Ethernet(Ipv4(s), true);
  const Bytes eth6 = Ethernet(Ipv6(s));
  const Bytes sll = Sll(Ipv4(s));
  const Bytes sll2 = Sll2(Ipv6(s));
  const Bytes null = Null(Ipv4(s), 2, false);
  const Bytes raw4 = Ipv4(s);
  const Bytes raw6 = Ipv6(s);
  const Bytes udp = Ethernet(Ipv4(s, 17));
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth.data(), eth.size()) == 54);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth_opts.data(), eth_opts.size()) == 66);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, vlan.data(), vlan.size()) == 58);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth6.data(), eth6.size()) == 74);
  CHECK(WireStats::HeaderBytes(LinkType::kLinuxSll, sll.data(), sll.size()) == 56);
  CHECK(WireStats::HeaderBytes(LinkType::kLinuxSll2, sll2.data(), sll2.size()) == 80);
  CHECK(WireStats::HeaderBytes(LinkType::kNull, null.data(), null.size()) == 44);
  CHECK(WireStats::HeaderBytes(LinkType::kRaw, raw4.data(), raw4.size()) == 40);
  CHECK(WireStats::HeaderBytes(LinkType::kRawIpv4, raw4.data(), raw4.size()) == 40);
  CHECK(WireStats::HeaderBytes(LinkType::kRawIpv6, raw6.data(), raw6.size()) == 60);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, udp.data(), udp.size()) == 0);
  CHECK(WireStats::HeaderBytes(LinkType::kLinuxSll, eth.data(), eth.size()) == 0);
  // The fixed TCP header must be captured; its options need not be.
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth.data(), 54) == 54);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth.data(), 53) == 0);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth_opts.data(), 54) == 66);
  CHECK(WireStats::HeaderBytes(LinkType::kEthernet, eth.data(), 0) == 0);
}

TEST_CASE("malformed MQTT headers stop the stream's parse", "[wire]") {
  WireStats w(kBroker);
  Flow type0(w, kClient, kBroker, 100);
  type0.Syn();
  type0.Send({0x00, 0x00});
  type0.Send(Publish(2));
  Flow long_length(w, kClient + 1, kBroker, 200);
  long_length.Syn();
  long_length.Send({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});  // a fifth length byte
  long_length.Send(Pingreq());
  Flow max_length(w, kClient + 2, kBroker, 300);
  max_length.Syn();
  max_length.Send({0x30, 0xFF, 0xFF, 0xFF, 0x7F});  // 268435455: the largest allowed
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.mqtt_malformed == 2);
  CHECK(d.mqtt[3] == 1);
  CHECK(MqttTotal(d) == 1);
  CHECK(d.packets == 3 + 3 + 2);
}

TEST_CASE("many concurrent streams", "[wire]") {
  WireStats w(kBroker);
  std::vector<Flow> flows;
  flows.reserve(3000);
  for (uint16_t i = 0; i < 3000; ++i) {
    flows.emplace_back(w, static_cast<uint16_t>(10000 + i), kBroker, uint32_t{i} * 7919);
  }
  for (Flow& f : flows) f.Syn();
  // Interleaved: each stream's parser must keep its own place.
  for (Flow& f : flows) f.Send({0x30, 0x05});
  for (Flow& f : flows) f.Send({0x00, 0x01, 't', 0x00, 0x00, 0xC0});
  for (Flow& f : flows) f.Send({0x00});
  const DirectionStats& d = w.totals().to_broker;
  CHECK(d.packets == 12000);  // SYN + 3 segments each
  CHECK(d.mqtt[3] == 3000);
  CHECK(d.mqtt[12] == 3000);
  CHECK(MqttTotal(d) == 6000);
  CHECK(d.mqtt_malformed == 0);
  CHECK(w.totals().unparsed_streams == 0);
}

}  // namespace
}  // namespace edgebench
