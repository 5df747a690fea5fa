/*
 * Internals shared by subject.c, wrappers.c and shell_split.c.
 * Hook-path code: no malloc, no stdio, no locks.
 */
#ifndef EG_SUBJECT_INT_H
#define EG_SUBJECT_INT_H

#include "subject.h"

/* What kind of program a basename names. */
enum eg_wkind {
	EG_WK_NONE = 0,
	/* shells */
	EG_WK_SH,   /* POSIX-like shell: -c is a flag, the string is the first operand */
	EG_WK_FISH, /* fish: -c/--command STRING, -C/--init-command STRING */
	/* setuid-ish / privilege wrappers */
	EG_WK_SUDO,
	EG_WK_SUDOEDIT,
	EG_WK_DOAS,
	EG_WK_SU,
	EG_WK_RUNUSER,
	EG_WK_PKEXEC,
	EG_WK_RUN0,
	EG_WK_SYSTEMD_RUN,
	/* plain wrappers */
	EG_WK_ENV,
	EG_WK_NICE,
	EG_WK_IONICE,
	EG_WK_NOHUP,
	EG_WK_TIMEOUT,
	EG_WK_TIME,
	EG_WK_STDBUF,
	EG_WK_CHRT,
	EG_WK_TASKSET,
	EG_WK_SETSID,
	EG_WK_FLOCK,
	EG_WK_XARGS,
	EG_WK_WATCH,
	EG_WK_BUSYBOX,
	EG_WK_FIND,
	EG_WK_EXECGUARD,
	EG_WK_LDSO,    /* the dynamic loader run as a program: ld-linux-x86-64.so.2 PROG */
	/* shell builtins */
	EG_WK_COMMAND,
	EG_WK_BUILTIN, /* builtin, noglob, nocorrect: the rest is the command */
	EG_WK_EXEC,
	EG_WK_EVAL,
	EG_WK_TRAP,    /* trap STRING SIGNALS: the string runs later */
	/* remote runners */
	EG_WK_SSH,
	EG_WK_DOCKER,  /* docker, podman, nerdctl: exec / container exec / compose exec */
	EG_WK_COMPOSE, /* docker-compose, podman-compose: exec */
	EG_WK_KUBECTL, /* kubectl, oc */
};

/* Kind of a basename (a login shell's leading '-' is accepted). */
enum eg_wkind eg_subj_kind(const char *name);
/* Remote runners and service-manager runners: the child never loads us. */
bool eg_subj_kind_always(enum eg_wkind k);
/* Shell builtins: not a process of their own. */
bool eg_subj_kind_builtin(enum eg_wkind k);

/* subject.c: storage helpers. All set s->overflow and return -1 when full. */
int eg_subj_fail(struct eg_subject *s);
int eg_subj_push_word(struct eg_subject *s, const char *w);
/* Reserve `n` bytes of text; NULL (overflow set) if it does not fit. */
char *eg_subj_text_alloc(struct eg_subject *s, size_t n);
/* Append a command; prog is derived from its first word. Returns the index. */
int eg_subj_add_cmd(struct eg_subject *s, const struct eg_cmd *c);
/* Unwrap commands from index `from` on (the worklist grows as it goes). */
int eg_subj_process(struct eg_subject *s, uint32_t from, int32_t root_parent, unsigned flags,
    const char *exe_path);

/* wrappers.c: add the command(s) that command `idx` of kind `k` runs. */
int eg_subj_unwrap(struct eg_subject *s, uint32_t idx, enum eg_wkind k);
/* Does command `idx` read a script from its standard input (a shell without
 * -c or a script operand, ssh without a remote command, sudo -i / su without
 * a command), directly or through wrappers and container runners that pass
 * their standard input on (`sudo bash`, `docker exec -i CTR sh`)? *remote is
 * set when the script runs remotely, *direct when `idx` itself reads it (the
 * wrappers are unwrapped tentatively to find out, then undone). Used for
 * `bash <<EOF`, `ssh host <<EOF` and here-strings `bash <<< WORD`. */
bool eg_subj_reads_script(struct eg_subject *s, uint32_t idx, bool *remote, bool *direct);

/* shell_split.c */
struct eg_split_ctx {
	int32_t parent;
	uint8_t via;
	uint8_t depth;      /* depth of the commands produced */
	uint32_t inh_first; /* assignments in effect for every produced command */
	uint32_t inh_n;
	bool cleared;
	bool remote;
	/* Positional parameters of the string (sh -c STRING NAME ARGS...):
	 * $0 is pos0 (NULL: unknown, left as written), $1.. are pos[0..npos).
	 * Without pos_set nothing is substituted. With pos_open more operands
	 * follow that are not known here (xargs appends them from its input,
	 * find -exec ... {} + appends file names): $N past npos, $@, $* and $#
	 * are left as written. */
	const char *pos0;
	const char *const *pos;
	uint32_t npos;
	bool pos_set;
	bool pos_open;
};
/* Positional parameters of the shell code command `idx` runs (its -c
 * string, or the script it reads from stdin); eval and trap use those of
 * the string they are in. Fills the pos* fields of ctx. */
void eg_subj_positional(const struct eg_subject *s, int32_t idx, struct eg_split_ctx *ctx);
/* Split a shell string; appends commands only (no unwrapping). */
int eg_subj_split(struct eg_subject *s, const char *str, size_t len, const struct eg_split_ctx *ctx);
/* Split a string into words the way `env -S` does; appends them to s->words
 * and returns how many, or -1 (overflow). */
int eg_subj_split_words(struct eg_subject *s, const char *str, size_t len);

#endif
