/*
 * What the kernel will do with an executable, as far as LD_PRELOAD goes:
 * setuid/setgid and file capabilities (the loader ignores LD_PRELOAD in
 * secure-execution mode) and static binaries (no loader at all).
 * Hook-path code: stat, getxattr, open/pread/fstatfs/close, prctl and the
 * get*id calls only; errno preserved.
 */
#ifndef EG_EXE_PROBE_H
#define EG_EXE_PROBE_H

#include <stdbool.h>

enum {
	EG_EXE_SETID = 1u << 0,   /* setuid or setgid bit */
	EG_EXE_CAPS = 1u << 1,    /* security.capability xattr */
	EG_EXE_STATIC = 1u << 2,  /* ELF without PT_INTERP */
	EG_EXE_SCRIPT = 1u << 3,  /* "#!" script: its interpreter runs it */
	EG_EXE_DYNAMIC = 1u << 4, /* ELF with PT_INTERP */
	EG_EXE_UNREADABLE = 1u << 5, /* exists but could not be read (e.g. mode 0111) */
	EG_EXE_MISSING = 1u << 6, /* stat failed */
	EG_EXE_OTHER = 1u << 7,   /* readable, neither ELF nor script (binfmt_misc, garbage) */
	/* EG_EXE_SETID and the bits would change this process's ids, so the
	 * kernel runs it in secure-execution mode (the loader drops
	 * LD_PRELOAD). Not set for root running a setuid-root program, under
	 * no_new_privs, or on a nosuid mount: the library loads there. */
	EG_EXE_SETID_SECURE = 1u << 8,
};

/* Probe `path`; returns EG_EXE_* bits. */
unsigned eg_exe_probe(const char *path);

/* Will the library not see the execs this program makes? True for setuid,
 * setgid, capability and static executables, and (failing closed) for files
 * that exist but cannot be read. Scripts count as dynamic. */
bool eg_exe_unseen(const char *path);

#endif
