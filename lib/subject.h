/*
 * The subject of a check: from one argv, every command a rule must see.
 *
 * The top-level argv is command 0. Wrappers (sudo, env, timeout, xargs, ...),
 * shells with -c STRING and remote runners (ssh, docker exec, kubectl exec)
 * add the commands they would run, recursively, each linked to its parent.
 * A shell string is split into words and commands as a shell would
 * (quotes, escapes, ; && || | & newlines, $(...) and `...`, subshells,
 * keywords such as if/then/do, redirections), never executing anything.
 *
 * Hook-path code: no malloc, no stdio, no locks; everything lives inside
 * struct eg_subject, which the caller provides.
 */
#ifndef EG_SUBJECT_H
#define EG_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hot_text.h"

#define EG_SUBJ_MAX_CMDS 64
#define EG_SUBJ_MAX_WORDS 4096
#define EG_SUBJ_TEXT (64u * 1024u)
#define EG_SUBJ_MAX_DEPTH 8

enum eg_via {
	EG_VIA_TOP = 0,  /* the argv itself */
	EG_VIA_WRAPPER,  /* sudo, env, timeout, nice, xargs, ... */
	EG_VIA_SHELL,    /* sh/bash/dash/zsh -c STRING, su -c, eval, $(...) */
	EG_VIA_REMOTE,   /* ssh, docker/podman exec, kubectl exec */
};

struct eg_cmd {
	uint32_t first_word; /* index into subject.words; word 0 = program as written */
	uint32_t n_words;
	uint32_t first_assign; /* VAR=value words in effect for this command */
	uint32_t n_assign;     /* (env VAR=val, sudo VAR=val, shell prefixes) */
	int32_t parent;        /* index of the command that runs this one, -1 for top */
	uint8_t depth;
	uint8_t via;           /* enum eg_via */
	bool env_cleared;      /* env -i / sudo -i: the inherited environment is gone */
	bool remote;           /* runs on another machine/container: local env and cwd do not apply */
	/* Basenames the rules index on: of argv[0] as written and, for the top
	 * command, of the resolved executable (NULL when same or unknown). */
	const char *prog;
	const char *prog_exe;
	/* Set for a top command whose argv is too long to index word by word
	 * (and which is no wrapper): its words are argv[0 .. n_words). */
	char *const *argv;
};


struct eg_subject {
	/* The counters first, on the page of the first commands and words: a
	 * hook's subject lies in memory mapped fresh for each check, where
	 * every page written is a page fault (n_words after the words array
	 * was one more, 32 KiB in). */
	uint32_t n_cmds;
	uint32_t n_words;
	uint32_t text_used;
	bool overflow; /* something did not fit: the caller must fail closed */
	struct eg_cmd cmds[EG_SUBJ_MAX_CMDS];
	const char *words[EG_SUBJ_MAX_WORDS];
	char text[EG_SUBJ_TEXT]; /* storage for words produced by splitting */
};

/* Word i of command c, wherever it is stored. */
EG_HOT_INLINE const char *eg_cmd_word(const struct eg_subject *s, const struct eg_cmd *c, uint32_t i)
{
	return c->argv != NULL ? c->argv[i] : s->words[c->first_word + i];
}

enum {
	EG_SUBJ_UNWRAP_ALL = 1u << 0, /* check/lint: unwrap every wrapper and shell */
	/* Hook mode without the static/set-id test: every exec is seen
	 * (EG_CHECK_SEES_EVERY_EXEC). */
	EG_SUBJ_SEES_EVERY_EXEC = 1u << 1,
};

/*
 * Build the subject. `exe_path` is the resolved executable of argv (may be
 * NULL). Without EG_SUBJ_UNWRAP_ALL (hook mode), a wrapper or shell is only
 * unwrapped when the library will not see its child exec: the executable is
 * setuid/setgid, has file capabilities, or is not dynamically linked (no
 * PT_INTERP); remote runners are always unwrapped; and everything below such
 * an unwrapped command is unwrapped fully. Words of the top argv are pointed
 * to, not copied. Returns 0, or -1 with s->overflow set.
 */
int eg_subject_build(struct eg_subject *s, char *const argv[], const char *exe_path, unsigned flags);

/* Is `name` (a basename) a wrapper, shell or remote runner the builder
 * knows? The hooks use it as a pre-filter together with the rule index. */
bool eg_subject_is_wrapper(const char *name);
/* The i-th name eg_subject_is_wrapper knows (without a login shell's '-'),
 * NULL past the last. Loader names ("ld-...") are recognised apart. */
const char *eg_subject_wrapper_name(size_t i);

/*
 * Split a shell command string into commands, appending them to `s` as
 * children of `parent`. Exposed for tests and for lint's example lines.
 * Returns 0, or -1 with s->overflow set (unterminated quotes are not an
 * error: the text is taken as if closed at the end).
 */
int eg_subject_add_shell(struct eg_subject *s, const char *str, size_t len, int32_t parent,
    uint8_t via, unsigned flags);

/* basename without allocation: pointer into `path` after the last '/'. */
const char *eg_basename(const char *path);

#endif
