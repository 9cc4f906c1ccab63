#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (run as root) to build and test machperf:
# installs the Debian packages that are missing, builds newlib when the
# build script exists, runs autoreconf and configure.  Idempotent, and quick
# when there is nothing to do.
#
# Usage: scripts/setup.sh [--no-configure] [configure options...]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# The packages, each for a tool the build or the tests call.
packages=(
	gcc make binutils           # the compiler and linker
	autoconf automake           # autoreconf
	qemu-system-x86             # qemu-system-x86_64
	mig-x86-64-gnu              # x86_64-gnu-mig
	newlib-source               # /usr/src/newlib/newlib-*.tar.xz
	xz-utils                    # unpacks the newlib tarball
	python3                     # the test harness
	clang-format                # make format-check
)

configure=1
if [ "${1:-}" = "--no-configure" ]; then
	configure=0
	shift
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"ok installed"*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
		echo "setup: run 'sudo $0' or 'apt-get install ${missing[*]}'" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -x scripts/build-newlib.sh ]; then
	scripts/build-newlib.sh >/dev/null
fi

if [ $configure -eq 1 ]; then
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		echo "setup: autoreconf"
		autoreconf -fi
	fi
	if [ ! -f Makefile ] || [ configure -nt config.status ] || [ $# -gt 0 ]; then
		echo "setup: configure $*"
		./configure -q "$@"
	fi
fi
echo "setup: ready"
