// SPDX-License-Identifier: MIT
/* Whether the process runs under Valgrind (CONFIG_VALGRIND); see
 * mm/valgrind.h. */
#include <mm/valgrind.h>

int vg_running;

void vg_detect(void)
{
	vg_running = RUNNING_ON_VALGRIND != 0;
}
