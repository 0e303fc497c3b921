// signals.h — SIGINT and SIGTERM as a request to stop: the first one sets a flag that the program
// polls between units of work (a training step, an evaluation batch) so that it can save and leave
// cleanly; a second one takes the default action at once.
#ifndef RN_SIGNALS_H
#define RN_SIGNALS_H

// Installs the handlers. on_first (may be NULL) runs inside the handler for the first signal and
// must be async-signal-safe.
void rn_stop_signals_install(void (*on_first)(void));
// The first signal received, 0 while none was.
int rn_stop_signal(void);

#endif
