/*
 * The approval broker of `execguard run --approve-elsewhere` (the server
 * side of lib/preload/broker_proto.h). It runs in the `execguard run`
 * process, which stays the agent's parent: requests from the session's
 * hooks wait here, their one-time codes go to this process's terminal (the
 * human's) only, and `execguard approve CODE` / `execguard deny ID` answer
 * them from any terminal.
 */
#ifndef EG_BROKER_H
#define EG_BROKER_H

#include <stddef.h>
#include <sys/types.h>

struct broker;

/* Listen on $XDG_RUNTIME_DIR/execguard/broker-SESSION.sock (0600, in a
 * private directory). `spec` gets "PID:PATH" for EXECGUARD_BROKER.
 * NULL with a message on stderr if it cannot. */
struct broker *broker_open(const char *session, unsigned timeout_sec, char *spec, size_t size);

/* Serve until `child` ends; every request still waiting is refused. Returns
 * the child's wait status. Closes and removes the socket. */
int broker_serve(struct broker *b, pid_t child);

/* In the child after fork: drop the broker's descriptors. */
void broker_forget(struct broker *b);

/* The short tag of a session that starts its codes and ids: 2 characters
 * for codes, 4 for ids. */
void broker_session_tag(const char *session, char tag[5]);

#endif
