/*
 * bare_pub: the floor for bench/run.py. A minimal libmosquitto publisher:
 * N connections in one process, no network thread, one poll() loop over the
 * sockets (mosquitto_socket / mosquitto_loop_read / mosquitto_loop_write /
 * mosquitto_want_write), each connection publishing M messages to
 * bench/<connection> as fast as the socket (QoS 0) or the in-flight window
 * (QoS 1) allows. Exits 0 when every message is sent and, at QoS 1,
 * acknowledged.
 *
 *   cc -O2 -o bare_pub bare_pub.c -lmosquitto
 *   bare_pub --port P [--host H] [--conns N] [--messages M] [--qos Q]
 *            [--size BYTES] [--inflight W] [--nodelay 0|1] [--timeout-s S]
 *
 * Prints one line on stdout at the end:
 *   bare_pub sent=... acked=... errors=... elapsed_s=...
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

struct conn {
  struct mosquitto *mosq;
  char topic[64];
  int index;
  bool connected;
  bool failed;
  long sent;     /* mosquitto_publish() accepted */
  long acked;    /* on_publish: PUBACK at QoS 1, written at QoS 0 */
};

static int g_qos = 0;
static long g_messages = 10000;
static long g_errors = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  struct conn *c = obj;
  if (rc == 0) {
    c->connected = true;
  } else {
    fprintf(stderr, "bare_pub: connection %d refused: %s\n", c->index, mosquitto_connack_string(rc));
    c->failed = true;
  }
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid) {
  (void)mosq;
  (void)mid;
  struct conn *c = obj;
  c->acked++;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  struct conn *c = obj;
  if (rc != 0) {
    fprintf(stderr, "bare_pub: connection %d lost (rc=%d)\n", c->index, rc);
    c->failed = true;
  }
  c->connected = false;
}

static long arg_long(const char *flag, const char *value, long lo, long hi) {
  char *end = NULL;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "bare_pub: %s must be an integer in %ld..%ld, got '%s'\n", flag, lo, hi, value);
    exit(2);
  }
  return v;
}

/* A connection may publish its next message now. */
static bool can_publish(const struct conn *c, long window) {
  if (!c->connected || c->failed || c->sent >= g_messages) return false;
  /* Never queue inside the library: wait until the socket took the last packet. */
  if (mosquitto_want_write(c->mosq)) return false;
  if (g_qos > 0 && c->sent - c->acked >= window) return false;
  return true;
}

static bool done(const struct conn *c) {
  if (c->failed) return true;
  return c->sent >= g_messages && c->acked >= g_messages;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 1883;
  int conns = 10;
  int size = 32;
  long window = 20;
  int nodelay = 1;
  double timeout_s = 300;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "bare_pub: %s needs a value\n", flag);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(flag, "--host")) host = v;
    else if (!strcmp(flag, "--port")) port = (int)arg_long(flag, v, 1, 65535);
    else if (!strcmp(flag, "--conns")) conns = (int)arg_long(flag, v, 1, 10000);
    else if (!strcmp(flag, "--messages")) g_messages = arg_long(flag, v, 0, 1000000000L);
    else if (!strcmp(flag, "--qos")) g_qos = (int)arg_long(flag, v, 0, 1);
    else if (!strcmp(flag, "--size")) size = (int)arg_long(flag, v, 0, 1 << 24);
    else if (!strcmp(flag, "--inflight")) window = arg_long(flag, v, 1, 65535);
    else if (!strcmp(flag, "--nodelay")) nodelay = (int)arg_long(flag, v, 0, 1);
    else if (!strcmp(flag, "--timeout-s")) timeout_s = (double)arg_long(flag, v, 1, 86400);
    else {
      fprintf(stderr, "bare_pub: unknown flag %s\n", flag);
      return 2;
    }
  }

  signal(SIGPIPE, SIG_IGN);
  mosquitto_lib_init();

  char *payload = malloc((size_t)size + 1);
  if (!payload) return 1;
  for (int i = 0; i < size; i++) payload[i] = (char)('0' + i % 10);

  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  struct pollfd *pfds = calloc((size_t)conns, sizeof *pfds);
  if (!cs || !pfds) return 1;

  for (int i = 0; i < conns; i++) {
    struct conn *c = &cs[i];
    c->index = i;
    snprintf(c->topic, sizeof c->topic, "bench/%d", i);
    char id[64];
    snprintf(id, sizeof id, "bare_pub-%ld-%d", (long)getpid(), i);
    c->mosq = mosquitto_new(id, true, c);
    if (!c->mosq) {
      fprintf(stderr, "bare_pub: mosquitto_new failed\n");
      return 1;
    }
    mosquitto_max_inflight_messages_set(c->mosq, (unsigned)window);
    mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, nodelay);
    mosquitto_connect_callback_set(c->mosq, on_connect);
    mosquitto_publish_callback_set(c->mosq, on_publish);
    mosquitto_disconnect_callback_set(c->mosq, on_disconnect);
    int rc = mosquitto_connect(c->mosq, host, port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "bare_pub: connect %s:%d: %s\n", host, port, mosquitto_strerror(rc));
      return 1;
    }
  }

  double start = now_s();
  double deadline = start + timeout_s;
  int remaining = conns;
  while (remaining > 0) {
    /* Publish on every connection until its socket or its window is full. */
    bool more = false;
    for (int i = 0; i < conns; i++) {
      struct conn *c = &cs[i];
      int burst = 0;
      while (burst < 64 && can_publish(c, window)) {
        int rc = mosquitto_publish(c->mosq, NULL, c->topic, size, payload, g_qos, false);
        if (rc != MOSQ_ERR_SUCCESS) {
          g_errors++;
          fprintf(stderr, "bare_pub: publish on %d: %s\n", i, mosquitto_strerror(rc));
          c->failed = true;
          break;
        }
        c->sent++;
        burst++;
      }
      if (can_publish(c, window)) more = true;
    }

    int n = 0;
    for (int i = 0; i < conns; i++) {
      struct conn *c = &cs[i];
      int fd = mosquitto_socket(c->mosq);
      pfds[i].fd = (c->failed || fd < 0) ? -1 : fd;
      pfds[i].events = POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0);
      pfds[i].revents = 0;
      n++;
    }
    int ready = poll(pfds, (nfds_t)n, more ? 0 : 100);
    if (ready < 0 && errno != EINTR) {
      perror("bare_pub: poll");
      return 1;
    }
    for (int i = 0; i < conns; i++) {
      struct conn *c = &cs[i];
      if (pfds[i].fd < 0) continue;
      if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        int rc = mosquitto_loop_read(c->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
          fprintf(stderr, "bare_pub: read on %d: %s\n", i, mosquitto_strerror(rc));
          c->failed = true;
          continue;
        }
      }
      if (pfds[i].revents & POLLOUT) {
        int rc = mosquitto_loop_write(c->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
          fprintf(stderr, "bare_pub: write on %d: %s\n", i, mosquitto_strerror(rc));
          c->failed = true;
          continue;
        }
      }
    }
    double t = now_s();
    static double last_misc = 0;
    if (t - last_misc > 1.0) {
      for (int i = 0; i < conns; i++) mosquitto_loop_misc(cs[i].mosq);
      last_misc = t;
    }
    remaining = 0;
    for (int i = 0; i < conns; i++) {
      if (!done(&cs[i])) remaining++;
    }
    if (t > deadline) {
      fprintf(stderr, "bare_pub: timed out after %.0f s with %d connections unfinished\n", timeout_s, remaining);
      break;
    }
  }
  double elapsed = now_s() - start;

  long sent = 0, acked = 0;
  int failed = 0;
  for (int i = 0; i < conns; i++) {
    sent += cs[i].sent;
    acked += cs[i].acked < cs[i].sent ? cs[i].acked : cs[i].sent;
    if (cs[i].failed) failed++;
    mosquitto_disconnect(cs[i].mosq);
    mosquitto_loop_write(cs[i].mosq, 1);
    mosquitto_destroy(cs[i].mosq);
  }
  mosquitto_lib_cleanup();
  printf("bare_pub sent=%ld acked=%ld errors=%ld failed_connections=%d elapsed_s=%.3f\n", sent, acked, g_errors,
         failed, elapsed);
  free(payload);
  free(cs);
  free(pfds);
  return (failed || remaining) ? 1 : 0;
}
