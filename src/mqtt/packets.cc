// Encoding and parsing of the MQTT packets the collector uses (MQTT 3.1.1 section 3, MQTT 5
// section 3).
#include "edgebench/mqtt/packets.h"

#include <cstddef>

namespace edgebench {
namespace {

void Put16(uint16_t v, Bytes* out) {
  out->push_back(static_cast<unsigned char>(v >> 8));
  out->push_back(static_cast<unsigned char>(v & 0xFF));
}

void PutString(const std::string& s, Bytes* out) {
  Put16(static_cast<uint16_t>(s.size()), out);
  out->insert(out->end(), s.begin(), s.end());
}

void PutVarint(uint32_t v, Bytes* out) {
  do {
    unsigned char b = static_cast<unsigned char>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    out->push_back(b);
  } while (v != 0);
}

// The fixed header, then `body`.
void PutPacket(unsigned char first, const Bytes& body, Bytes* out) {
  out->push_back(first);
  PutVarint(static_cast<uint32_t>(body.size()), out);
  out->insert(out->end(), body.begin(), body.end());
}

// Reads a variable byte integer at body[*i]; false when it runs past the end.
bool GetVarint(std::span<const unsigned char> body, size_t* i, uint32_t* v) {
  *v = 0;
  for (int k = 0; k < 4 && *i < body.size(); ++k) {
    const unsigned char b = body[(*i)++];
    *v |= uint32_t{b & 0x7Fu} << (7 * k);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

uint16_t Get16(std::span<const unsigned char> body, size_t i) {
  return static_cast<uint16_t>((body[i] << 8) | body[i + 1]);
}

// MQTT 5: skips a property block at body[*i].
bool SkipProperties(std::span<const unsigned char> body, size_t* i) {
  uint32_t length = 0;
  if (!GetVarint(body, i, &length) || length > body.size() - *i) return false;
  *i += length;
  return true;
}

void PutConnectProperties(const MqttClientOptions& o, Bytes* body) {
  Bytes props;
  if (o.session_expiry_s > 0) {
    props.push_back(0x11);  // Session Expiry Interval, four bytes
    const auto v = static_cast<uint32_t>(o.session_expiry_s);
    for (int shift = 24; shift >= 0; shift -= 8) {
      props.push_back(static_cast<unsigned char>((v >> shift) & 0xFF));
    }
  }
  for (const auto& [name, value] : o.user_properties) {
    props.push_back(0x26);  // User Property: a UTF-8 string pair
    PutString(name, &props);
    PutString(value, &props);
  }
  PutVarint(static_cast<uint32_t>(props.size()), body);
  body->insert(body->end(), props.begin(), props.end());
}

// The size of the value of CONNACK property `id` at props[i] (MQTT 5 section 3.2.2.3);
// 0 for an id a CONNACK cannot carry.
size_t PropertyValueSize(unsigned char id, std::span<const unsigned char> props, size_t i) {
  auto string_at = [&](size_t at) -> size_t {
    return at + 2 <= props.size() ? 2 + size_t{Get16(props, at)} : props.size() + 1;
  };
  switch (id) {
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A:  // bytes
      return 1;
    case 0x21:
    case 0x22:
    case 0x13:  // two-byte integers
      return 2;
    case 0x11:
    case 0x27:  // four-byte integers
      return 4;
    case 0x12:
    case 0x1F:
    case 0x1A:
    case 0x1C:
    case 0x15:
    case 0x16:  // strings, binary data
      return string_at(i);
    case 0x26: {  // a string pair
      const size_t name = string_at(i);
      return name + string_at(i + name);
    }
    default:
      return 0;
  }
}

bool ParseConnackProperties(std::span<const unsigned char> props, ConnackProperties* out) {
  size_t i = 0;
  while (i < props.size()) {
    const unsigned char id = props[i++];
    const size_t n = PropertyValueSize(id, props, i);
    if (n == 0 || n > props.size() - i) return false;
    const uint32_t v = n == 1   ? props[i]
                       : n == 2 ? Get16(props, i)
                       : n == 4 ? (uint32_t{Get16(props, i)} << 16) | Get16(props, i + 2)
                                : 0;
    switch (id) {
      case 0x24:
        out->maximum_qos = static_cast<int>(v);
        break;
      case 0x25:
        out->retain_available = v != 0;
        break;
      case 0x21:
        out->receive_maximum = static_cast<int>(v);
        break;
      case 0x27:
        out->maximum_packet_size = v;
        break;
      case 0x22:
        out->topic_alias_maximum = static_cast<int>(v);
        break;
      case 0x28:
        out->wildcard_subscription_available = v != 0;
        break;
      case 0x2A:
        out->shared_subscription_available = v != 0;
        break;
      case 0x13:
        out->server_keepalive_s = static_cast<int>(v);
        break;
      default:
        break;
    }
    i += n;
  }
  return true;
}

}  // namespace

void AppendConnect(const MqttClientOptions& o, Bytes* out) {
  Bytes body;
  PutString("MQTT", &body);
  body.push_back(static_cast<unsigned char>(o.protocol == 5 ? 5 : 4));
  unsigned char flags = o.clean_session ? 0x02 : 0x00;
  if (!o.username.empty()) flags |= 0x80;
  if (!o.password.empty()) flags |= 0x40;
  body.push_back(flags);
  Put16(static_cast<uint16_t>(o.keepalive_s), &body);
  if (o.protocol == 5) PutConnectProperties(o, &body);
  PutString(o.client_id, &body);
  if (!o.username.empty()) PutString(o.username, &body);
  if (!o.password.empty()) PutString(o.password, &body);
  PutPacket(kMqttConnect << 4, body, out);
}

void AppendSubscribe(int protocol, uint16_t packet_id, const std::string& filter, int qos,
                     Bytes* out) {
  Bytes body;
  Put16(packet_id, &body);
  if (protocol == 5) body.push_back(0);  // no properties
  PutString(filter, &body);
  body.push_back(static_cast<unsigned char>(qos));
  PutPacket((kMqttSubscribe << 4) | 0x02, body, out);
}

void AppendAck(MqttPacketType type, uint16_t packet_id, Bytes* out) {
  const unsigned char flags = type == kMqttPubrel ? 0x02 : 0x00;
  const unsigned char ack[4] = {static_cast<unsigned char>((type << 4) | flags), 2,
                                static_cast<unsigned char>(packet_id >> 8),
                                static_cast<unsigned char>(packet_id & 0xFF)};
  out->insert(out->end(), ack, ack + 4);
}

void AppendPingreq(Bytes* out) {
  out->push_back(kMqttPingreq << 4);
  out->push_back(0);
}

void AppendDisconnect(Bytes* out) {
  out->push_back(kMqttDisconnect << 4);
  out->push_back(0);
}

bool ParsePublish(const MqttFrame& f, int protocol, MqttPublish* out) {
  const std::span<const unsigned char> body = f.body;
  out->qos = static_cast<uint8_t>((f.flags >> 1) & 0x03);
  out->dup = (f.flags & 0x08) != 0;
  out->retain = (f.flags & 0x01) != 0;
  if (out->qos == 3 || body.size() < 2) return false;
  size_t i = 2 + size_t{Get16(body, 0)};
  if (i > body.size()) return false;
  out->topic = body.subspan(2, i - 2);
  out->packet_id = 0;
  if (out->qos > 0) {
    if (i + 2 > body.size()) return false;
    out->packet_id = Get16(body, i);
    i += 2;
  }
  if (protocol == 5 && !SkipProperties(body, &i)) return false;
  out->payload = body.subspan(i);
  return true;
}

bool ParseConnack(const MqttFrame& f, MqttConnack* out, int protocol) {
  if (f.body.size() < 2) return false;
  out->session_present = (f.body[0] & 0x01) != 0;
  out->code = f.body[1];
  out->properties = ConnackProperties{};
  if (protocol != 5 || f.body.size() == 2) return true;
  size_t i = 2;
  uint32_t length = 0;
  if (!GetVarint(f.body, &i, &length) || length > f.body.size() - i) return false;
  return ParseConnackProperties(f.body.subspan(i, length), &out->properties);
}

bool ParseSuback(const MqttFrame& f, int protocol, uint16_t* packet_id, int* code) {
  if (f.body.size() < 3) return false;
  *packet_id = Get16(f.body, 0);
  size_t i = 2;
  if (protocol == 5 && !SkipProperties(f.body, &i)) return false;
  if (i >= f.body.size()) return false;
  *code = f.body[i];
  return true;
}

bool ParsePacketId(const MqttFrame& f, uint16_t* packet_id) {
  if (f.body.size() < 2) return false;
  *packet_id = Get16(f.body, 0);
  return true;
}

}  // namespace edgebench
