/*
 * count_sub: the independent subscriber of bench/run.py. One libmosquitto
 * connection subscribes to a topic filter (default bench/#) at the test's QoS,
 * prints "ready" once the broker has acknowledged the subscription, then counts
 * messages and records the time of the first and the last one.
 *
 *   cc -O2 -o count_sub count_sub.c -lmosquitto
 *   count_sub --port P --expected N [--host H] [--qos Q] [--topic F]
 *             [--idle-s S] [--start-timeout-s S]
 *
 * It stops when it has received the expected count, when no message came for
 * --idle-s seconds after the first one, when none came at all within
 * --start-timeout-s of being ready, or on SIGTERM/SIGINT, and prints:
 *   count_sub count=... expected=... first_to_last_s=... rate=...
 * where rate = count / (last - first) in messages per second.
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

static volatile sig_atomic_t g_stop = 0;
static int g_qos = 0;
static const char *g_topic = "bench/#";
static bool g_ready = false;
static bool g_failed = false;
static long g_count = 0;
static double g_first = 0, g_last = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc) {
  (void)obj;
  if (rc != 0) {
    fprintf(stderr, "count_sub: connection refused: %s\n", mosquitto_connack_string(rc));
    g_failed = true;
    return;
  }
  rc = mosquitto_subscribe(mosq, NULL, g_topic, g_qos);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "count_sub: subscribe: %s\n", mosquitto_strerror(rc));
    g_failed = true;
  }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted) {
  (void)mosq;
  (void)obj;
  (void)mid;
  if (n < 1 || granted[0] > 2) {
    fprintf(stderr, "count_sub: subscription refused\n");
    g_failed = true;
    return;
  }
  g_ready = true;
  printf("ready\n");
  fflush(stdout);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg) {
  (void)mosq;
  (void)obj;
  (void)msg;
  double t = now_s();
  if (g_count == 0) g_first = t;
  g_last = t;
  g_count++;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc) {
  (void)mosq;
  (void)obj;
  if (rc != 0) {
    fprintf(stderr, "count_sub: connection lost (rc=%d)\n", rc);
    g_failed = true;
  }
}

static double arg_num(const char *flag, const char *value, double lo, double hi) {
  char *end = NULL;
  errno = 0;
  double v = strtod(value, &end);
  if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "count_sub: %s must be a number in %g..%g, got '%s'\n", flag, lo, hi, value);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 1883;
  long expected = 0;
  double idle_s = 3;
  double start_timeout_s = 120;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (i + 1 >= argc) {
      fprintf(stderr, "count_sub: %s needs a value\n", flag);
      return 2;
    }
    const char *v = argv[++i];
    if (!strcmp(flag, "--host")) host = v;
    else if (!strcmp(flag, "--port")) port = (int)arg_num(flag, v, 1, 65535);
    else if (!strcmp(flag, "--expected")) expected = (long)arg_num(flag, v, 0, 1e12);
    else if (!strcmp(flag, "--qos")) g_qos = (int)arg_num(flag, v, 0, 2);
    else if (!strcmp(flag, "--topic")) g_topic = v;
    else if (!strcmp(flag, "--idle-s")) idle_s = arg_num(flag, v, 0.1, 3600);
    else if (!strcmp(flag, "--start-timeout-s")) start_timeout_s = arg_num(flag, v, 0.1, 86400);
    else {
      fprintf(stderr, "count_sub: unknown flag %s\n", flag);
      return 2;
    }
  }

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  mosquitto_lib_init();
  char id[64];
  snprintf(id, sizeof id, "count_sub-%ld", (long)getpid());
  struct mosquitto *mosq = mosquitto_new(id, true, NULL);
  if (!mosq) {
    fprintf(stderr, "count_sub: mosquitto_new failed\n");
    return 1;
  }
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_subscribe_callback_set(mosq, on_subscribe);
  mosquitto_message_callback_set(mosq, on_message);
  mosquitto_disconnect_callback_set(mosq, on_disconnect);
  int rc = mosquitto_connect(mosq, host, port, 60);
  if (rc != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "count_sub: connect %s:%d: %s\n", host, port, mosquitto_strerror(rc));
    return 1;
  }

  double ready_at = 0;
  double last_misc = now_s();
  while (!g_stop && !g_failed) {
    if (expected > 0 && g_count >= expected) break;
    double t = now_s();
    if (g_ready && ready_at == 0) ready_at = t;
    if (g_count > 0 && t - g_last > idle_s) break;
    if (g_count == 0 && ready_at > 0 && t - ready_at > start_timeout_s) break;

    struct pollfd pfd = {.fd = mosquitto_socket(mosq), .events = POLLIN, .revents = 0};
    if (mosquitto_want_write(mosq)) pfd.events |= POLLOUT;
    int n = poll(&pfd, 1, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("count_sub: poll");
      break;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      /* mosquitto_loop_read() handles one packet per call for QoS 0/1: keep
       * calling while it yields messages, then go back to poll(). */
      for (int k = 0; k < 4096; k++) {
        long before = g_count;
        rc = mosquitto_loop_read(mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
          fprintf(stderr, "count_sub: read: %s\n", mosquitto_strerror(rc));
          g_failed = true;
          break;
        }
        if (g_count == before) break;
        if (expected > 0 && g_count >= expected) break;
      }
    }
    if (!g_failed && (pfd.revents & POLLOUT)) {
      rc = mosquitto_loop_write(mosq, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "count_sub: write: %s\n", mosquitto_strerror(rc));
        g_failed = true;
      }
    }
    if (t - last_misc > 1.0) {
      mosquitto_loop_misc(mosq);
      last_misc = t;
    }
  }

  double span = g_last - g_first;
  double rate = (g_count > 1 && span > 0) ? (double)g_count / span : 0.0;
  printf("count_sub count=%ld expected=%ld first_to_last_s=%.6f rate=%.1f ready=%d failed=%d\n", g_count, expected, span,
         rate, g_ready ? 1 : 0, g_failed ? 1 : 0);
  fflush(stdout);
  mosquitto_disconnect(mosq);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  return g_failed ? 1 : 0;
}
