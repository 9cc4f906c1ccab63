#include "x86_64/io.h"
#include "x86_64/machine.h"

void machine_exit(uint32_t code)
{
	outl(0xf4, code);
	machine_halt();
}

void machine_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
