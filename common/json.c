// SPDX-License-Identifier: MIT
/* pvdma user space: the JSON emitter (json.h). */
#include "json.h"

void jsonw_init(struct jsonw *w, FILE *out)
{
	*w = (struct jsonw){ .out = out };
}

void jsonw_quote(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			putc(ch, out);
	}
	putc('"', out);
}

/* The comma and the key before a value at the current level. */
static void jsonw_member(struct jsonw *w, const char *key)
{
	if (w->depth) {
		if (w->has_member[w->depth - 1])
			fputs(", ", w->out);
		w->has_member[w->depth - 1] = true;
	}
	if (key) {
		jsonw_quote(w->out, key);
		fputs(": ", w->out);
	}
}

static void jsonw_open(struct jsonw *w, const char *key, char bracket)
{
	if (w->depth == JSONW_DEPTH_MAX) {
		w->errors++;
		return;
	}
	jsonw_member(w, key);
	putc(bracket, w->out);
	w->has_member[w->depth++] = false;
}

static void jsonw_close(struct jsonw *w, char bracket)
{
	if (!w->depth) {
		w->errors++;
		return;
	}
	w->depth--;
	putc(bracket, w->out);
}

void jsonw_object_begin(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '{');
}

void jsonw_object_end(struct jsonw *w)
{
	jsonw_close(w, '}');
}

void jsonw_array_begin(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '[');
}

void jsonw_array_end(struct jsonw *w)
{
	jsonw_close(w, ']');
}

void jsonw_u64(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_member(w, key);
	fprintf(w->out, "%llu", (unsigned long long)v);
}

void jsonw_s64(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_member(w, key);
	fprintf(w->out, "%lld", (long long)v);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_member(w, key);
	fputs(v ? "true" : "false", w->out);
}

void jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_member(w, key);
	jsonw_quote(w->out, s);
}

void jsonw_double(struct jsonw *w, const char *key, int decimals, double v)
{
	jsonw_member(w, key);
	/* JSON has no NaN or infinity: a ratio of nothing is 0. */
	if (v != v || v > 1e308 || v < -1e308)
		v = 0;
	fprintf(w->out, "%.*f", decimals, v);
}
