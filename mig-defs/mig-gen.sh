#!/bin/sh
# mig-gen.sh MIG CC OUTDIR DEFS [CPPFLAGS...]
#
# Runs MIG on DEFS and leaves OUTDIR/<name>User.c, <name>Server.c,
# <name>.h and <name>_S.h (<name> is DEFS without .defs), or fails loudly.
#
# The MIG wrapper exits 0 even when its preprocessor fails (a missing
# include, a // comment under -ansi), leaving empty or truncated files.
# So: anything on stderr, a missing or empty output, or a server without
# its demux function is an error, and the outputs only replace the old
# ones when all four are good.
#
# The preprocessor is pinned (-undef -ansi as MIG expects, -nostdinc so
# no system <mach/...> can leak in): CPP from the environment is ignored.

if [ $# -lt 4 ]; then
	echo "usage: $0 MIG CC OUTDIR DEFS [CPPFLAGS...]" >&2
	exit 2
fi
mig=$1
cc=$2
out=$3
defs=$4
shift 4

name=$(basename "$defs" .defs)
tmp=$out/.$name.tmp
fail() {
	echo "mig-gen: $defs: $*" >&2
	rm -rf "$tmp"
	exit 1
}

rm -rf "$tmp" && mkdir -p "$tmp" || fail "cannot create $tmp"

CPP="$cc -E -x c -undef -ansi -nostdinc"
export CPP
$mig "$@" -user "$tmp/${name}User.c" -server "$tmp/${name}Server.c" \
	-header "$tmp/$name.h" -sheader "$tmp/${name}_S.h" "$defs" 2>"$tmp/stderr"
rc=$?
if [ -s "$tmp/stderr" ]; then
	cat "$tmp/stderr" >&2
	fail "$mig reported errors (exit status $rc)"
fi
[ $rc -eq 0 ] || fail "$mig failed (exit status $rc)"

for f in "${name}User.c" "${name}Server.c" "$name.h" "${name}_S.h"; do
	[ -s "$tmp/$f" ] || fail "$mig produced no $f"
done
grep "^mig_external boolean_t ${name}_server" "$tmp/${name}Server.c" >/dev/null ||
	fail "${name}Server.c has no ${name}_server demux: is the subsystem called $name?"
grep "^mig_external kern_return_t" "$tmp/${name}User.c" >/dev/null ||
	fail "${name}User.c has no stubs"

for f in "${name}User.c" "${name}Server.c" "$name.h" "${name}_S.h"; do
	mv -f "$tmp/$f" "$out/$f" || fail "cannot move $f into $out"
done
rm -rf "$tmp"
