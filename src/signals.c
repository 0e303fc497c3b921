// signals.c — stop requests from SIGINT / SIGTERM; see signals.h.
#define _POSIX_C_SOURCE 200809L
#include "src/signals.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

static volatile sig_atomic_t got_signal;
static void (*first_hook)(void);

static void on_signal(int sig) {
    if (got_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    got_signal = sig;
    if (first_hook) first_hook();
}

void rn_stop_signals_install(void (*on_first)(void)) {
    first_hook = on_first;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int rn_stop_signal(void) { return got_signal; }
