#!/usr/bin/env bash
# build-newlib.sh — build an x86_64-elf newlib (libc.a, libm.a, headers) for
# machperf userland from Debian's newlib-source package, into a cache.
#
# Usage: scripts/build-newlib.sh [--prefix-root DIR] [--print-prefix] [--jobs N]
#
#   --prefix-root DIR  cache root (default ${MACHPERF_CACHE:-$HOME/.cache/machperf})
#   --print-prefix     print the install prefix on stdout (after building if needed);
#                      nothing else is ever written to stdout, so a Makefile can use
#                      NEWLIB := $(shell scripts/build-newlib.sh --print-prefix)
#   --jobs N           parallel make jobs for a cold build (default: nproc)
#
# Result: PREFIX = ROOT/newlib-<key>, with PREFIX/x86_64-elf/include and
# PREFIX/x86_64-elf/lib/{libc.a,libm.a}.  <key> hashes this file (the recipe),
# the newlib-source package version, and the gcc and binutils versions, so any
# change to them builds a fresh prefix.  PREFIX appears (by an atomic rename)
# only once complete and verified; PREFIX/.machperf-newlib-complete is written
# before the rename and is what the fast path checks.  Concurrent callers
# serialise on ROOT/newlib-<key>.lock (flock).  The full build log is
# ROOT/newlib-<key>.log.
#
# Recipe (DESIGN.md, "Facts established on this machine", newlib):
#   configure --target=x86_64-elf --disable-multilib
#             --enable-newlib-io-long-long --enable-newlib-io-c99-formats
#             --enable-newlib-retargetable-locking
#   host binutils/gcc as the *_FOR_TARGET tools; target CFLAGS below.
#   target CFLAGS: -O2 -g -ffreestanding -fno-stack-protector -fno-pie
#   -mno-red-zone -nostdinc -isystem $(gcc -print-file-name=include)
#   -Wa,--noexecstack -DGETREENT_PROVIDED.
#   newlib adds -fno-builtin to its own compiles by default (configure.host),
#   so we do not pass it.  -Wa,--noexecstack marks the stacks of memcpy.S,
#   memset.S and setjmp.S non-executable (else every userland link warns).
#   -nostdinc keeps every host header directory (in particular
#   /usr/include/newlib, which is ARM-configured) off the path; the only
#   system include dir is gcc's own (stddef.h, stdarg.h, float.h ...).
#   Known, harmless: libm's long double complex functions (csinl ...) call
#   sinl etc., which newlib 3.3 does not provide on x86_64; don't use them.
#
# What userland must provide when linking against this libc:
#   * syscalls, no leading underscore except _exit:
#       write read close lseek fstat isatty sbrk kill getpid _exit
#     (plus open, gettimeofday, times, unlink, link, ... if it uses them).
#   * crt0 (newlib ships none): align the stack to 16, call __libc_init_array,
#     atexit(__libc_fini_array), define _init/_fini.
#   * struct _reent *__getreent(void) — REQUIRED.  This newlib is built with
#     __DYNAMIC_REENT__ (defined in the installed <sys/config.h>, so programs
#     see the same _REENT as the library) and with GETREENT_PROVIDED, so libc.a
#     does not define __getreent: a program that forgets it fails to link
#     instead of silently sharing errno/stdio state between threads.  It must
#     return the calling thread's struct _reent; the initial thread may return
#     _impure_ptr, other threads a struct _reent set up with _REENT_INIT_PTR().
#     It is called on every errno access and stdio call: keep it cheap.
#   * Locks: --enable-newlib-retargetable-locking.  libc.a contains no-op
#     __retarget_lock_* functions and __lock___*_mutex objects (single-threaded
#     default).  A multi-threaded userland must define ALL of them (see
#     newlib/libc/misc/lock.c) or the link fails with duplicate symbols.
#   * Compile with -ffreestanding -fno-pie -mno-red-zone -nostdinc
#     -isystem PREFIX/x86_64-elf/include -isystem $(gcc -print-file-name=include)
#     and link -static -no-pie below 2 GiB (small code model).  newlib uses SSE.

set -euo pipefail
unset CDPATH

readonly TARGET=x86_64-elf
readonly SRC_DIR=/usr/src/newlib
readonly STAMP_NAME=.machperf-newlib-complete

die() { printf 'build-newlib.sh: %s\n' "$*" >&2; exit 1; }
note() { printf 'build-newlib.sh: %s\n' "$*" >&2; }

usage() {
    sed -n '4,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

root=
print_prefix=0
jobs=
while [ $# -gt 0 ]; do
    case $1 in
        --prefix-root) [ $# -ge 2 ] || die "--prefix-root needs a directory"; root=$2; shift 2 ;;
        --prefix-root=*) root=${1#*=}; shift ;;
        --print-prefix) print_prefix=1; shift ;;
        --jobs|-j) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift 2 ;;
        --jobs=*) jobs=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ -n "$jobs" ]; then
    case $jobs in ''|*[!0-9]*|0) die "--jobs wants a positive integer, got '$jobs'" ;; esac
fi

# ---- inputs of the cache key ------------------------------------------------
no_source() {
    printf '%s\n' "newlib source not found: install the Debian package newlib-source (apt-get install newlib-source)" >&2
    exit 2
}
pkg=$(dpkg-query -W -f='${db:Status-Status}|${Version}' newlib-source 2>/dev/null) || no_source
[ "${pkg%%|*}" = installed ] || no_source
pkg_version=${pkg#*|}
tarball=
for f in "$SRC_DIR"/newlib-*.tar.xz; do
    [ -f "$f" ] && tarball=$f
done
[ -n "$tarball" ] || no_source

gcc_version=$(gcc -dumpfullversion 2>/dev/null) || die "gcc not found"
binutils_version=$(as --version 2>/dev/null | head -n 1) || die "as (binutils) not found"
key=$(
    {
        cat "${BASH_SOURCE[0]}"
        printf '\n--\nnewlib-source %s\n%s\ngcc %s\n%s\n' \
            "$pkg_version" "${tarball##*/}" "$gcc_version" "$binutils_version"
    } | sha256sum | cut -c1-16
)

# ---- cache location ------------------------------------------------------------
root=${root:-${MACHPERF_CACHE:-$HOME/.cache/machperf}}
case $root in *[[:space:]]*) die "cache root must not contain whitespace: '$root'" ;; esac
prefix_rel=newlib-$key
# Fast path: no mkdir, no lock — just the stamp.
if [ -d "$root" ]; then
    root=$(cd "$root" && pwd)
    if [ -f "$root/$prefix_rel/$STAMP_NAME" ]; then
        [ "$print_prefix" = 1 ] && printf '%s\n' "$root/$prefix_rel"
        exit 0
    fi
fi
mkdir -p "$root"
root=$(cd "$root" && pwd)
prefix=$root/$prefix_rel
stamp=$prefix/$STAMP_NAME
lock=$root/$prefix_rel.lock
log=$root/$prefix_rel.log

exec 9>"$lock"
if ! flock -n 9; then
    note "waiting for another newlib build ($lock)"
    flock 9
fi
if [ -f "$stamp" ]; then          # another caller built it while we waited
    [ "$print_prefix" = 1 ] && printf '%s\n' "$prefix"
    exit 0
fi

# We hold the lock: anything half-done for this key is stale.
rm -rf "$prefix" "$root/$prefix_rel".tmp.*

work=$(mktemp -d "$root/$prefix_rel.tmp.XXXXXX")
# Long steps run in a process group of their own (setsid) so that on a signal
# we stop exactly the build we started, then remove the temporary tree.
build_pid=
run_logged() {  # run_logged CMD ARGS...: run CMD with its output in the log
    setsid "$@" >>"$log" 2>&1 </dev/null &
    build_pid=$!
    local rc=0
    wait "$build_pid" || rc=$?
    build_pid=
    return "$rc"
}
# shellcheck disable=SC2317  # invoked from the traps below
on_signal() {
    if [ -n "$build_pid" ]; then
        kill -TERM -- "-$build_pid" 2>/dev/null || kill -TERM "$build_pid" 2>/dev/null || true
        wait "$build_pid" 2>/dev/null || true
    fi
    note "interrupted; nothing was installed"
    exit "$1"
}
trap 'rm -rf "$work"' EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

fail() {
    note "$*"
    if [ -f "$log" ]; then
        first=$(grep -m1 -E ': (fatal )?error:|^configure: error' "$log" || true)
        [ -z "$first" ] || note "first error in the log: $first"
        note "last 30 lines of $log:"
        tail -n 30 "$log" >&2
    fi
    exit 1
}

# A clean environment: no caller's make jobserver, flags or include paths
# (CPATH and friends would reach past -nostdinc).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS \
      CC CPP CFLAGS CPPFLAGS LDFLAGS LIBS CPATH C_INCLUDE_PATH OBJC_INCLUDE_PATH \
      LIBRARY_PATH GCC_EXEC_PREFIX COMPILER_PATH CONFIG_SITE
export LC_ALL=C

gcc_include=$(gcc -print-file-name=include)
[ -f "$gcc_include/stddef.h" ] || die "gcc's own include directory not found ($gcc_include)"
jobs=${jobs:-$(nproc 2>/dev/null || echo 2)}

target_cflags="-O2 -g -ffreestanding -fno-stack-protector -fno-pie -mno-red-zone"
target_cflags+=" -nostdinc -isystem $gcc_include"
target_cflags+=" -Wa,--noexecstack -DGETREENT_PROVIDED"
target_cflags+=" -fdebug-prefix-map=$work=/machperf-newlib"

note "building newlib $pkg_version for $TARGET into $prefix (log: $log)"
start=$SECONDS
: >"$log"
{
    printf '== build-newlib.sh key %s\n== newlib-source %s (%s)\n== gcc %s; %s\n== CFLAGS_FOR_TARGET=%s\n' \
        "$key" "$pkg_version" "$tarball" "$gcc_version" "$binutils_version" "$target_cflags"
} >>"$log"

run_logged tar -xJf "$tarball" -C "$work" || fail "unpacking $tarball failed"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -print -quit)
if [ ! -x "$src/configure" ] || [ ! -d "$src/newlib" ]; then
    fail "unexpected layout in $tarball"
fi

# Per-thread reentrancy: make __DYNAMIC_REENT__ part of the installed headers so
# the library and every program agree on what _REENT (errno, stdin/stdout) means.
config_h=$src/newlib/libc/include/sys/config.h
grep -q '^#include <sys/features.h>' "$config_h" || fail "cannot patch $config_h"
sed -i 's|^#include <sys/features.h>.*$|&\
\
/* machperf (scripts/build-newlib.sh): per-thread reentrancy; the program\
   must define struct _reent *__getreent(void). */\
#ifndef __DYNAMIC_REENT__\
#define __DYNAMIC_REENT__\
#endif|' "$config_h"

mkdir "$work/build" "$work/stage"
cd "$work/build"
run_logged "$src/configure" \
    --target="$TARGET" \
    --prefix="$prefix" \
    --disable-multilib \
    --disable-nls \
    --enable-newlib-io-long-long \
    --enable-newlib-io-c99-formats \
    --enable-newlib-retargetable-locking \
    CC_FOR_TARGET=gcc \
    CXX_FOR_TARGET=g++ \
    GCC_FOR_TARGET=gcc \
    AS_FOR_TARGET=as \
    LD_FOR_TARGET=ld \
    AR_FOR_TARGET=ar \
    RANLIB_FOR_TARGET=ranlib \
    NM_FOR_TARGET=nm \
    OBJDUMP_FOR_TARGET=objdump \
    OBJCOPY_FOR_TARGET=objcopy \
    READELF_FOR_TARGET=readelf \
    STRIP_FOR_TARGET=strip \
    CFLAGS_FOR_TARGET="$target_cflags" \
    || fail "configure failed"
run_logged make -j"$jobs" all-target-newlib || fail "make all-target-newlib failed"
run_logged make install-target-newlib DESTDIR="$work/stage" || fail "make install-target-newlib failed"
cd "$root"

# ---- verify, stamp, publish ----------------------------------------------------
staged=$work/stage$prefix
inc=$staged/$TARGET/include
lib=$staged/$TARGET/lib
for f in "$inc/stdio.h" "$inc/newlib.h" "$inc/sys/config.h" "$lib/libc.a" "$lib/libm.a"; do
    [ -f "$f" ] || fail "verification: ${f#"$staged"/} was not installed"
done
defined() {  # defined ARCHIVE SYMBOL: ARCHIVE has a global definition of SYMBOL
    nm -g --defined-only "$1" 2>/dev/null | awk -v s="$2" '$NF == s { found = 1 } END { exit !found }'
}
for s in printf snprintf malloc free qsort __retarget_lock_acquire_recursive; do
    defined "$lib/libc.a" "$s" || fail "verification: libc.a does not define $s"
done
defined "$lib/libm.a" sqrt || fail "verification: libm.a does not define sqrt"
if defined "$lib/libc.a" __getreent; then
    fail "verification: libc.a defines __getreent (GETREENT_PROVIDED not honoured)"
fi
grep -q '^#define _RETARGETABLE_LOCKING' "$inc/newlib.h" \
    || fail "verification: newlib.h lacks _RETARGETABLE_LOCKING"
grep -q '^#define __DYNAMIC_REENT__' "$inc/sys/config.h" \
    || fail "verification: sys/config.h lacks __DYNAMIC_REENT__"
# Every member (including memcpy.S, memset.S, setjmp.S) marks its stack
# non-executable, or each userland link warns about an executable stack.
for a in "$lib/libc.a" "$lib/libm.a"; do
    members=$(ar t "$a" | wc -l)
    marked=$(readelf -SW "$a" | grep -c '\.note\.GNU-stack' || true)
    [ "$members" = "$marked" ] || fail "verification: $((members - marked)) members of ${a##*/} lack .note.GNU-stack"
done
if grep -q '/usr/include/newlib' "$log"; then
    fail "verification: /usr/include/newlib appears in the build log"
fi

{
    printf 'key %s\nnewlib-source %s\ngcc %s\n%s\nbuilt %s in %ss\n' \
        "$key" "$pkg_version" "$gcc_version" "$binutils_version" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - start))"
} >"$staged/$STAMP_NAME"
mv -T "$staged" "$prefix" || fail "could not move the install into $prefix"
note "newlib ready in $((SECONDS - start))s: $prefix"

[ "$print_prefix" = 1 ] && printf '%s\n' "$prefix"
exit 0
