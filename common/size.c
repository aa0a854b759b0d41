// SPDX-License-Identifier: MIT
/*
 * pvdma user space: size parsing (size.h has the grammar) and printing.
 *
 * Written digit by digit rather than with strtoull(): strtoull takes
 * leading blanks, a sign (and negates "-1" into 2^64 - 1) and octal, all
 * of which a size must refuse.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "size.h"

static int size_digit(char c, unsigned int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return (unsigned int)v < base ? v : -1;
}

/* The digits of @base at *s; *s is left on the first character after. */
static bool size_digits(const char **s, unsigned int base, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int d;

	if (size_digit(*p, base) < 0)
		return false;
	for (; (d = size_digit(*p, base)) >= 0; p++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*s = p;
	*out = v;
	return true;
}

/* The number at *s, decimal or 0x hex; *s is left after it. */
static bool size_number(const char **s, uint64_t *out)
{
	if ((*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
		*s += 2;
		return size_digits(s, 16, out);
	}
	return size_digits(s, 10, out);
}

/* The binary shift of suffix letter @c; -1 if it is none. */
static int size_suffix_shift(char c)
{
	static const char letters[] = "kmgt";
	unsigned int i;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (i = 0; letters[i]; i++)
		if (letters[i] == c)
			return 10 * (int)(i + 1);
	return -1;
}

static bool size_is(const char *s, const char *word)
{
	while (*word && *s == *word) {
		s++;
		word++;
	}
	return !*word && !*s;
}

bool size_parse(const char *s, uint64_t *out)
{
	uint64_t v;
	int shift;

	if (!s || !size_number(&s, &v))
		return false;
	if (*s) {
		shift = size_suffix_shift(*s++);
		if (shift < 0 || !(size_is(s, "") || size_is(s, "B") ||
				   size_is(s, "iB")))
			return false;
		if (v > (UINT64_MAX >> shift))
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}

bool size_parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;

	if (!size_parse(s, &v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool size_parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (!s || !size_digits(&s, 10, &v) || *s || v > max)
		return false;
	*out = v;
	return true;
}

uint64_t size_arg(const char *prog, const char *opt, const char *s)
{
	uint64_t v;

	if (size_parse(s, &v))
		return v;
	fprintf(stderr, "%s: bad --%s: '%s' (a number, decimal or 0x hex, "
		"with an optional K, M, G or T suffix)\n", prog, opt, s);
	exit(2);
}

const char *size_human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.*f %s", v < 10.0 ? 2 : 1, v, units[u]);
	return buf;
}
