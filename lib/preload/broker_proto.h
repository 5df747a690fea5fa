/*
 * The approval broker's protocol (`execguard run --approve-elsewhere`).
 *
 * The broker is the `execguard run` process itself, the parent of the
 * agent. It listens on a Unix stream socket, mode 0600, in
 * $XDG_RUNTIME_DIR/execguard/ (EG_BROKER_PREFIX SESSION EG_BROKER_SUFFIX),
 * and accepts only peers of its own user (SO_PEERCRED). The guarded
 * processes find it through EXECGUARD_BROKER = "PID:PATH" (read once at
 * process start, re-injected by the library like every EXECGUARD_ value)
 * and talk to it only if the peer's pid is PID: a socket some other process
 * put at PATH is not the broker.
 *
 * One request a connection, one line each way:
 *
 *   hook   -> broker  "ASK <json request>\n"   (approval_request.h)
 *   broker -> hook    "YES\n" | "NO <why>\n"   why: said-no, timeout,
 *                                              no-terminal, too-many-codes,
 *                                              session-ended
 *   cli    -> broker  "LIST\n"            -> "<id>\t<age s>\t<timeout s>\t<command>\t<cwd>\t<rule>\n"...  ".\n"
 *   cli    -> broker  "APPROVE <code>\n"  -> "OK <id>\t<command>\n" | "ERR <text>\n"
 *   cli    -> broker  "DENY <id>\n"       -> "OK <id>\t<command>\n" | "ERR <text>\n"
 *
 * The one-time code of a request is written to the broker's terminal only
 * (the human's), never to a socket: LIST shows ids, not codes.
 */
#ifndef EG_BROKER_PROTO_H
#define EG_BROKER_PROTO_H

#define EG_BROKER_PREFIX "broker-"
#define EG_BROKER_SUFFIX ".sock"
#define EG_BROKER_LINE_MAX (256u * 1024u) /* an ASK line, the request included */

#endif
