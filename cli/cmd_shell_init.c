/*
 * execguard shell-init bash|zsh|fish: print the snippet that guards an
 * interactive shell, for
 *
 *     eval "$(execguard shell-init bash)"       # ~/.bashrc
 *     eval "$(execguard shell-init zsh)"        # ~/.zshrc
 *     execguard shell-init fish | source        # ~/.config/fish/config.fish
 *
 * A running shell cannot load a preload library, and a shell execs its
 * commands itself (no library call of ours sits in between), so the only way
 * to guard the shell and everything it starts is to start it again with
 * LD_PRELOAD set. The snippet, when the library is not yet mapped into the
 * shell (/proc/$$/maps), exports LD_PRELOAD and EXECGUARD_POLICY (the policy
 * block written now), EXECGUARD_SESSION (the audit session id, unless one
 * is set) and `exec`s the same shell binary, interactive. The new
 * shell reads its rc file again, evaluates the snippet again, finds the
 * library loaded and does nothing. A loop guard stops after one attempt if
 * the library did not load.
 *
 * Only interactive shells are restarted: in a script the snippet does
 * nothing (exec'ing would lose the script).
 *
 * A broken rule file: diagnostics on stderr (file:line:column), exit 78,
 * nothing on stdout, so `eval` runs nothing.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static const char shell_init_usage[] =
    "usage: execguard shell-init bash|zsh|fish\n"
    "\n"
    "Print the snippet that turns the guard on for an interactive shell:\n"
    "  bash: eval \"$(execguard shell-init bash)\"      (in ~/.bashrc)\n"
    "  zsh:  eval \"$(execguard shell-init zsh)\"       (in ~/.zshrc)\n"
    "  fish: execguard shell-init fish | source       (in ~/.config/fish/config.fish)\n"
    "\n"
    "The shell is started again (exec) with the guard loaded; variables that\n"
    "are not exported, functions and aliases defined by hand, and background\n"
    "jobs of the current shell do not survive that. Use it from the rc file.\n";

/* 'text' with ' written as '\'' (POSIX shells). */
static void put_sh_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* fish single quotes: only \' and \\ are special. */
static void put_fish_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* bash and zsh share the snippet but for the way they name their binary and
 * the history they keep. */
static void print_posix(FILE *f, const char *shell, const char *lib, const char *from,
    const char *policy, const char *session)
{
	fprintf(f, "# execguard shell-init %s: guard this interactive shell and everything it starts.\n",
	    shell);
	fputs("# When the guard is not loaded yet, the shell is started again with it (exec).\n", f);
	fprintf(f, "__execguard_lib=");
	put_sh_quoted(f, lib);
	fputs("\n__execguard_from=", f);
	put_sh_quoted(f, from ? from : "");
	fputs("\n__execguard_policy=", f);
	put_sh_quoted(f, policy);
	fputs("\n__execguard_session=", f);
	put_sh_quoted(f, session);
	fputs("\n", f);
	/* a session copy that is gone: the library it was made from */
	fputs("if [ -n \"$__execguard_from\" ] && [ ! -r \"$__execguard_lib\" ]; then\n"
	      "  __execguard_lib=$__execguard_from; __execguard_from=\n"
	      "fi\n",
	    f);
	fputs("__execguard_loaded=\n"
	      "if [ -r /proc/$$/maps ]; then\n"
	      "  while IFS= read -r __execguard_l; do\n"
	      "    case $__execguard_l in *'/libexecguard.so'*) __execguard_loaded=1; break ;; esac\n"
	      "  done < /proc/$$/maps\n"
	      "else\n"
	      "  __execguard_loaded=unknown\n"
	      "fi\n",
	    f);
	fputs("case $- in\n"
	      "*i*)\n"
	      "  if [ -z \"$__execguard_loaded\" ]; then\n"
	      "    if [ \"${__execguard_reexec:-}\" = \"$$\" ]; then\n"
	      "      echo \"execguard: the guard did not load into this shell ($__execguard_lib); it is NOT guarded\" >&2\n"
	      "    elif [ ! -r \"$__execguard_lib\" ]; then\n"
	      "      echo \"execguard: $__execguard_lib is missing; this shell is NOT guarded\" >&2\n"
	      "    else\n"
	      "      export LD_PRELOAD=\"$__execguard_lib${LD_PRELOAD:+:$LD_PRELOAD}\"\n"
	      "      export EXECGUARD_POLICY=\"$__execguard_policy\"\n"
	      "      if [ -n \"$__execguard_from\" ]; then export EXECGUARD_LIBRARY=\"$__execguard_from\"; else unset EXECGUARD_LIBRARY; fi\n"
	      "      export EXECGUARD_MODE=shell-init\n"
	      "      export EXECGUARD_SESSION=\"${EXECGUARD_SESSION:-$__execguard_session}\"\n"
	      "      export __execguard_reexec=$$\n",
	    f);
	if (strcmp(shell, "bash") == 0) {
		fputs("      history -a 2>/dev/null\n"
		      "      exec \"$BASH\" -i\n",
		    f);
	} else {
		fputs("      fc -AI 2>/dev/null\n"
		      "      exec \"${$(readlink /proc/$$/exe 2>/dev/null):-zsh}\" -i\n",
		    f);
	}
	fputs("    fi\n"
	      "  elif [ \"$__execguard_loaded\" = unknown ]; then\n"
	      "    echo \"execguard: /proc is not readable, cannot tell whether this shell is guarded\" >&2\n"
	      "  fi\n"
	      "  ;;\n"
	      "esac\n"
	      "unset __execguard_lib __execguard_from __execguard_policy __execguard_session __execguard_loaded __execguard_l\n"
	      "unset __execguard_reexec\n",
	    f);
}

static void print_fish(FILE *f, const char *lib, const char *from, const char *policy,
    const char *session)
{
	fputs("# execguard shell-init fish: guard this interactive shell and everything it starts.\n"
	      "# When the guard is not loaded yet, fish is started again with it (exec).\n",
	    f);
	fputs("set -l __execguard_lib ", f);
	put_fish_quoted(f, lib);
	fputs("\nset -l __execguard_from ", f);
	put_fish_quoted(f, from ? from : "");
	fputs("\nset -l __execguard_policy ", f);
	put_fish_quoted(f, policy);
	fputs("\nset -l __execguard_session ", f);
	put_fish_quoted(f, session);
	fputs("\n", f);
	/* a session copy that is gone: the library it was made from */
	fputs("if test -n \"$__execguard_from\"; and not test -r $__execguard_lib\n"
	      "    set __execguard_lib $__execguard_from\n"
	      "    set __execguard_from ''\n"
	      "end\n",
	    f);
	fputs("if status is-interactive\n"
	      "    if not test -r /proc/$fish_pid/maps\n"
	      "        echo \"execguard: /proc is not readable, cannot tell whether this shell is guarded\" >&2\n"
	      "    else if not string match -q -- '*/libexecguard.so*' </proc/$fish_pid/maps\n"
	      "        if test \"$__execguard_reexec\" = \"$fish_pid\"\n"
	      "            echo \"execguard: the guard did not load into this shell ($__execguard_lib); it is NOT guarded\" >&2\n"
	      "        else if not test -r $__execguard_lib\n"
	      "            echo \"execguard: $__execguard_lib is missing; this shell is NOT guarded\" >&2\n"
	      "        else\n"
	      "            if set -q LD_PRELOAD[1]; and test -n \"$LD_PRELOAD\"\n"
	      "                set -gx LD_PRELOAD \"$__execguard_lib:$LD_PRELOAD\"\n"
	      "            else\n"
	      "                set -gx LD_PRELOAD $__execguard_lib\n"
	      "            end\n"
	      "            set -gx EXECGUARD_POLICY $__execguard_policy\n"
	      "            if test -n \"$__execguard_from\"\n"
	      "                set -gx EXECGUARD_LIBRARY $__execguard_from\n"
	      "            else\n"
	      "                set -e EXECGUARD_LIBRARY\n"
	      "            end\n"
	      "            set -gx EXECGUARD_MODE shell-init\n"
	      "            set -q EXECGUARD_SESSION[1]; or set -gx EXECGUARD_SESSION $__execguard_session\n"
	      "            set -gx __execguard_reexec $fish_pid\n"
	      "            history save 2>/dev/null\n"
	      "            set -l __execguard_fish (status fish-path 2>/dev/null)\n"
	      "            test -x \"$__execguard_fish\"; or set __execguard_fish fish\n"
	      "            exec $__execguard_fish -i\n"
	      "        end\n"
	      "    end\n"
	      "end\n"
	      "set -e __execguard_reexec\n",
	    f);
}

int cmd_shell_init(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(shell_init_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		cli_error("shell-init", argc < 2 ? "which shell? bash, zsh or fish"
						 : "one shell name expected (bash, zsh or fish)");
		fputs(shell_init_usage, stderr);
		return EX_USAGE;
	}
	const char *shell = argv[1];
	if (strcmp(shell, "bash") != 0 && strcmp(shell, "zsh") != 0 && strcmp(shell, "fish") != 0) {
		cli_error("shell-init", "unknown shell '%s' (bash, zsh or fish)", shell);
		return EX_USAGE;
	}

	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = cli_load_policy(&rs, NULL, 0, false, NULL);
	eg_ruleset_free(&rs);
	if (p == NULL) {
		cli_error("shell-init", "the rule files above must be fixed; the shell stays unguarded");
		return EX_CONFIG;
	}
	const char *lib = cli_library_path();
	if (access(lib, R_OK) != 0) {
		cli_error("shell-init", "the preload library %s cannot be read: %s", lib,
		    strerror(errno));
		eg_policy_free(p);
		return EX_CONFIG;
	}
	if (lib[0] != '/' || strpbrk(lib, ": \t\n") != NULL) {
		cli_error("shell-init", "the preload library path '%s' cannot be used in LD_PRELOAD "
		    "(it must be absolute, without ':' or blanks)", lib);
		eg_policy_free(p);
		return EX_CONFIG;
	}
	char policy_path[PATH_MAX];
	if (eg_policy_save(p, environ, policy_path, sizeof policy_path) != 0) {
		cli_error("shell-init", "cannot write the policy file: %s", strerror(errno));
		eg_policy_free(p);
		return EX_CONFIG;
	}
	eg_policy_free(p);
	/* the audit session of this shell (an outer one, if any, is kept) */
	char session[17];
	if (cli_new_session_id(session) != 0) {
		cli_error("shell-init", "cannot make a session id: %s", strerror(errno));
		return EX_OSERR;
	}

	/* the session copy of the library, carrying the policy (library_copy.h) */
	const char *preload = cli_session_library(lib, policy_path, false);
	const char *from = preload != lib ? lib : NULL;
	if (strcmp(shell, "fish") == 0)
		print_fish(stdout, preload, from, policy_path, session);
	else
		print_posix(stdout, shell, preload, from, policy_path, session);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("shell-init", "cannot write the snippet: %s", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}
