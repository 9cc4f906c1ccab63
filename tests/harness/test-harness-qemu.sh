#!/usr/bin/env bash
# test-harness-qemu.sh KERNEL [KTEST-RUN-ARGS...]
#
# Checks the test harness against the real kernel: boots KERNEL four times
# through scripts/ktest-run.py with the kernel's self-test suites and checks
# that each run is classified as it must be:
#
#   1 selftest_pass   ktest=selftest_pass   pass, no failed case
#   2 selftest_fail   ktest=selftest_fail   fail, exactly one failed case
#   3 selftest_panic  ktest=selftest_panic  panic, with the panic line
#   4 selftest_hang   ktest=selftest_hang   hang (--timeout 5), with the
#                                           position where it hung
#
# Prints KTAP (one case per run) for scripts/check.py; exits 0 if all four
# are right.  Extra arguments go to every ktest-run.py call (e.g. --qemu).
# Logs are kept in $KTEST_LOG_DIR, or a temporary directory that is removed
# when all four pass.  $PYTHON selects the interpreter (default python3).
set -u

usage() {
	sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") usage >&2; exit 2 ;;
esac

kernel=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-python3}
if [ ! -f "$kernel" ]; then
	echo "test-harness-qemu.sh: kernel image $kernel not found" >&2
	exit 2
fi
if [ -n "${KTEST_LOG_DIR:-}" ]; then
	logdir=$KTEST_LOG_DIR
	mkdir -p "$logdir" || exit 2
	keep=1
else
	logdir=$(mktemp -d "${TMPDIR:-/tmp}/harness-qemu.XXXXXX") || exit 2
	keep=0
fi

# check_json FILE EXPR: true if the Python expression EXPR, over the JSON
# written by ktest-run.py (as r), holds.
check_json() {
	"$py" -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

echo "KTAP version 1"
echo "1..4"
n=0
failed=0

# run_case NAME EXPECT JSON-CHECK DESCRIPTION [ARGS...]
run_case() {
	local name=$1 expect=$2 check=$3 what=$4
	shift 4
	n=$((n + 1))
	local json="$logdir/$name.json" out rc
	out=$("$py" "$top/scripts/ktest-run.py" --kernel "$kernel" \
		--append "ktest=$name" --name "$name" --expect "$expect" \
		--log "$logdir/$name.log" --json "$json" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && check_json "$json" "$check"; then
		echo "ok $n $name"
		return
	fi
	echo "# $name: expected $what"
	[ $rc -eq 0 ] && echo "# $name: classified $expect, but not: $check"
	printf '%s\n' "$out" | sed 's/^/# /'
	echo "not ok $n $name"
	failed=$((failed + 1))
}

run_case selftest_pass pass \
	'r["counts"]["failed"] == 0 and r["counts"]["passed"] > 0' \
	"pass with no failed case" "$@"
run_case selftest_fail fail \
	'r["counts"]["failed"] == 1' \
	"fail with exactly one failed case" "$@"
run_case selftest_panic panic \
	'r["panic"] is not None and r["panic"].startswith("KERNEL PANIC:")' \
	"panic, with the panic line reported" "$@"
run_case selftest_hang hang \
	'r["timed_out"] and r["where"] is not None' \
	"hang after --timeout 5, with where it hung" "$@" --timeout 5

if [ $failed -eq 0 ] && [ $keep -eq 0 ]; then
	rm -rf "$logdir"
else
	echo "# logs: $logdir"
fi
[ $failed -eq 0 ]
