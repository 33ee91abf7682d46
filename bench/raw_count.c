/*
 * raw_count: an independent subscriber for bench/run.py that uses no MQTT
 * library at all (neither libmosquitto nor edgebench code): a TCP socket, the
 * MQTT 3.1.1 packets written by hand, and its own frame parser.
 *
 *   cc -O2 -Wall -o raw_count raw_count.c
 *   raw_count --port P --expected N [--host H] [--qos 0|1] [--topic F]
 *             [--idle-s S] [--start-timeout-s S]
 *
 * It connects (TCP_NODELAY; CONNECT with clean session, keepalive 60),
 * subscribes to the filter (default bench/#) at the QoS given, prints "ready"
 * once the SUBACK grants the subscription, then counts PUBLISH packets. Each
 * wake-up of poll() does ONE read() of up to 1 MiB; the parser takes every
 * whole frame in it and keeps a partial frame at the end for the next read.
 * At QoS 1 the PUBACKs owed for one read are collected in one buffer and sent
 * with one write() (the rest, if the socket takes only part, when it is
 * writable again). The time of a read that brought PUBLISHes stands for each of
 * them: the first and last such read give first and last.
 *
 * Stops as count_sub does: when the expected count has arrived, when no
 * PUBLISH came for --idle-s seconds after the first one, when none came at all
 * within --start-timeout-s of being ready, or on SIGTERM/SIGINT; the handshake
 * (CONNACK and SUBACK) must finish within 30 s. Then it prints
 *   raw_count count=... expected=... first_to_last_s=... rate=... ready=... failed=...
 * with rate = count / (last - first) in messages per second, and exits 1 if
 * the connection failed (refused, lost, malformed data), else 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)     /* bytes asked of one read() */
#define MAX_FRAME (268435455u + 5) /* MQTT's largest packet: 256 MiB body + header */
#define HANDSHAKE_TIMEOUT_S 30.0
#define PING_EVERY_S 30.0          /* half the keepalive */

enum phase { WAIT_CONNACK, WAIT_SUBACK, COUNTING };

struct buf {
  unsigned char *data;
  size_t len; /* bytes held */
  size_t off; /* out buffer: bytes already written */
  size_t cap;
};

struct state {
  int fd;
  enum phase phase;
  struct buf in;  /* received bytes not yet parsed: at most one partial frame after a parse */
  struct buf out; /* bytes to send */
  long count;
  double first, last;
  double last_write;
  bool failed;
};

struct options {
  const char *host;
  int port;
  long expected;
  int qos;
  const char *topic;
  double idle_s;
  double start_timeout_s;
};

static volatile sig_atomic_t g_stop = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void fail(struct state *st, const char *what) {
  if (!st->failed) fprintf(stderr, "raw_count: %s\n", what);
  st->failed = true;
}

static void reserve(struct buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  unsigned char *p = realloc(b->data, cap);
  if (!p) {
    fprintf(stderr, "raw_count: out of memory (%zu bytes)\n", cap);
    exit(1);
  }
  b->data = p;
  b->cap = cap;
}

static void append(struct buf *b, const void *bytes, size_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, bytes, n);
  b->len += n;
}

/* ---- Encoding: the three packets raw_count sends besides PUBACK. ---- */

static void put_u16(struct buf *b, unsigned v) {
  unsigned char two[2] = {(unsigned char)(v >> 8), (unsigned char)(v & 0xff)};
  append(b, two, 2);
}

static void put_str(struct buf *b, const char *s) {
  size_t n = strlen(s);
  put_u16(b, (unsigned)n);
  append(b, s, n);
}

/* Fixed header: the type byte and the remaining length (1..4 bytes, 7 bits each). */
static void put_header(struct buf *b, unsigned char type, size_t remaining) {
  unsigned char h[5];
  size_t n = 0;
  h[n++] = type;
  do {
    unsigned char digit = (unsigned char)(remaining % 128);
    remaining /= 128;
    if (remaining > 0) digit |= 0x80;
    h[n++] = digit;
  } while (remaining > 0);
  append(b, h, n);
}

static void queue_connect(struct state *st, const char *client_id) {
  size_t remaining = 10 + 2 + strlen(client_id);
  put_header(&st->out, 0x10, remaining);
  put_str(&st->out, "MQTT");
  unsigned char level_flags[2] = {4, 0x02}; /* protocol level 4 = 3.1.1; clean session */
  append(&st->out, level_flags, 2);
  put_u16(&st->out, 60); /* keepalive, seconds */
  put_str(&st->out, client_id);
}

static void queue_subscribe(struct state *st, const char *topic, int qos) {
  put_header(&st->out, 0x82, 2 + 2 + strlen(topic) + 1);
  put_u16(&st->out, 1); /* packet identifier */
  put_str(&st->out, topic);
  unsigned char q = (unsigned char)qos;
  append(&st->out, &q, 1);
}

/* ---- The socket. ---- */

static int connect_tcp(const char *host, int port) {
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "raw_count: %s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      fprintf(stderr, "raw_count: connect %s:%d: %s\n", host, port, strerror(errno));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    fprintf(stderr, "raw_count: socket options: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* One write() of whatever is pending; the rest waits for POLLOUT. */
static void flush_out(struct state *st) {
  size_t pending = st->out.len - st->out.off;
  if (pending == 0) return;
  ssize_t n = write(st->fd, st->out.data + st->out.off, pending);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail(st, strerror(errno));
    return;
  }
  st->out.off += (size_t)n;
  st->last_write = now_s();
  if (st->out.off == st->out.len) st->out.off = st->out.len = 0;
}

/* ---- Decoding. ---- */

/* The fixed header at p (avail bytes): 0 while incomplete, -1 if malformed, else
 * its length in bytes, with the remaining length in *remaining. */
static int decode_header(const unsigned char *p, size_t avail, size_t *remaining) {
  size_t value = 0, mult = 1;
  for (size_t i = 1; i <= 4; i++) {
    if (i >= avail) return 0;
    value += (size_t)(p[i] & 0x7f) * mult;
    if (!(p[i] & 0x80)) {
      *remaining = value;
      return (int)i + 1;
    }
    mult *= 128;
  }
  return -1;
}

static void on_publish(struct state *st, unsigned flags, const unsigned char *body, size_t len) {
  unsigned qos = (flags >> 1) & 3;
  st->count++;
  if (qos == 0) return;
  if (qos != 1 || len < 2) {
    fail(st, qos == 1 ? "malformed PUBLISH" : "unexpected QoS 2 PUBLISH");
    return;
  }
  size_t topic_len = ((size_t)body[0] << 8) | body[1];
  if (len < 2 + topic_len + 2) {
    fail(st, "malformed QoS 1 PUBLISH");
    return;
  }
  const unsigned char *id = body + 2 + topic_len;
  unsigned char puback[4] = {0x40, 0x02, id[0], id[1]};
  append(&st->out, puback, sizeof puback);
}

static void on_packet(struct state *st, const struct options *o, const unsigned char *frame,
                      const unsigned char *body, size_t len) {
  unsigned type = frame[0] >> 4;
  if (type == 3 && st->phase == COUNTING) {
    on_publish(st, frame[0] & 0x0f, body, len);
  } else if (type == 2 && st->phase == WAIT_CONNACK) {
    if (len != 2 || body[1] != 0) {
      fail(st, "connection refused (CONNACK return code not 0)");
      return;
    }
    queue_subscribe(st, o->topic, o->qos);
    st->phase = WAIT_SUBACK;
  } else if (type == 9 && st->phase == WAIT_SUBACK) {
    if (len != 3 || body[2] > 2) {
      fail(st, "subscription refused");
      return;
    }
    st->phase = COUNTING;
    printf("ready\n");
    fflush(stdout);
  } else if (type != 13) { /* PINGRESP needs nothing */
    char what[64];
    snprintf(what, sizeof what, "unexpected packet type %u", type);
    fail(st, what);
  }
}

/* Handles every whole frame in st->in and keeps the partial one at the end.
 * Returns the number of PUBLISH packets it counted. */
static long parse_frames(struct state *st, const struct options *o) {
  long before = st->count;
  size_t pos = 0;
  while (!st->failed) {
    size_t remaining = 0;
    int hlen = decode_header(st->in.data + pos, st->in.len - pos, &remaining);
    if (hlen < 0) {
      fail(st, "malformed remaining length");
      break;
    }
    if (hlen == 0 || st->in.len - pos < (size_t)hlen + remaining) break;
    on_packet(st, o, st->in.data + pos, st->in.data + pos + hlen, remaining);
    pos += (size_t)hlen + remaining;
  }
  memmove(st->in.data, st->in.data + pos, st->in.len - pos);
  st->in.len -= pos;
  return st->count - before;
}

/* One read() of up to 1 MiB, then the parse. Returns false on end of stream or error. */
static bool read_once(struct state *st, const struct options *o) {
  reserve(&st->in, READ_CHUNK);
  ssize_t n = read(st->fd, st->in.data + st->in.len, READ_CHUNK);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    fail(st, strerror(errno));
    return false;
  }
  if (n == 0) {
    fail(st, "connection closed by the broker");
    return false;
  }
  double t = now_s();
  st->in.len += (size_t)n;
  if (st->in.len > MAX_FRAME + READ_CHUNK) {
    fail(st, "frame larger than MQTT allows");
    return false;
  }
  if (parse_frames(st, o) > 0) {
    if (st->first == 0) st->first = t;
    st->last = t;
  }
  return !st->failed;
}

/* ---- Command line and the loop. ---- */

static double arg_num(const char *flag, const char *value, double lo, double hi) {
  char *end = NULL;
  errno = 0;
  double v = strtod(value, &end);
  if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "raw_count: %s must be a number in %g..%g, got '%s'\n", flag, lo, hi, value);
    exit(2);
  }
  return v;
}

static void parse_args(int argc, char **argv, struct options *o) {
  *o = (struct options){"127.0.0.1", 1883, 0, 0, "bench/#", 3, 120};
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "raw_count: %s needs a value\n", flag);
      exit(2);
    }
    const char *v = argv[++i];
    if (!strcmp(flag, "--host")) o->host = v;
    else if (!strcmp(flag, "--port")) o->port = (int)arg_num(flag, v, 1, 65535);
    else if (!strcmp(flag, "--expected")) o->expected = (long)arg_num(flag, v, 0, 1e12);
    else if (!strcmp(flag, "--qos")) o->qos = (int)arg_num(flag, v, 0, 1);
    else if (!strcmp(flag, "--topic")) o->topic = v;
    else if (!strcmp(flag, "--idle-s")) o->idle_s = arg_num(flag, v, 0.1, 3600);
    else if (!strcmp(flag, "--start-timeout-s")) o->start_timeout_s = arg_num(flag, v, 0.1, 86400);
    else {
      fprintf(stderr, "raw_count: unknown flag %s\n", flag);
      exit(2);
    }
  }
  if (strlen(o->topic) == 0 || strlen(o->topic) > 65535) {
    fprintf(stderr, "raw_count: --topic must be 1..65535 bytes\n");
    exit(2);
  }
}

/* True when a stop rule says the run is over. */
static bool done(struct state *st, const struct options *o, double t0, double ready_at) {
  double t = now_s();
  if (o->expected > 0 && st->count >= o->expected) return true;
  if (st->count > 0 && t - st->last > o->idle_s) return true;
  if (st->count == 0 && ready_at > 0 && t - ready_at > o->start_timeout_s) return true;
  if (st->phase != COUNTING && t - t0 > HANDSHAKE_TIMEOUT_S) {
    fail(st, "no CONNACK and SUBACK within 30 s");
    return true;
  }
  return false;
}

static void run_loop(struct state *st, const struct options *o) {
  double t0 = now_s(), ready_at = 0;
  while (!g_stop && !st->failed) {
    if (st->phase == COUNTING && ready_at == 0) ready_at = now_s();
    if (done(st, o, t0, ready_at)) break;
    if (st->out.len == st->out.off && now_s() - st->last_write > PING_EVERY_S) {
      unsigned char ping[2] = {0xc0, 0x00};
      append(&st->out, ping, 2);
      flush_out(st);
    }
    struct pollfd pfd = {.fd = st->fd, .events = POLLIN, .revents = 0};
    if (st->out.len > st->out.off) pfd.events |= POLLOUT;
    int n = poll(&pfd, 1, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(st, strerror(errno));
      break;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!read_once(st, o)) break;
      flush_out(st); /* the PUBACKs of this read (or the SUBSCRIBE): one write() */
    } else if (pfd.revents & POLLOUT) {
      flush_out(st);
    }
  }
}

int main(int argc, char **argv) {
  struct options o;
  parse_args(argc, argv, &o);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  struct state st;
  memset(&st, 0, sizeof st);
  st.fd = connect_tcp(o.host, o.port);
  if (st.fd < 0) return 1;
  char id[64];
  snprintf(id, sizeof id, "raw_count-%ld", (long)getpid());
  queue_connect(&st, id);
  flush_out(&st);
  run_loop(&st, &o);

  double span = st.last - st.first;
  double rate = (st.count > 1 && span > 0) ? (double)st.count / span : 0.0;
  printf("raw_count count=%ld expected=%ld first_to_last_s=%.6f rate=%.1f ready=%d failed=%d\n",
         st.count, o.expected, span, rate, st.phase == COUNTING ? 1 : 0, st.failed ? 1 : 0);
  fflush(stdout);
  if (!st.failed) {
    flush_out(&st); /* the last PUBACKs, if the socket takes them now */
    if (st.out.len == 0) {
      /* Best effort, and only between whole packets: the broker drops us anyway. */
      unsigned char disconnect[2] = {0xe0, 0x00};
      append(&st.out, disconnect, 2);
      flush_out(&st);
    }
  }
  close(st.fd);
  free(st.in.data);
  free(st.out.data);
  return st.failed ? 1 : 0;
}
