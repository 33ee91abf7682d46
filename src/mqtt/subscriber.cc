// MqttSubscriber: CONNECT/SUBSCRIBE handshake, large reads decoded in place, batched acks.
#include "edgebench/mqtt/subscriber.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/protocol_check.h"

namespace edgebench {
namespace {

constexpr int kWriteTimeoutMs = 2000;
constexpr uint64_t kNsPerS = 1'000'000'000;

int MsUntil(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

const char* AckName(int type) {
  switch (type) {
    case kMqttPuback:
      return "PUBACK";
    case kMqttPubrec:
      return "PUBREC";
    default:
      return "PUBCOMP";
  }
}

bool HasWildcard(const std::vector<std::string>& filters) {
  return std::any_of(filters.begin(), filters.end(), [](const std::string& f) {
    return f.find_first_of("+#") != std::string::npos;
  });
}

std::string SubackReason(int protocol, int code) {
  if (protocol == 5) return MqttClient::ConnackString(5, code);
  return fmt::format("Failure (SUBACK return code 0x{:02x})", code);
}

}  // namespace

MqttSubscriber::MqttSubscriber(Config config, Sink* sink)
    : config_(std::move(config)), sink_(sink), in_(config_.read_bytes) {
  out_.reserve(size_t{64} * 1024);
}

std::string MqttSubscriber::Address() const {
  return config_.client.host + ":" + std::to_string(config_.client.port);
}

Status MqttSubscriber::Connect(double timeout_s) {
  transport_.reset();
  decoder_.Reset();
  connack_.reset();
  subacks_ = 0;
  refused_suback_ = -1;
  downgraded_suback_ = -1;
  keepalive_s_ = config_.client.keepalive_s;
  protocol_error_.clear();
  ping_sent_ns_ = 0;
  out_.clear();
  Result<Transport> t = Transport::Connect(config_.client, timeout_s);
  if (!t.ok())
    return Error{"cannot connect to the broker at " + Address() + ": " + t.error().message};
  transport_.emplace(std::move(t.value()));
  Status st = Handshake(timeout_s);
  if (!st) transport_.reset();
  return st;
}

// CONNECT, CONNACK, one SUBSCRIBE per filter and their SUBACKs. PUBLISHes that arrive in
// between (a resumed session, retained messages) are handled as in Pump().
Status MqttSubscriber::Handshake(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  const int protocol = config_.client.protocol;
  AppendConnect(config_.client, &out_);
  bool subscribed = false;
  auto refused = [&] {
    return Error{"the broker at " + Address() + " refused the collector's connection: " +
                 ConnackRefusal(protocol, connack_->code)};
  };
  while (true) {  // every exit is below: a refusal is checked before success
    if (connack_ && !subscribed) {
      if (connack_->code != 0) return refused();
      if (Status st = CheckGrants(); !st) return st;
      if (!connack_->session_present) awaiting_pubrel_.reset();
      for (size_t i = 0; i < config_.filters.size(); ++i) {
        AppendSubscribe(protocol, static_cast<uint16_t>(i + 1), config_.filters[i], config_.qos,
                        &out_);
      }
      subscribed = true;
    }
    if (!Flush()) return Error{"cannot connect to the broker at " + Address() + ": " + error_};
    if (refused_suback_ >= 0) {
      return Error{"the broker at " + Address() + " refused the collector's subscription to '" +
                   config_.filters[static_cast<size_t>(refused_suback_)] +
                   "': " + SubackReason(protocol, refused_code_)};
    }
    if (downgraded_suback_ >= 0) {
      return Error{fmt::format(
          "the broker at {} granted QoS {} for the collector's subscription to '{}'; the "
          "scenario asks for QoS {} (publish.qos)",
          Address(), downgraded_code_, config_.filters[static_cast<size_t>(downgraded_suback_)],
          config_.qos)};
    }
    if (subscribed && subacks_ == static_cast<int>(config_.filters.size())) break;
    const int left = MsUntil(deadline);
    if (left == 0) {
      return Error{"cannot subscribe at the broker at " + Address() + " within " +
                   fmt::format("{:g}", timeout_s) + " s: no answer (connect timeout)"};
    }
    if (!Pump(std::min(left, 50))) {
      // A broker that refuses sends its CONNACK and closes, often within one read.
      if (connack_ && connack_->code != 0) return refused();
      return Error{"cannot connect to the broker at " + Address() + ": " + error_ +
                   (connack_ ? "" : ClosedBeforeConnackHint(protocol))};
    }
  }
  return Ok{};
}

// The accepted CONNACK's MQTT 5 limits against the subscription; a Server Keep Alive is
// followed from now on.
Status MqttSubscriber::CheckGrants() {
  ProtocolAsk ask;
  ask.who = "collector";
  ask.address = Address();
  ask.keepalive_s = config_.client.keepalive_s;
  ask.wildcards = HasWildcard(config_.filters);
  ConnackCheck check = CheckConnack(connack_->properties, ask);
  if (!check.mismatches.empty()) return Error{check.mismatches.front()};
  for (std::string& note : check.notes) {
    if (std::find(notes_.begin(), notes_.end(), note) == notes_.end()) {
      notes_.push_back(std::move(note));
    }
  }
  if (connack_->properties.server_keepalive_s) {
    keepalive_s_ = *connack_->properties.server_keepalive_s;
  }
  return Ok{};
}

std::vector<MqttSubscriber::Described> MqttSubscriber::DescribeDeviations() const {
  std::vector<Described> out;
  const Deviations& d = deviations_;
  const std::string broker = "the broker at " + Address();
  if (d.downgraded > 0) {
    out.push_back({fmt::format("{} delivered messages to the collector at QoS {} (the lowest "
                               "seen), below the QoS {} it granted and the scenario asks for "
                               "(publish.qos)",
                               broker, d.lowest_qos, config_.qos),
                   d.downgraded});
  }
  if (d.unknown_pubrel > 0) {
    out.push_back(
        {broker + " sent the collector PUBRELs for packet ids with no QoS 2 PUBLISH pending",
         d.unknown_pubrel});
  }
  if (d.unexpected_acks > 0) {
    out.push_back({fmt::format("{} sent the collector publish acks ({} first), but the collector "
                               "publishes nothing",
                               broker, AckName(d.unexpected_ack_type)),
                   d.unexpected_acks});
  }
  return out;
}

// One read: a plain socket is read once; TLS records are read until OpenSSL holds no more
// or the buffer is full. Returns the bytes read; *failed when the connection broke.
size_t MqttSubscriber::ReadOnce(bool* failed) {
  size_t n = 0;
  while (n < in_.size()) {
    ssize_t got = transport_->Read(in_.data() + n, in_.size() - n);
    if (got < 0) {
      *failed = true;
      break;
    }
    n += static_cast<size_t>(got);
    if (got == 0 || !transport_->HasBuffered()) break;
  }
  return n;
}

bool MqttSubscriber::Pump(int timeout_ms) {
  if (!transport_) return false;
  // A read that filled the buffer left more behind: read again without waiting.
  if (!full_read_ && !transport_->Poll(timeout_ms)) return true;
  bool failed = false;
  const size_t n = ReadOnce(&failed);
  full_read_ = n == in_.size();
  if (n > 0) {
    const uint64_t now = MonotonicNowNs();
    ++stats_.reads;
    stats_.bytes += n;
    if (!decoder_.Feed(in_.data(), n, [this, now](const MqttFrame& f) { OnFrame(f, now); })) {
      return Lost("the broker sent a malformed MQTT packet");
    }
    if (!protocol_error_.empty()) return Lost(protocol_error_);
    if (!Flush()) return false;
  }
  if (failed) return Lost(transport_->error());
  return true;
}

void MqttSubscriber::OnFrame(const MqttFrame& f, uint64_t now_ns) {
  uint16_t id = 0;
  switch (f.type) {
    case kMqttPublish:
      OnPublishFrame(f, now_ns);
      break;
    case kMqttPubrel:
      if (!ParsePacketId(f, &id)) {
        protocol_error_ = "the broker sent a malformed PUBREL";
        return;
      }
      if (!awaiting_pubrel_.test(id)) ++deviations_.unknown_pubrel;
      awaiting_pubrel_.reset(id);
      AppendAck(kMqttPubcomp, id, &out_);  // answered all the same, as the protocol says
      break;
    case kMqttPuback:
    case kMqttPubrec:
    case kMqttPubcomp:
      OnAckFrame(f);
      break;
    case kMqttConnack: {
      MqttConnack c;
      if (!ParseConnack(f, &c, config_.client.protocol)) {
        protocol_error_ = "the broker sent a malformed CONNACK";
      }
      connack_ = c;
      break;
    }
    case kMqttSuback: {
      int code = 0;
      if (!ParseSuback(f, config_.client.protocol, &id, &code)) {
        protocol_error_ = "the broker sent a malformed SUBACK";
      } else if (code >= 0x80 && refused_suback_ < 0 && id >= 1) {
        refused_suback_ = id - 1;
        refused_code_ = code;
      } else if (code < config_.qos && downgraded_suback_ < 0 && id >= 1) {
        downgraded_suback_ = id - 1;
        downgraded_code_ = code;
      }
      ++subacks_;
      break;
    }
    case kMqttPingresp:
      ping_sent_ns_ = 0;
      break;
    case kMqttDisconnect:
      protocol_error_ = "the broker sent DISCONNECT";
      if (!f.body.empty()) protocol_error_ += ": " + MqttClient::ConnackString(5, f.body[0]);
      break;
    default:
      break;  // nothing else is meant for a subscriber; ignored
  }
}

// The collector publishes nothing, so no ack of a publish is meant for it.
void MqttSubscriber::OnAckFrame(const MqttFrame& f) {
  if (deviations_.unexpected_acks++ == 0) deviations_.unexpected_ack_type = f.type;
}

void MqttSubscriber::OnPublishFrame(const MqttFrame& f, uint64_t now_ns) {
  MqttPublish p;
  if (!ParsePublish(f, config_.client.protocol, &p)) {
    protocol_error_ = "the broker sent a malformed PUBLISH";
    return;
  }
  if (p.qos < config_.qos) {
    ++deviations_.downgraded;
    deviations_.lowest_qos = std::min<int>(deviations_.lowest_qos, p.qos);
  }
  if (p.qos == 1) {
    AppendAck(kMqttPuback, p.packet_id, &out_);
  } else if (p.qos == 2) {
    AppendAck(kMqttPubrec, p.packet_id, &out_);
    if (awaiting_pubrel_.test(p.packet_id)) return;  // handed over on its first PUBLISH
    awaiting_pubrel_.set(p.packet_id);
  }
  sink_->OnPublish(p, now_ns);
}

bool MqttSubscriber::Flush() {
  if (out_.empty()) return true;
  if (!transport_) return false;
  const bool ok = transport_->Write(out_.data(), out_.size(), kWriteTimeoutMs);
  out_.clear();
  if (!ok) return Lost(transport_->error());
  ++stats_.ack_writes;
  last_write_ns_ = MonotonicNowNs();
  return true;
}

bool MqttSubscriber::KeepAlive(uint64_t now_ns) {
  if (!transport_) return false;
  const int keepalive_s = keepalive_s_;
  if (keepalive_s <= 0) return true;
  const uint64_t keepalive_ns = static_cast<uint64_t>(keepalive_s) * kNsPerS;
  if (ping_sent_ns_ != 0) {
    if (now_ns - ping_sent_ns_ <= keepalive_ns) return true;
    return Lost(fmt::format("no PINGRESP within the keep-alive of {} s", keepalive_s));
  }
  if (now_ns - last_write_ns_ < keepalive_ns / 2) return true;
  AppendPingreq(&out_);
  ping_sent_ns_ = now_ns;
  return Flush();
}

void MqttSubscriber::Disconnect() {
  if (!transport_) return;
  out_.clear();
  AppendDisconnect(&out_);
  (void)transport_->Write(out_.data(), out_.size(), 200);
  out_.clear();
  transport_.reset();
}

bool MqttSubscriber::Lost(std::string why) {
  error_ = std::move(why);
  transport_.reset();
  out_.clear();
  return false;
}

}  // namespace edgebench
