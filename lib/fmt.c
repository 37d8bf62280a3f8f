// SPDX-License-Identifier: MIT
#include <string.h>
#include <lib/fmt.h>

int fmt_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	int digits = 0;

	if (!s)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!digits)
		return -1;
	switch (*s) {
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	default: break;
	}
	if (*s != '\0')
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

void fmt_char(struct fmt_buf *b, char c)
{
	if (b->size == 0)
		return;
	if (b->len + 1 < b->size)
		b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}

void fmt_str(struct fmt_buf *b, const char *s)
{
	while (*s)
		fmt_char(b, *s++);
}

void fmt_u64(struct fmt_buf *b, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		fmt_char(b, tmp[--n]);
}

void fmt_hex(struct fmt_buf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	fmt_str(b, "0x");
	while (n)
		fmt_char(b, tmp[--n]);
}

void fmt_out_flush(struct fmt_out *o)
{
	if (o->len && o->sink(o->ctx, o->buf, o->len))
		o->failed = 1;
	o->len = 0;
}

void fmt_out_mem(struct fmt_out *o, const char *s, size_t n)
{
	while (n) {
		size_t k = sizeof(o->buf) - o->len;

		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			fmt_out_flush(o);
	}
}

void fmt_out_str(struct fmt_out *o, const char *s)
{
	fmt_out_mem(o, s, strlen(s));
}

void fmt_out_u64(struct fmt_out *o, uint64_t v)
{
	char buf[24];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_u64(&b, v);
	fmt_out_mem(o, buf, b.len);
}

void fmt_out_hex(struct fmt_out *o, uint64_t v)
{
	char buf[24];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_hex(&b, v);
	fmt_out_mem(o, buf, b.len);
}
