/* SPDX-License-Identifier: MIT */
/*
 * pvdma user space: the one JSON emitter of the programs' machine-readable
 * output (pvdma-replay --json, pvdmactl/pvdmad stats, the benches).
 *
 * A writer streams to a FILE: members are separated by ", " and keys by
 * ": ", on one line, so every program's JSON reads alike and stays one
 * record per line. The writer tracks the commas; callers only open, write
 * and close. Strings are escaped (quote, backslash, control characters).
 * Nesting deeper than JSONW_DEPTH_MAX is a caller bug and is refused.
 */
#ifndef PVDMA_COMMON_JSON_H
#define PVDMA_COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_DEPTH_MAX	8

/**
 * struct jsonw - one JSON value being written
 * @out:	where it goes
 * @depth:	objects and arrays open
 * @has_member:	per open level, whether a member was written (comma due)
 * @errors:	misuse seen (close without open, too deep); output then invalid
 */
struct jsonw {
	FILE *out;
	unsigned int depth;
	bool has_member[JSONW_DEPTH_MAX];
	unsigned int errors;
};

void jsonw_init(struct jsonw *w, FILE *out);

/* @key is NULL inside an array and for the outermost value. */
void jsonw_object_begin(struct jsonw *w, const char *key);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w, const char *key);
void jsonw_array_end(struct jsonw *w);

void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_s64(struct jsonw *w, const char *key, int64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_string(struct jsonw *w, const char *key, const char *s);
/* @decimals digits after the point, like printf's "%.*f". */
void jsonw_double(struct jsonw *w, const char *key, int decimals, double v);

/* The escaped form of @s, quotes included, to @out. */
void jsonw_quote(FILE *out, const char *s);

#endif /* PVDMA_COMMON_JSON_H */
