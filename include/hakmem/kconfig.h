/* SPDX-License-Identifier: MIT */
/*
 * IS_ENABLED(CONFIG_FOO): 1 when CONFIG_FOO is set to y, else 0, usable in
 * C expressions so that disabled code is still type-checked (the Linux
 * idiom).  autoconf.h defines CONFIG_FOO as 1 for bool options that are y.
 */
#ifndef HAKMEM_KCONFIG_H
#define HAKMEM_KCONFIG_H

#include <generated/autoconf.h>

#define __HAK_ARG_PLACEHOLDER_1 0,
#define __hak_take_second_arg(__ignored, val, ...) val
#define __hak_is_defined(x) ___hak_is_defined(x)
#define ___hak_is_defined(val) ____hak_is_defined(__HAK_ARG_PLACEHOLDER_##val)
#define ____hak_is_defined(arg1_or_junk) __hak_take_second_arg(arg1_or_junk 1, 0)

#define IS_ENABLED(option) __hak_is_defined(option)

#endif
