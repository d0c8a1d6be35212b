#ifndef AUTOSCALER_CPROCESSSPAWN_H
#define AUTOSCALER_CPROCESSSPAWN_H

#include <sys/types.h>

/// Starts `path` detached from the caller: in a new session (a Ctrl-C for the parent does not reach
/// it), with default dispositions for the signals a parent may ignore, an empty signal mask, stdin
/// from /dev/null, stdout and stderr appended to `log_path`, and no other inherited descriptor.
///
/// Returns 0 and sets `*pid`, or an errno value.
int autoscaler_spawn_detached(const char *path, char *const argv[], char *const envp[], const char *log_path, pid_t *pid);

#endif
