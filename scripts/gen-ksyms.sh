#!/bin/sh
# Usage: gen-ksyms.sh KERNEL.ELF > ksyms.S
# Emits the sorted table of text symbols that kern/ksyms.c searches.
set -eu
elf=$1
nm -n --defined-only "$elf" | awk '
	$2 ~ /^[tT]$/ && $3 !~ /^\./ && $3 !~ /^(_text|_etext)$/ {
		addr[n] = $1; name[n] = $3; n++
	}
	END {
		print "\t.section .ksyms, \"a\""
		print "\t.globl ksym_count, ksym_addrs, ksym_name_off, ksym_names"
		print "\t.balign 8"
		print "ksym_count:\t.quad " n
		print "ksym_addrs:"
		for (i = 0; i < n; i++) print "\t.quad 0x" addr[i]
		print "ksym_name_off:"
		off = 0
		for (i = 0; i < n; i++) { print "\t.long " off; off += length(name[i]) + 1 }
		print "ksym_names:"
		for (i = 0; i < n; i++) print "\t.asciz \"" name[i] "\""
	}'
