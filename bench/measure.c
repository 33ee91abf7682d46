/*
 * measure: runs a command and writes its rusage, for bench/run.py.
 *
 *   measure OUTFILE PROGRAM [ARG...]
 *
 * Forks, execs PROGRAM, waits with wait4() and writes one line to OUTFILE:
 *   status=<exit code or 128+signal> user_s=<...> sys_s=<...> maxrss_kb=<...>
 * then exits with the same status. SIGTERM, SIGINT and SIGHUP are passed on to
 * the command, and the command gets SIGKILL if measure itself dies.
 *
 * Why not fork the command from the Python harness directly: a process forked
 * from Python starts with Python's resident set, and Linux carries that
 * high-water mark across exec() into ru_maxrss, so every command would show a
 * peak RSS of at least the harness's (~15 MB). Forked from this small program,
 * the command's ru_maxrss is its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t g_child = -1;

static void forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: measure OUTFILE PROGRAM [ARG...]\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  pid_t pid = fork();
  if (pid < 0) {
    perror("measure: fork");
    return 2;
  }
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "measure: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  g_child = pid;

  int status = 0;
  struct rusage ru;
  for (;;) {
    pid_t r = wait4(pid, &status, 0, &ru);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      perror("measure: wait4");
      return 2;
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE *f = fopen(argv[1], "w");
  if (f) {
    fprintf(f, "status=%d user_s=%ld.%06ld sys_s=%ld.%06ld maxrss_kb=%ld\n", code, (long)ru.ru_utime.tv_sec,
            (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
    fclose(f);
  }
  return code;
}
