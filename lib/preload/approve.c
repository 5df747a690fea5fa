/* Asking the human through the configured channel. See approve.h. */
#include "approve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "approval_memory.h"
#include "approval_request.h"
#include "approve_elsewhere.h"
#include "guard.h"
#include "subprocess.h"

#define REQUEST_MAX (256u * 1024u)
#define APPROVER_ENV_MAX 24


static bool elsewhere_on(const struct eg_policy *p)
{
	return eg_policy_setting_bool(p, "approve-elsewhere", false);
}

static const char *approver_of(const struct eg_policy *p)
{
	const char *a = eg_policy_setting(p, "approver");
	return a && *a ? a : NULL;
}

/* A controlling terminal whose foreground group is ours (the prompt's own
 * first tests, without touching the terminal). */
static enum eg_prompt_outcome terminal_reachable(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return eg_prompt_open_failed(errno);
	pid_t fg = tcgetpgrp(fd);
	close(fd);
	if (fg < 0)
		return EG_PROMPT_NO_TTY;
	if (fg != getpgrp())
		return EG_PROMPT_BACKGROUND;
	return EG_PROMPT_YES;
}

enum eg_prompt_outcome eg_approval_reachable(const struct eg_policy *p)
{
	if (approver_of(p))
		return EG_PROMPT_YES; /* a program answers, terminal or not */
	if (elsewhere_on(p)) /* the broker answers, if this session has one */
		return eg_elsewhere_configured() ? EG_PROMPT_YES : EG_PROMPT_ERROR;
	return terminal_reachable();
}

static enum eg_refuse_why why_of_prompt(enum eg_prompt_outcome o)
{
	switch (o) {
	case EG_PROMPT_YES: break;
	case EG_PROMPT_NO: return EG_WHY_SAID_NO;
	case EG_PROMPT_TIMEOUT: return EG_WHY_TIMEOUT;
	case EG_PROMPT_NO_TTY: return EG_WHY_NO_TTY;
	case EG_PROMPT_BACKGROUND: return EG_WHY_BACKGROUND;
	case EG_PROMPT_ERROR: return EG_WHY_PROMPT_ERROR;
	}
	return EG_WHY_SAID_NO;
}

/*
 * The approver's environment is not the host's: the host is the agent, and
 * an agent that could put its own `zenity` or `curl` first in PATH, set
 * BASH_ENV, or point DISPLAY at a screen it controls would answer for the
 * human. A fixed PATH; the desktop and locale variables as the session
 * started (`execguard run` records them in EXECGUARD_APPROVER_ENV, which a
 * guarded program cannot change; without it, the caller's own); the
 * session; nothing else, and no LD_PRELOAD (the approver is the human's
 * program, not the agent's).
 */
static const char approver_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
static const char *const approver_keep[] = {
	"HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ",
	"DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
};
#define N_KEEP (sizeof approver_keep / sizeof approver_keep[0])

const char *const *eg_approver_env_names(size_t *n)
{
	*n = N_KEEP;
	return approver_keep;
}

static bool kept_name(const char *e, size_t *name_len)
{
	for (size_t k = 0; k < N_KEEP; k++) {
		size_t len = strlen(approver_keep[k]);
		if (strncmp(e, approver_keep[k], len) == 0 && e[len] == '=') {
			*name_len = len;
			return true;
		}
	}
	return false;
}

/* out: room for APPROVER_ENV_MAX pointers; session: room for the
 * "EXECGUARD_SESSION=..." entry. */
static void approver_env(char *const *envp, char **out, char *session, size_t session_size)
{
	size_t n = 0, len;
	out[n++] = (char *)approver_path;
	if (eg_guard_cfg.approver_env_set) {
		for (const char *e = eg_guard_cfg.approver_env; *e && n < N_KEEP + 1; e += strlen(e) + 1)
			if (kept_name(e, &len))
				out[n++] = (char *)e;
	} else {
		for (size_t i = 0; envp && envp[i] && n < N_KEEP + 1; i++)
			if (kept_name(envp[i], &len)) {
				bool dup = false; /* getenv sees the first one only */
				for (size_t j = 1; j < n; j++)
					dup |= strncmp(out[j], envp[i], len + 1) == 0;
				if (!dup)
					out[n++] = envp[i];
			}
	}
	static const char sv[] = "EXECGUARD_SESSION=";
	if (eg_guard_cfg.session[0] && sizeof sv + strlen(eg_guard_cfg.session) <= session_size) {
		memcpy(session, sv, sizeof sv - 1);
		strcpy(session + sizeof sv - 1, eg_guard_cfg.session);
		out[n++] = session;
	}
	out[n] = NULL;
}

/* The approver and the broker both get the JSON request; it can hold a
 * long argv, so it is built in an mmap'd buffer, not on a hook's stack. The
 * first 4 bytes are left for the broker's "ASK ". */
static void ask_with_request(const struct eg_approval_req *r, const char *approver,
    struct eg_approval *out)
{
	out->channel = approver ? EG_CHANNEL_APPROVER : EG_CHANNEL_ELSEWHERE;
	out->why = approver ? EG_WHY_APPROVER_FAILED : EG_WHY_NO_BROKER;
	char *buf = mmap(NULL, REQUEST_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return;
	size_t len = eg_approval_json(buf + 4, REQUEST_MAX - 4, r,
	    eg_guard_cfg.session[0] ? eg_guard_cfg.session : NULL);
	unsigned t = r->q->timeout_sec ? r->q->timeout_sec : EG_GUARD_DEFAULT_TIMEOUT;
	if (len == 0) {
		out->why = EG_WHY_TOO_BIG;
	} else if (!approver) {
		memcpy(buf, "ASK ", 4);
		eg_elsewhere_ask(buf, len + 4, t, out);
	} else {
		char *env[APPROVER_ENV_MAX], session[96];
		approver_env(r->envp, env, session, sizeof session);
		int st = eg_subprocess_wait(approver, buf + 4, len, env, t * 1000u);
		if (st == 0)
			out->approved = true;
		else if (st > 0)
			out->why = EG_WHY_APPROVER_NO;
		/* -1: could not start, killed, or timed out: EG_WHY_APPROVER_FAILED */
	}
	munmap(buf, REQUEST_MAX);
}

void eg_approval_ask(const struct eg_approval_req *r, struct eg_approval *out)
{
	int saved = errno;
	memset(out, 0, sizeof *out);
	out->why = EG_WHY_PROMPT_ERROR;
	const struct eg_policy *p = r->policy;
	unsigned cooldown = eg_policy_setting_seconds(p, "refuse-cooldown", EG_REFUSE_COOLDOWN_DEFAULT);
	unsigned once = eg_policy_setting_seconds(p, "allow-once", 0);
	uint64_t refused_key = eg_memory_key(r->argv, NULL);
	uint64_t approved_key = eg_memory_key(r->argv, r->q->cwd);

	/* A refusal first: of the two memories, the one that refuses wins. */
	if (cooldown &&
	    eg_memory_recall(EG_MEMORY_REFUSED, refused_key, &out->age_sec)) {
		out->channel = EG_CHANNEL_MEMORY;
		out->why = EG_WHY_COOLDOWN;
		goto done;
	}
	if (once && eg_memory_recall(EG_MEMORY_APPROVED, approved_key, &out->age_sec)) {
		out->channel = EG_CHANNEL_MEMORY;
		out->approved = true;
		goto done;
	}

	const char *approver = approver_of(p);
	if (approver || elsewhere_on(p)) {
		/* an approver program wins: it is the stronger channel */
		ask_with_request(r, approver, out);
	} else {
		out->channel = EG_CHANNEL_TERMINAL;
		enum eg_prompt_outcome o = eg_prompt_ask(r->q);
		out->approved = o == EG_PROMPT_YES;
		out->why = why_of_prompt(o);
	}

	/* Only an answer a human gave is remembered: a timeout or a missing
	 * terminal says nothing about the command. */
	if (out->approved)
		eg_memory_store(EG_MEMORY_APPROVED, approved_key, once);
	else if (out->why == EG_WHY_SAID_NO || out->why == EG_WHY_APPROVER_NO)
		eg_memory_store(EG_MEMORY_REFUSED, refused_key, cooldown);
done:
	errno = saved;
}
