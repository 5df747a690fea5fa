/*
 * Where the installed pieces are, seen from the running binary or library.
 *
 * An install is relocatable (`meson install --destdir D`, `--prefix /tmp/x`,
 * an unpacked .deb, a tree moved elsewhere): the tool (PREFIX/BINDIR/execguard)
 * and the library (PREFIX/LIBDIR/libexecguard.so) find PREFIX by taking their
 * own install directory off their path, and use PREFIX's packs and library
 * when they are there. A build-tree run takes the build's library and the
 * source tree's packs. Anything else (a binary copied to ~/bin, a library
 * reached through the /lib symlink) uses the paths configured at build time.
 *
 * No malloc and no stdio: the library's constructor calls these.
 */
#ifndef EG_INSTALL_DIRS_H
#define EG_INSTALL_DIRS_H

#include <stdbool.h>
#include <stddef.h>

#define EG_LIBRARY_NAME "libexecguard.so"

/* Does `path` lie inside this build's build directory? */
bool eg_in_build_tree(const char *path);

/* PREFIX of an install that `self_path` (a file in PREFIX/BINDIR or
 * PREFIX/LIBDIR) belongs to, into out ("" for "/"). False when self_path is
 * in neither directory, or out is too small. */
bool eg_install_prefix(const char *self_path, char *out, size_t size);

/* The rule packs directory for a binary or library at self_path (NULL =
 * unknown: the configured one). Returns buf or a constant. */
const char *eg_packs_dir_for(const char *self_path, char *buf, size_t size);

/* The preload library an execguard binary at self_path uses. Returns buf or
 * a constant. */
const char *eg_library_for(const char *self_path, char *buf, size_t size);

#endif
