// In-process packet capture with libpcap: the only file that includes <pcap.h>.
#include "edgebench/measure/packet_capture.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>

#include <pcap/pcap.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/base/fd.h"

namespace edgebench {
namespace {

// The live capture takes whole packets (libpcap's maximum), so the counters and the MQTT
// parser see everything: on lo a TSO segment can be 64 KiB and more.
constexpr int kCaptureSnaplen = 262144;
constexpr int kReadTimeoutMs = 100;       // how long the kernel may hold packets back
constexpr size_t kAutoPayloadBytes = 16;  // snaplen "auto": headers plus this much TCP data
// snaplen "auto" stores at most this: the longest link header WireStats parses (SLL2, 20),
// IPv4 and TCP headers with options (60 each) and kAutoPayloadBytes. capture.pcap's header
// says so, since that field is the most any stored packet holds.
constexpr int kAutoSnaplen = 20 + 60 + 60 + static_cast<int>(kAutoPayloadBytes);
// A packet WireStats cannot parse keeps this much in "auto" mode.
constexpr size_t kAutoUnparsedBytes = 128;

uint64_t RealtimeNowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

// The first address of `host`, as text ("127.0.0.1", "::1").
Result<std::string> NumericAddress(const std::string& host, sockaddr_storage* out) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Error{"cannot resolve broker host '" + host + "': " + gai_strerror(rc)};
  char text[INET6_ADDRSTRLEN] = {};
  ::getnameinfo(res->ai_addr, res->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  if (out) std::memcpy(out, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  return std::string(text);
}

bool SameAddress(const sockaddr* a, const sockaddr_storage& b) {
  if (a == nullptr || a->sa_family != b.ss_family) return false;
  if (a->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&b)->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&b)->sin6_addr, 16) == 0;
  }
  return false;
}

}  // namespace

std::string CheckCaptureFilter(const std::string& filter) {
  if (filter.empty()) return "";
  std::unique_ptr<pcap_t, PcapCloser> dead(pcap_open_dead(DLT_EN10MB, kCaptureSnaplen));
  bpf_program prog{};
  if (pcap_compile(dead.get(), &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return "capture.filter is not a valid BPF filter: " + std::string(pcap_geterr(dead.get()));
  }
  pcap_freecode(&prog);
  return "";
}

std::string CheckCaptureInterface(const std::string& name) {
  if (name == "auto") return "";
  pcap_if_t* all = nullptr;
  char err[PCAP_ERRBUF_SIZE] = {};
  if (pcap_findalldevs(&all, err) != 0) return "";  // cannot tell here; Open() will say
  std::string names;
  bool found = false;
  for (pcap_if_t* d = all; d; d = d->next) {
    if (name == d->name) found = true;
    names += (names.empty() ? "" : ", ") + std::string(d->name);
  }
  pcap_freealldevs(all);
  if (found) return "";
  return "capture.interface '" + name + "' does not exist (capture devices: " + names + ")";
}

Result<std::string> InterfaceForHost(const std::string& host) {
  sockaddr_storage target{};
  Result<std::string> numeric = NumericAddress(host, &target);
  if (!numeric.ok()) return numeric.error();
  // The kernel picks the route when a UDP socket connects; no packet is sent.
  Fd s(::socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (target.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&target)->sin_port = htons(9);
  if (target.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&target)->sin6_port = htons(9);
  socklen_t len = target.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (!s.valid() || ::connect(s.get(), reinterpret_cast<sockaddr*>(&target), len) != 0) {
    const int err = errno;  // strerror is not thread-safe; the category's message is
    return Error{"cannot find the route to " + host + ": " + std::generic_category().message(err)};
  }
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&local), &local_len);
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) != 0) {
    return Error{"getifaddrs: " + std::generic_category().message(errno)};
  }
  std::string name;
  for (ifaddrs* i = ifs; i && name.empty(); i = i->ifa_next) {
    if (SameAddress(i->ifa_addr, local)) name = i->ifa_name;
  }
  ::freeifaddrs(ifs);
  if (name.empty()) return Error{"cannot find the interface of the route to " + host};
  return name;
}

Result<std::string> DefaultCaptureFilter(const std::string& host, int port) {
  Result<std::string> numeric = NumericAddress(host, nullptr);
  if (!numeric.ok()) return numeric.error();
  return "tcp and host " + *numeric + " and port " + std::to_string(port);
}

namespace {

// The command that grants the capture capabilities to this very binary, as a user can
// paste it: the absolute path of the running executable, quoted for the shell if needed.
std::string SetcapCommand() {
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string path = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "/path/to/edgebench";
  if (path.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-") !=
      std::string::npos) {
    std::string quoted = "'";
    for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    path = quoted + "'";
  }
  return "sudo setcap cap_net_raw,cap_net_admin+eip " + path;
}

}  // namespace

class PacketCapture::Impl {
 public:
  Impl(int broker_port, int snaplen) : wire(broker_port), store_snaplen(snaplen) {}

  std::unique_ptr<pcap_t, PcapCloser> pcap;
  // capture.pcap is written through a dead handle with the stored snaplen, so the file's
  // header states the most any stored packet holds (the live handle's would say 262144).
  std::unique_ptr<pcap_t, PcapCloser> file_handle;
  std::unique_ptr<pcap_dumper_t, DumperCloser> dumper;  // declared after: closed first
  WireStats wire;
  int store_snaplen;  // -1 auto, 0 whole
  LinkType link = LinkType::kEthernet;
  int64_t realtime_minus_monotonic_ns = 0;
  std::atomic<uint64_t> origin_ns{0};  // second 0 of the per-second series; 0 = not yet known
  CaptureReport report;
  std::string pcap_path;  // capture.pcap, once complete
  int write_errno = 0;    // of the first write to it that failed

  // Flushes and closes capture.pcap.partial and renames it to capture.pcap; a failed write
  // anywhere (pcap_dump() reports none) is found here, through the stream's error flag.
  void CloseFile() {
    if (!dumper) return;
    const std::string partial = pcap_path + ".partial";
    FILE* f = pcap_dump_file(dumper.get());
    errno = 0;
    if (pcap_dump_flush(dumper.get()) != 0 && write_errno == 0) write_errno = errno ? errno : EIO;
    if (std::ferror(f) != 0 && write_errno == 0) write_errno = EIO;
    dumper.reset();  // fclose()
    if (write_errno != 0) {
      report.pcap_error = "cannot write " + partial + ": " + ErrnoMessage(write_errno);
    } else if (::rename(partial.c_str(), pcap_path.c_str()) != 0) {
      report.pcap_error = "cannot rename " + partial + ": " + ErrnoMessage(errno);
    }
  }

  static void OnPacket(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    reinterpret_cast<Impl*>(user)->Handle(h, bytes);
  }

  void Handle(const pcap_pkthdr* h, const u_char* bytes) {
    ++report.packets_seen;
    uint64_t real_ns = static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000u +
                       static_cast<uint64_t>(h->ts.tv_usec);  // nanoseconds: see Open()
    // WireStats buckets by time since its origin 0: hand it the time since t0 (packets
    // before t0, like the connects, fall into second 0).
    uint64_t mono_ns = real_ns - static_cast<uint64_t>(realtime_minus_monotonic_ns);
    uint64_t origin = origin_ns.load(std::memory_order_relaxed);
    wire.Add(link, bytes, h->caplen, origin && mono_ns > origin ? mono_ns - origin : 0);
    if (!dumper) return;
    pcap_pkthdr stored = *h;
    if (store_snaplen < 0) {
      size_t headers = WireStats::HeaderBytes(link, bytes, h->caplen);
      size_t keep = headers ? headers + kAutoPayloadBytes : kAutoUnparsedBytes;
      keep = std::min(keep, static_cast<size_t>(kAutoSnaplen));
      stored.caplen = static_cast<bpf_u_int32>(std::min<size_t>(h->caplen, keep));
    }
    stored.caplen = std::min<bpf_u_int32>(stored.caplen, static_cast<bpf_u_int32>(report.snaplen));
    report.pcap_bytes += stored.caplen;
    pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &stored, bytes);
    // pcap_dump() returns nothing: the stream's error flag says a write failed, and errno
    // why, right after it (later, the disk may have room again).
    if (write_errno == 0 && std::ferror(pcap_dump_file(dumper.get())) != 0) {
      write_errno = errno != 0 ? errno : EIO;
    }
  }

  // The interface and the filter: the scenario's, or those of the route to the broker.
  Status ChooseTarget(const CaptureOptions& o) {
    report.interface = o.spec.interface;
    if (o.spec.interface == "auto") {
      Result<std::string> ifname = InterfaceForHost(o.broker_host);
      if (!ifname.ok()) return ifname.error();
      report.interface = *ifname;
    }
    report.filter = o.spec.filter;
    if (o.spec.filter.empty()) {
      Result<std::string> f = DefaultCaptureFilter(o.broker_host, o.broker_port);
      if (!f.ok()) return f.error();
      report.filter = *f;
    }
    return Ok{};
  }

  Status Activate(const CaptureSpec& spec, CaptureFailure* failure) {
    char err[PCAP_ERRBUF_SIZE] = {};
    const std::string& ifname = report.interface;
    pcap.reset(pcap_create(ifname.c_str(), err));
    if (!pcap) return Error{"cannot capture on " + ifname + ": " + err};
    pcap_t* p = pcap.get();
    // Before activation these fail only on an activated handle, which this is not.
    pcap_set_snaplen(p, kCaptureSnaplen);
    pcap_set_promisc(p, 0);
    pcap_set_timeout(p, kReadTimeoutMs);
    pcap_set_immediate_mode(p, 0);  // batches of packets: far fewer wake-ups under load
    const int buffer_bytes = spec.buffer_mb * 1024 * 1024;  // at most 1 GiB (scenario range)
    pcap_set_buffer_size(p, buffer_bytes);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) {
      *failure = CaptureFailure::kPermission;
      return Error{ErrorKind::kUnavailable,
                   "no permission to capture packets on " + ifname + " (" + pcap_geterr(p) +
                       "); run as root, or grant the capability once: " + SetcapCommand()};
    }
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
      *failure = CaptureFailure::kBadInterface;
      return Error{"capture.interface '" + ifname + "' does not exist: " + pcap_geterr(p)};
    }
    if (rc < 0) return Error{"cannot capture on " + ifname + ": " + pcap_geterr(p)};
    if (rc > 0) spdlog::warn("capture on {}: {}", ifname, pcap_statustostr(rc));
    report.buffer_bytes = static_cast<uint64_t>(buffer_bytes);
    report.link_type = pcap_datalink(p);
    link = static_cast<LinkType>(report.link_type);
    // What capture.pcap stores per packet at most; whole packets as the live handle has them.
    report.snaplen = store_snaplen < 0    ? kAutoSnaplen
                     : store_snaplen == 0 ? pcap_snapshot(p)
                                          : std::min(store_snaplen, pcap_snapshot(p));
    return Ok{};
  }

  Status SetFilter(CaptureFailure* failure) {
    pcap_t* p = pcap.get();
    bpf_program prog{};
    if (pcap_compile(p, &prog, report.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      *failure = CaptureFailure::kBadFilter;
      return Error{"capture.filter is not a valid BPF filter: " + std::string(pcap_geterr(p))};
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) return Error{"cannot set the capture filter: " + std::string(pcap_geterr(p))};
    return Ok{};
  }

  Status OpenFile(const std::string& final_path) {
    pcap_path = final_path;
    const std::string path = final_path + ".partial";
    file_handle.reset(pcap_open_dead_with_tstamp_precision(report.link_type, report.snaplen,
                                                           PCAP_TSTAMP_PRECISION_NANO));
    if (!file_handle) return Error{"cannot write " + path + ": pcap_open_dead failed"};
    dumper.reset(pcap_dump_open(file_handle.get(), path.c_str()));
    if (!dumper) return Error{"cannot write " + path + ": " + pcap_geterr(file_handle.get())};
    return Ok{};
  }

  // Reads until Stop() breaks the loop.
  void Loop() {
    for (;;) {
      int n = pcap_dispatch(pcap.get(), -1, &Impl::OnPacket, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR_BREAK) return;
      if (n == PCAP_ERROR) {
        spdlog::warn("capture stopped early: {}", pcap_geterr(pcap.get()));
        return;
      }
    }
  }

  // After the thread has stopped: reads what is left in the buffer without waiting.
  void Drain() {
    char err[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(pcap.get(), 1, err) != 0) return;
    while (pcap_dispatch(pcap.get(), -1, &Impl::OnPacket, reinterpret_cast<u_char*>(this)) > 0) {
    }
  }
};

Result<std::unique_ptr<PacketCapture>> PacketCapture::Open(const CaptureOptions& o,
                                                           CaptureFailure* failure) {
  *failure = CaptureFailure::kOther;
  auto impl = std::make_unique<Impl>(o.broker_port, o.spec.snaplen);
  if (Status st = impl->ChooseTarget(o); !st) return st.error();
  if (Status st = impl->Activate(o.spec, failure); !st) return st.error();
  if (Status st = impl->SetFilter(failure); !st) return st.error();
  if (Status st = impl->OpenFile(o.pcap_path); !st) return st.error();
  *failure = CaptureFailure::kNone;
  return std::unique_ptr<PacketCapture>(new PacketCapture(std::move(impl)));
}

PacketCapture::PacketCapture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PacketCapture::~PacketCapture() { Stop(); }

void PacketCapture::SetOrigin(uint64_t origin_ns) { impl_->origin_ns = origin_ns; }

void PacketCapture::Start() {
  impl_->realtime_minus_monotonic_ns =
      static_cast<int64_t>(RealtimeNowNs()) - static_cast<int64_t>(MonotonicNowNs());
  thread_ = std::thread([this] { impl_->Loop(); });
}

void PacketCapture::Stop() {
  if (!thread_.joinable()) return;
  // The kernel hands over a partly filled buffer block only after the read timeout, so wait
  // that long (twice, to be safe) for the last packets (final acks, DISCONNECTs) before
  // breaking the loop, then read whatever is left.
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * kReadTimeoutMs));
  pcap_breakloop(impl_->pcap.get());
  thread_.join();
  impl_->Drain();
  pcap_stat st{};
  if (pcap_stats(impl_->pcap.get(), &st) == 0) {
    impl_->report.kernel_dropped = st.ps_drop;
    impl_->report.interface_dropped = st.ps_ifdrop;
  }
  impl_->CloseFile();
}

CaptureReport PacketCapture::TakeReport() {
  impl_->report.totals = impl_->wire.totals();
  impl_->report.per_second = impl_->wire.per_second();
  return std::move(impl_->report);
}

}  // namespace edgebench
