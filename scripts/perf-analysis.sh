#!/bin/sh
# perf-analysis.sh: drive a running machperf kernel from the host
# (docs/perf-analysis.md).  `perf-analysis.sh --help` lists the
# subcommands, `perf-analysis.sh SUBCOMMAND --help` explains one.
# Exit codes: 0 success, 1 regression or failed check, 2 usage or
# environment error.
#
# The work is done by scripts/perf_analysis.py (python3, standard
# library only): unix sockets and JSON are not the shell's strength.
# MACHPERF_BUILD names the build tree (default: this script's tree),
# MACHPERF_STATE the state directory (default: BUILD/.perf-analysis).
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || {
	echo "perf-analysis.sh: python3 is missing: apt-get install python3." >&2
	exit 2
}
exec python3 "$here/perf_analysis.py" "$@"
