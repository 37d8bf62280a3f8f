// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include <lib/fmt.h>
#include <mm/options.h>
#include <mm/os.h>

struct option_desc {
	const char *env;
	uint64_t min, max;
};

uint64_t option_values[OPT_COUNT] = {
#define OPT_DEFAULT(id, env, def, lo, hi, desc) [OPT_##id] = (def),
	HAK_OPTIONS(OPT_DEFAULT)
#undef OPT_DEFAULT
};

static const struct option_desc options[OPT_COUNT] = {
#define OPT_DESC(id, env, def, lo, hi, desc) [OPT_##id] = { env, lo, hi },
	HAK_OPTIONS(OPT_DESC)
#undef OPT_DESC
};

extern char **environ;

static void report(const char *what, const char *entry)
{
	char buf[256];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: ");
	fmt_str(&b, what);
	fmt_str(&b, ": ");
	fmt_str(&b, entry);
	fmt_str(&b, "\n");
	os_write_stderr(buf, b.len);
}

void options_init(void)
{
	char **e;
	unsigned int i;

	for (e = environ; e && *e; e++) {
		const char *entry = *e;
		const char *eq = strchr(entry, '=');
		int known = 0;

		if (strncmp(entry, "HAKMEM_", 7) != 0 || !eq)
			continue;
		for (i = 0; i < OPT_COUNT; i++) {
			size_t len = strlen(options[i].env);
			uint64_t v;

			if ((size_t)(eq - entry) != len || strncmp(entry, options[i].env, len))
				continue;
			known = 1;
			if (fmt_parse_u64(eq + 1, &v) || v < options[i].min || v > options[i].max)
				report("malformed value, using the default", entry);
			else
				option_values[i] = v;
		}
		if (!known)
			report("unknown option ignored", entry);
	}
}
