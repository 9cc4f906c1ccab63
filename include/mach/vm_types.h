/*
 * The machine-sized integer types of the Mach ABI on x86_64
 * (<mach/machine/vm_types.h> in GNU Mach).  Shared with userland.
 *
 * natural_t and integer_t are 32 bits.  Addresses and sizes are 64 bits,
 * but MIG packs message bodies to 4 bytes, so a 64-bit field can sit at
 * an offset of 4 mod 8 and the generated stubs pass pointers to such
 * fields (inout and out arguments).  Every 64-bit type that appears in a
 * .defs file (the pointer types of out-of-line arrays too) is therefore
 * declared with 4-byte alignment: the compiler
 * then knows such a pointer may be 4-aligned (no -Waddress-of-packed-member
 * warning, no UBSan misaligned-access report).  Values and arithmetic
 * are unaffected; only a struct member of these types packs more
 * tightly.  Use uintptr_t or uint64_t where natural alignment matters
 * (atomics).
 */
#ifndef MACH_VM_TYPES_H
#define MACH_VM_TYPES_H

#include <stdint.h>

typedef unsigned int natural_t;
typedef int integer_t;

/* 64-bit integers as MIG carries them: MACH_MSG_TYPE_INTEGER_64, 4-aligned. */
typedef int64_t rpc_int64_t __attribute__((aligned(4)));
typedef uint64_t rpc_uint64_t __attribute__((aligned(4)));

typedef uint64_t vm_offset_t __attribute__((aligned(4)));
typedef uint64_t vm_address_t __attribute__((aligned(4)));
typedef uint64_t vm_size_t __attribute__((aligned(4)));

/* Out-of-line data (vm_read, vm_write): its address. */
typedef vm_offset_t pointer_t;

_Static_assert(sizeof(natural_t) == 4 && sizeof(integer_t) == 4, "natural_t, integer_t");
_Static_assert(sizeof(rpc_uint64_t) == 8 && _Alignof(rpc_uint64_t) == 4, "rpc_uint64_t");
_Static_assert(sizeof(rpc_int64_t) == 8 && _Alignof(rpc_int64_t) == 4, "rpc_int64_t");
_Static_assert(sizeof(vm_address_t) == 8 && _Alignof(vm_address_t) == 4, "vm_address_t");
_Static_assert(sizeof(vm_size_t) == 8 && _Alignof(vm_size_t) == 4, "vm_size_t");
_Static_assert(sizeof(vm_offset_t) == sizeof(void *), "vm_offset_t holds an address");

#endif
