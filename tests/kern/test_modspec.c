/* Module strings (kern/modspec.c), as both module runners parse them. */
#include "kern/ktest.h"
#include "kern/modspec.h"
#include "kern/string.h"

KTEST(modspec, arguments_and_options)
{
	struct modspec ms;

	modspec_parse(&ms, "tests/user/test-faults.elf  null-read expect=killed:page-fault "
	                   "group=g1 timeout=5 priv=1");
	KT_EXPECT(kt, ms.error == NULL);
	KT_ASSERT_EQ(kt, ms.argc, 2);
	KT_EXPECT(kt, strcmp(ms.argv[0], "tests/user/test-faults.elf") == 0);
	KT_EXPECT(kt, strcmp(ms.argv[1], "null-read") == 0);
	KT_EXPECT(kt, strcmp(ms.name, "test-faults.elf null-read") == 0);
	KT_EXPECT(kt, ms.expect_killed && strcmp(ms.expect_kind, "page-fault") == 0);
	KT_EXPECT(kt, ms.group && strcmp(ms.group, "g1") == 0);
	KT_EXPECT_EQ(kt, ms.timeout_s, 5);
	KT_EXPECT(kt, ms.priv);
}

KTEST(modspec, defaults)
{
	struct modspec ms;

	modspec_parse(&ms, "prog");
	KT_EXPECT(kt, ms.error == NULL);
	KT_EXPECT_EQ(kt, ms.argc, 1);
	KT_EXPECT(kt, !ms.expect_killed && ms.expect_status == 0 && ms.group == NULL);
	KT_EXPECT_EQ(kt, ms.timeout_s, MODSPEC_TIMEOUT_DEFAULT_S);
	KT_EXPECT(kt, !ms.priv);
	/* An option-looking first word is the program, not an option. */
	modspec_parse(&ms, "expect=exit:1 expect=exit:-3");
	KT_EXPECT(kt, strcmp(ms.argv[0], "expect=exit:1") == 0 && ms.expect_status == -3);
}

KTEST(modspec, malformed_strings)
{
	struct modspec ms;

	modspec_parse(&ms, "p expect=sometimes");
	KT_EXPECT(kt, ms.error != NULL);
	modspec_parse(&ms, "p timeout=0");
	KT_EXPECT(kt, ms.error != NULL);
	modspec_parse(&ms, "p priv=yes");
	KT_EXPECT(kt, ms.error != NULL);
	modspec_parse(&ms, "   ");
	KT_EXPECT(kt, ms.error != NULL && ms.argc == 1);
	modspec_parse(&ms, NULL);
	KT_EXPECT(kt, ms.error != NULL);

	/* Longer than the buffer: cut, terminated, still parsed. */
	char big[2 * MODSPEC_STRING_MAX];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	modspec_parse(&ms, big);
	KT_EXPECT_EQ(kt, strlen(ms.argv[0]), MODSPEC_STRING_MAX - 1);
	KT_EXPECT(kt, strlen(ms.name) < sizeof(ms.name));

	/* More words than argv holds. */
	char many[MODSPEC_STRING_MAX];
	size_t n = 0;

	while (n + 2 < sizeof(many)) {
		many[n++] = 'x';
		many[n++] = ' ';
	}
	many[n] = '\0';
	modspec_parse(&ms, many);
	KT_EXPECT(kt, ms.error != NULL && ms.argc == MODSPEC_ARGC_MAX);
}
