/*
 * Cases that exist to prove the harness classifies outcomes correctly
 * (tests/harness/test-harness-qemu.sh).  They run only when named:
 * ktest=selftest_pass, selftest_fail, selftest_panic, selftest_hang.
 */
#include "kern/ktest.h"
#include "kern/panic.h"

KTEST(selftest_pass, arithmetic)
{
	volatile int x = 6;

	KT_EXPECT_EQ(kt, x * 7, 42);
}

KTEST(selftest_fail, passes)
{
	KT_EXPECT(kt, 1 + 1 == 2);
}

KTEST(selftest_fail, fails_on_purpose)
{
	volatile int x = 6;

	KT_EXPECT_EQ(kt, x * 7, 43);
}

KTEST(selftest_panic, panics_on_purpose)
{
	panic("selftest_panic: deliberate panic");
}

KTEST(selftest_hang, hangs_on_purpose)
{
	for (;;)
		__asm__ volatile("hlt");
}
