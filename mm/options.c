// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lib/fmt.h>
#include <mm/options.h>
#include <mm/os.h>

struct option_desc {
	const char *env;
	enum option_type type;
	uint64_t min, max;
};

#define OPT_INIT_NUM(def) { .num = (def) }
#define OPT_INIT_STR(def) { .str = (def) }
union option_value option_values[OPT_COUNT] = {
#define OPT_DEFAULT(id, env, type, def, lo, hi, desc) [OPT_##id] = OPT_INIT_##type(def),
	HAK_OPTIONS(OPT_DEFAULT)
#undef OPT_DEFAULT
};

static const struct option_desc options[OPT_COUNT] = {
#define OPT_DESC(id, env, type, def, lo, hi, desc) [OPT_##id] = { env, OPT_TYPE_##type, lo, hi },
	HAK_OPTIONS(OPT_DESC)
#undef OPT_DESC
};

/* The string values, copied out of the environment. */
static char *str_area;
static size_t str_left;

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

/* A copy of string option value v, in OS memory; NULL if malformed. */
static const char *copy_str(const struct option_desc *o, const char *v)
{
	size_t len = strlen(v), i;

	if (len < o->min || len > o->max)
		return NULL;
	for (i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return NULL;
	if (str_left < len + 1) {
		void *p;

		if (os_map(os_page_size(), &p))
			return NULL;
		str_area = p;
		str_left = os_page_size();
	}
	memcpy(str_area, v, len + 1);
	str_area += len + 1;
	str_left -= len + 1;
	return str_area - len - 1;
}

struct option_word {
	enum option_id id;
	const char *word;
	uint64_t value;
};

static const struct option_word option_words[] = {
#define OPT_WORD(id, word, value) { OPT_##id, word, value },
	HAK_OPTION_WORDS(OPT_WORD)
#undef OPT_WORD
};

/* Parses one value of option o; 0 when it is malformed. */
static int parse(enum option_id id, const char *v, union option_value *out)
{
	const struct option_desc *o = &options[id];
	uint64_t n;
	size_t i;

	if (o->type == OPT_TYPE_STR)
		return (out->str = copy_str(o, v)) != NULL;
	for (i = 0; i < sizeof(option_words) / sizeof(option_words[0]); i++) {
		if (option_words[i].id == id && !strcmp(option_words[i].word, v)) {
			out->num = option_words[i].value;
			return 1;
		}
	}
	if (fmt_parse_u64(v, &n) || n < o->min || n > o->max)
		return 0;
	out->num = n;
	return 1;
}

void options_init(void)
{
	char **e;
	unsigned int i;

	if (os_secure())
		return;
	for (e = environ; e && *e; e++) {
		const char *entry = *e;
		const char *eq = strchr(entry, '=');
		int known = 0;

		if (strncmp(entry, "HAKMEM_", 7) != 0 || !eq)
			continue;
		for (i = 0; i < OPT_COUNT; i++) {
			size_t len = strlen(options[i].env);
			union option_value v;

			if ((size_t)(eq - entry) != len || strncmp(entry, options[i].env, len))
				continue;
			known = 1;
			if (!parse((enum option_id)i, eq + 1, &v))
				report("malformed value, using the default", entry);
			else
				option_values[i] = v;
		}
		if (!known)
			report("unknown option ignored", entry);
	}
}

const char *option_env(enum option_id id)
{
	return options[id].env;
}

enum option_type option_type(enum option_id id)
{
	return options[id].type;
}

int option_set_num(enum option_id id, uint64_t v)
{
	if (options[id].type != OPT_TYPE_NUM || v < options[id].min || v > options[id].max)
		return EINVAL;
	atomic_store_relaxed(&option_values[id].num, v);
	return 0;
}
