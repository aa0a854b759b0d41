/* SPDX-License-Identifier: MIT */
/*
 * pvdma user space: the one parser of byte counts and other sizes given on
 * a command line or in an option string, and of plain decimals; and the
 * one printer of a byte count for people (size_human).
 *
 * Grammar (whole string, nothing else around it):
 *
 *	size   := number [suffix]
 *	number := decimal digits | "0x" or "0X" hex digits
 *	suffix := ("K" | "M" | "G" | "T") ["iB" | "B"]	(case-insensitive letter)
 *
 * A suffix multiplies by a power of 1024 (K = 2^10 ... T = 2^40). Leading
 * zeros are decimal, never octal. No sign, no white space, no fraction; a
 * value that does not fit in 64 bits is refused, never wrapped.
 */
#ifndef PVDMA_COMMON_SIZE_H
#define PVDMA_COMMON_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * size_parse - parse @s by the grammar above
 * @s:	the text
 * @out: the value, written only on success
 *
 * Return: true if @s is a size and fits in 64 bits.
 */
bool size_parse(const char *s, uint64_t *out);

/**
 * size_parse_range - size_parse(), and the value in [@lo, @hi]
 */
bool size_parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/**
 * size_parse_decimal - a plain unsigned decimal (an id, a pid, a count
 * from the environment): digits alone, no suffix, no hex
 * @s:	the text (NULL is refused)
 * @max: the largest value accepted
 * @out: the value, written only on success
 */
bool size_parse_decimal(const char *s, uint64_t max, uint64_t *out);

/**
 * size_arg - size_parse() of a command-line option's value, for programs
 * whose every bad argument is a usage error
 * @prog:	the program, for the message
 * @opt:	the long option, without its dashes
 * @s:		the value
 *
 * Return: the value. A bad one prints "PROG: bad --OPT: 'S'" and the
 * grammar to stderr and ends the program with status 2.
 */
uint64_t size_arg(const char *prog, const char *opt, const char *s);

/**
 * size_human - @bytes for people, in the largest binary unit it reaches:
 * "512 B", "64.0 KiB", "1.50 GiB" (two decimals under 10, one from 10;
 * bytes exact)
 * @bytes:	the count
 * @buf:	where the text goes
 * @len:	@buf's size (32 holds any count)
 *
 * Return: @buf, for use inside a printf's arguments.
 */
const char *size_human(uint64_t bytes, char *buf, size_t len);

#endif /* PVDMA_COMMON_SIZE_H */
