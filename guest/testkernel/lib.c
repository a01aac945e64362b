/* lib.c - string functions, number parsing, CRC-32 and the printf engine. */
#include "lib.h"

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, base = 10;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		char c = s[i];
		uint64_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

uint16_t get_le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Slice-by-8: about 2.5 instructions per byte, because where KVM emulates
 * CPL0 (~2 MIPS) a bitwise CRC of a 1 MiB initrd would take 20 seconds. */
static uint32_t crc_table[8][256];
static bool crc_ready;

static void crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xFF];
	crc_ready = true;
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!crc_ready)
		crc32_init();
	crc = ~crc;
	for (; len && ((uintptr_t)p & 7); len--)
		crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w = *(const uint64_t *)p ^ crc;

		crc = crc_table[7][w & 0xFF] ^ crc_table[6][(w >> 8) & 0xFF] ^
		      crc_table[5][(w >> 16) & 0xFF] ^ crc_table[4][(w >> 24) & 0xFF] ^
		      crc_table[3][(w >> 32) & 0xFF] ^ crc_table[2][(w >> 40) & 0xFF] ^
		      crc_table[1][(w >> 48) & 0xFF] ^ crc_table[0][w >> 56];
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

struct fmt_spec {
	bool zero, left;
	int width;
	int prec; /* -1: none; for %s, the maximum length */
	int size; /* 0 int, 1 long, 2 long long/size_t */
};

static void put_padded(void (*put)(char, void *), void *ctx, const char *s, size_t n,
		       const struct fmt_spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left)
		while (pad-- > 0)
			put(sp->zero ? '0' : ' ', ctx);
	while (n--)
		put(*s++, ctx);
	if (sp->left)
		while (pad-- > 0)
			put(' ', ctx);
}

static void put_number(void (*put)(char, void *), void *ctx, uint64_t v, bool neg, int base,
		       bool upper, const struct fmt_spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && sp->zero) {
		struct fmt_spec s2 = *sp;

		put('-', ctx);
		s2.width = sp->width ? sp->width - 1 : 0;
		put_padded(put, ctx, buf + i, sizeof(buf) - i, &s2);
		return;
	}
	if (neg)
		buf[--i] = '-';
	put_padded(put, ctx, buf + i, sizeof(buf) - i, sp);
}

static uint64_t arg_unsigned(va_list *ap, int size)
{
	if (size == 2)
		return va_arg(*ap, unsigned long long);
	if (size == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int size)
{
	if (size == 2)
		return va_arg(*ap, long long);
	if (size == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

/* Parses flags, width and length of one conversion; returns the conversion char. */
static char parse_spec(const char **fmtp, struct fmt_spec *sp, va_list *ap)
{
	const char *f = *fmtp;

	*sp = (struct fmt_spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '0')
			sp->zero = true;
		else if (*f == '-')
			sp->left = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->prec = 0;
		if (*++f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->prec = sp->prec * 10 + (*f++ - '0');
	}
	while (*f == 'l' || *f == 'z') {
		sp->size = (*f == 'z' || sp->size) ? 2 : 1;
		f++;
	}
	*fmtp = f + (*f != 0);
	return *f;
}

void tk_vformat(void (*put)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		struct fmt_spec sp;
		const char *s;
		int64_t sv;
		size_t n;
		char c;

		if (*fmt != '%') {
			put(*fmt++, ctx);
			continue;
		}
		fmt++;
		switch ((c = parse_spec(&fmt, &sp, &aq))) {
		case 'd':
		case 'i':
			sv = arg_signed(&aq, sp.size);
			put_number(put, ctx, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, sv < 0, 10,
				   false, &sp);
			break;
		case 'u':
			put_number(put, ctx, arg_unsigned(&aq, sp.size), false, 10, false, &sp);
			break;
		case 'x':
		case 'X':
			put_number(put, ctx, arg_unsigned(&aq, sp.size), false, 16, c == 'X', &sp);
			break;
		case 'p':
			put('0', ctx);
			put('x', ctx);
			put_number(put, ctx, (uintptr_t)va_arg(aq, void *), false, 16, false, &sp);
			break;
		case 's':
			s = va_arg(aq, const char *);
			if (!s)
				s = "(null)";
			n = strlen(s);
			if (sp.prec >= 0 && (size_t)sp.prec < n)
				n = sp.prec;
			put_padded(put, ctx, s, n, &sp);
			break;
		case 'c':
			c = (char)va_arg(aq, int);
			put_padded(put, ctx, &c, 1, &sp);
			break;
		case 0:
			break;
		default:
			put(c, ctx);
			break;
		}
	}
	va_end(aq);
}

struct sbuf {
	char *buf;
	size_t size, len;
};

static void sbuf_put(char c, void *ctx)
{
	struct sbuf *sb = ctx;

	if (sb->len + 1 < sb->size)
		sb->buf[sb->len] = c;
	sb->len++;
}

int tk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sbuf sb = { buf, size, 0 };

	tk_vformat(sbuf_put, &sb, fmt, ap);
	if (size)
		buf[sb.len < size ? sb.len : size - 1] = 0;
	return (int)sb.len;
}

int tk_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = tk_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
