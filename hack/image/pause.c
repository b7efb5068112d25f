// The node's pod sandbox ("pause") process: holds the pod's namespaces open,
// reaps the zombies of processes that share its PID namespace, and exits on
// SIGTERM or SIGINT. Built static, it is the whole sandbox image.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int signo) { _exit(128 + signo); }

static void on_child(int signo) {
  (void)signo;
  while (waitpid(-1, 0, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction stop = {0}, child = {0};
  stop.sa_handler = on_stop;
  sigaction(SIGTERM, &stop, 0);
  sigaction(SIGINT, &stop, 0);
  child.sa_handler = on_child;
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &child, 0);
  for (;;) pause();
}
