// SPDX-License-Identifier: MIT
/*
 * QEMU's command line (its /proc/PID/cmdline) read for what it says about
 * guest RAM - the machine, -m, the memory backend - and the layout that
 * gives compared with pvdmad's own (guest_ram_check_qemu_args(),
 * guest_ram.h). Apart from guest_ram.c, which owns the layouts and the
 * RAM file: this file only parses what a peer wrote.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "guest_ram.h"

/*
 * Read as QEMU reads it (system/vl.c): an argument not starting with '-'
 * is a disk image and takes no value; "--name" is "-name" (one extra dash
 * is dropped); an option takes the next argument as its value unless it
 * is one of the few flags below, whatever that argument looks like. The
 * values of -machine, -m and -object are "key=value,..." lists whose
 * first item may omit "<implied key>=", ",," standing for a comma; a key
 * given again (in one value or a later option) wins over the earlier.
 */

/* QEMU options that take no value (qemu-options.hx); any other takes one. */
static const char *const qemu_flag_opts[] = {
	"S", "s", "h", "help", "version", "snapshot", "nographic",
	"full-screen", "enable-kvm", "no-reboot", "no-shutdown", "usb",
	"daemonize", "nodefaults", "no-user-config", "nodefconfig",
	"preconfig", "only-migratable", "mem-prealloc", "semihosting",
	"win2k-hack", "no-fd-bootchk", "old-param", "perfmap", "jitdump",
	"enable-sync-profile", "xen-attach", "xen-domid-restrict",
	"no-hpet", "no-acpi", "no-quit", "alt-grab", "ctrl-grab", "sdl",
	"curses", "singlestep", "localtime", "rtc-td-hack", "enable-fips",
	"show-cursor", "no-frame", "portrait", "async-teardown", "no-kvm",
};

/* A piece of the command line: not NUL-terminated, may hold ",,". */
struct qemu_str {
	const char *s;
	size_t n;
};

static bool qstr_is(struct qemu_str a, const char *b)
{
	return a.n == strlen(b) && !memcmp(a.s, b, a.n);
}

/* Two values as QEMU sees them: ",," is one comma. */
static bool qstr_same(struct qemu_str a, struct qemu_str b)
{
	size_t i = 0, j = 0;

	while (i < a.n && j < b.n && a.s[i] == b.s[j]) {
		i += a.s[i] == ',' ? 2 : 1;
		j += b.s[j] == ',' ? 2 : 1;
	}
	return i >= a.n && j >= b.n;
}

/**
 * struct qemu_argv - QEMU's argv, one option at a time
 * @p:		the next argument
 * @end:	the end of the command line read
 * @cut:	the command line read ends inside an argument (cut short)
 */
struct qemu_argv {
	const char *p, *end;
	bool cut;
};

static void qemu_argv_init(struct qemu_argv *it, const char *args, size_t len)
{
	it->p = args;
	it->end = args + len;
	it->cut = len && args[len - 1] != '\0';
}

/* The next argument; false at the end or on one cut short. */
static bool qemu_argv_next(struct qemu_argv *it, struct qemu_str *arg)
{
	const char *nul;

	if (it->p >= it->end)
		return false;
	nul = memchr(it->p, '\0', (size_t)(it->end - it->p));
	if (!nul) {
		it->p = it->end;
		return false;
	}
	arg->s = it->p;
	arg->n = (size_t)(nul - it->p);
	it->p = nul + 1;
	return true;
}

/* "-m", "--m" -> "m" (system/vl.c lookup_opt); false for a disk image. */
static bool qemu_opt_name(struct qemu_str arg, struct qemu_str *name)
{
	if (!arg.n || arg.s[0] != '-')
		return false;
	name->s = arg.s + 1;
	name->n = arg.n - 1;
	if (name->n && name->s[0] == '-') {
		name->s++;
		name->n--;
	}
	return true;
}

static bool qemu_opt_takes_value(struct qemu_str name)
{
	size_t i;

	/* "--", "---x": no option of QEMU's (it stops there); what follows
	 * is still read, it can only add to what is compared */
	if (!name.n || name.s[0] == '-')
		return false;
	for (i = 0; i < sizeof(qemu_flag_opts) / sizeof(qemu_flag_opts[0]); i++)
		if (qstr_is(name, qemu_flag_opts[i]))
			return false;
	return true;
}

/*
 * The next option after argv[0]'s: its name, normalised, and its value
 * (empty for a flag). False at the end, or where its value was cut off.
 */
static bool qemu_argv_opt(struct qemu_argv *it, struct qemu_str *name,
			  struct qemu_str *val)
{
	struct qemu_str arg;

	while (qemu_argv_next(it, &arg)) {
		if (!qemu_opt_name(arg, name))
			continue;
		*val = (struct qemu_str){ "", 0 };
		return !qemu_opt_takes_value(*name) || qemu_argv_next(it, val);
	}
	return false;
}

/*
 * The next "key=value" item of @v (QemuOpts and keyval alike); the first
 * without '=' is @implied's value. Consumes it from @v.
 */
static bool qemu_next_kv(struct qemu_str *v, bool first, const char *implied,
			 struct qemu_str *key, struct qemu_str *val)
{
	size_t i = 0, k;

	if (!v->n)
		return false;
	for (k = 0; k < v->n && v->s[k] != '=' && v->s[k] != ','; k++)
		;
	if (k < v->n && v->s[k] == '=') {
		*key = (struct qemu_str){ v->s, k };
		i = k + 1;
	} else if (first) {
		*key = (struct qemu_str){ implied, strlen(implied) };
	} else {
		/* a bare "key": a QemuOpts boolean, keyval refuses it */
		*key = (struct qemu_str){ v->s, k };
		i = k;
	}
	val->s = v->s + i;
	for (; i < v->n; i++) {
		if (v->s[i] != ',')
			continue;
		if (i + 1 < v->n && v->s[i + 1] == ',')
			i++;
		else
			break;
	}
	val->n = (size_t)(v->s + i - val->s);
	v->s += i < v->n ? i + 1 : i;
	v->n -= i < v->n ? i + 1 : i;
	return true;
}

/* QEMU's size syntax (qemu_strtosz): digits and an optional B/K/M/G/T/P/E,
 * either case. Fractions and hex are QEMU's too: false, as for malformed
 * or too large, and the size counts as unknown. */
static bool qemu_parse_size(struct qemu_str v, u64 *out)
{
	static const char units[] = "bkmgtpe";
	u64 x = 0, mult = 1;
	const char *u;
	size_t i;

	if (!v.n || v.s[0] < '0' || v.s[0] > '9' ||
	    (v.n > 1 && v.s[0] == '0' && (v.s[1] | 0x20) == 'x'))
		return false;
	for (i = 0; i < v.n && v.s[i] >= '0' && v.s[i] <= '9'; i++) {
		if (x > (~0ull - 9) / 10)
			return false;
		x = x * 10 + (u64)(v.s[i] - '0');
	}
	if (i < v.n) {
		u = memchr(units, v.s[i] | 0x20, sizeof(units) - 1);
		if (!u || i + 1 != v.n)
			return false;
		mult = 1ull << (10 * (u - units));
	}
	if (x && mult > ~0ull / x)
		return false;
	*out = x * mult;
	return true;
}

/* A -machine type ("q35", "pc-q35-7.2") as a layout: versioned names
 * lay RAM out as their alias does. -1: not one pvdmad knows. */
static int qemu_machine_layout(struct qemu_str v)
{
	static const struct { const char *name; bool versioned; int machine; } names[] = {
		{ "q35", false, GUEST_RAM_Q35 }, { "pc-q35-", true, GUEST_RAM_Q35 },
		{ "pc", false, GUEST_RAM_PC }, { "pc-i440fx-", true, GUEST_RAM_PC },
		{ "virt", false, GUEST_RAM_VIRT }, { "virt-", true, GUEST_RAM_VIRT },
	};
	size_t i, l;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		l = strlen(names[i].name);
		if ((names[i].versioned ? v.n > l : v.n == l) &&
		    !memcmp(v.s, names[i].name, l))
			return names[i].machine;
	}
	return -1;
}

/* What the command line sets about RAM, one slot per setting. */
enum qemu_ram_key {
	QK_TYPE,	/* -machine type */
	QK_BELOW_4G,	/* -machine max-ram-below-4g */
	QK_MEMDEV,	/* -machine memory-backend */
	QK_MSIZE,	/* -machine memory.size */
	QK_SIZE,	/* -m size */
	QK_NR
};

/**
 * struct qemu_ram_args - what a QEMU command line says about RAM
 * @val:	each setting's winning value
 * @set:	which of @val were given
 * @unsure:	which settings a later -readconfig (or the part of the
 *		command line not read) may set instead
 * @readconfig:	a -readconfig was given
 */
struct qemu_ram_args {
	struct qemu_str val[QK_NR];
	unsigned int set;
	unsigned int unsure;
	bool readconfig;
};

static void qemu_set(struct qemu_ram_args *q, enum qemu_ram_key k,
		     struct qemu_str v)
{
	q->val[k] = v;
	q->set |= 1u << k;
	q->unsure &= ~(1u << k);
}

/* The keys of one option that say something about RAM, and their slots. */
struct qemu_keys {
	const char *implied;
	struct { const char *key; enum qemu_ram_key slot; } k[4];
};

/* -machine / -M: keyval, implied "type". */
static const struct qemu_keys qemu_machine_keys = { "type", {
	{ "type", QK_TYPE }, { "max-ram-below-4g", QK_BELOW_4G },
	{ "memory-backend", QK_MEMDEV }, { "memory.size", QK_MSIZE },
} };

/* -m: QemuOpts, implied "size". */
static const struct qemu_keys qemu_mem_keys = { "size", {
	{ "size", QK_SIZE },
} };

static void qemu_opts(struct qemu_str v, const struct qemu_keys *keys,
		      struct qemu_ram_args *q)
{
	struct qemu_str key, val;
	bool first = true;
	size_t i;

	while (qemu_next_kv(&v, first, keys->implied, &key, &val)) {
		first = false;
		for (i = 0; i < sizeof(keys->k) / sizeof(keys->k[0]); i++)
			if (keys->k[i].key && qstr_is(key, keys->k[i].key))
				qemu_set(q, keys->k[i].slot, val);
	}
}

static void qemu_parse_args(const char *args, size_t len,
			    struct qemu_ram_args *q)
{
	struct qemu_str name, val, argv0;
	struct qemu_argv it;

	*q = (struct qemu_ram_args){ 0 };
	qemu_argv_init(&it, args, len);
	if (!qemu_argv_next(&it, &argv0))
		return;
	while (qemu_argv_opt(&it, &name, &val)) {
		if (qstr_is(name, "machine") || qstr_is(name, "M")) {
			qemu_opts(val, &qemu_machine_keys, q);
		} else if (qstr_is(name, "m")) {
			qemu_opts(val, &qemu_mem_keys, q);
		} else if (qstr_is(name, "readconfig")) {
			/* its file can set any of them; later options still win */
			q->unsure = (1u << QK_NR) - 1;
			q->readconfig = true;
		}
	}
	/* what was not read can set anything */
	if (it.p < it.end || it.cut)
		q->unsure = (1u << QK_NR) - 1;
}

/*
 * The size= of the -object whose id is @id (a memory backend); false if
 * none on the command line (one from -readconfig, or written as JSON).
 */
static bool qemu_backend_size(const char *args, size_t len, struct qemu_str id,
			      struct qemu_str *size)
{
	struct qemu_str name, val, key, v, argv0;
	struct qemu_str oid, osize;
	struct qemu_argv it;
	bool found = false, first, has_id, has_size;

	qemu_argv_init(&it, args, len);
	if (!qemu_argv_next(&it, &argv0))
		return false;
	while (qemu_argv_opt(&it, &name, &val)) {
		if (!qstr_is(name, "object"))
			continue;
		first = true;
		has_id = has_size = false;
		while (qemu_next_kv(&val, first, "qom-type", &key, &v)) {
			first = false;
			if (qstr_is(key, "id")) {
				oid = v;
				has_id = true;
			} else if (qstr_is(key, "size")) {
				osize = v;
				has_size = true;
			}
		}
		if (has_id && qstr_same(oid, id)) {
			found = has_size;
			*size = osize;
		}
	}
	return found;
}

/* Add "; what" to the note of what could not be checked. */
static void note_add(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_add(char *why, size_t why_len, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (!why || !why_len)
		return;
	off = strnlen(why, why_len);
	if (off + 2 >= why_len)
		return;
	if (off)
		off += (size_t)snprintf(why + off, why_len - off, "; ");
	else
		off += (size_t)snprintf(why, why_len, "not checked: ");
	if (off >= why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why + off, why_len - off, fmt, ap);
	va_end(ap);
}

/*
 * The RAM size QEMU was given, 0 if it can't be known: -m (in MiB without
 * a suffix) over -machine memory.size, rounded up to 8 KiB as QEMU's
 * machine does; else the size of the -machine memory-backend. -EINVAL if
 * the two are given and disagree.
 */
static int qemu_ram_size(const struct qemu_ram_args *q, const char *args,
			 size_t len, u64 *size, char *why, size_t why_len)
{
	struct qemu_str v, bs;
	bool unread = false;
	u64 backend = 0;

	*size = 0;
	if (q->set & (1u << QK_SIZE)) {
		v = q->val[QK_SIZE];
		unread = !qemu_parse_size(v, size);
		if (unread)
			note_add(why, why_len, "-m %.*s not understood",
				 (int)PVDMA_MIN(v.n, 32u), v.s);
		else if (v.s[v.n - 1] >= '0' && v.s[v.n - 1] <= '9')
			*size = *size > ~0ull >> 20 ? 0 : *size << 20;
	}
	/* "-m 0" is no -m at all; one not understood still wins */
	if (!*size && !unread && (q->set & (1u << QK_MSIZE)) &&
	    !qemu_parse_size(q->val[QK_MSIZE], size))
		note_add(why, why_len, "-machine memory.size not understood");
	*size = *size > ~0ull - 8191 ? 0 : (*size + 8191) & ~8191ull;
	if (!(q->set & (1u << QK_MEMDEV)))
		return 0;
	v = q->val[QK_MEMDEV];
	if (!qemu_backend_size(args, len, v, &bs) ||
	    !qemu_parse_size(bs, &backend)) {
		/* with a size given QEMU holds the backend to it itself */
		if (!*size && !unread)
			note_add(why, why_len, "the size of memory-backend %.*s",
				 (int)PVDMA_MIN(v.n, 32u), v.s);
		return 0;
	}
	if (*size && *size != backend)
		return guest_ram_refuse(why, why_len,
				     "QEMU was given -m %llu bytes but memory-backend %.*s of %llu",
				     (unsigned long long)*size,
				     (int)PVDMA_MIN(v.n, 32u), v.s,
				     (unsigned long long)backend);
	*size = backend;
	return 0;
}

/* "q35: [0, 0x20000000)" and so on, for a message. */
static void layout_describe(const struct guest_ram *ram, int machine,
			    char *buf, size_t len)
{
	size_t off;
	unsigned int i;

	off = (size_t)snprintf(buf, len, "-machine %s:", guest_ram_machine_name(machine));
	for (i = 0; i < ram->nblocks && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, " [%#llx, %#llx)",
			(unsigned long long)ram->blocks[i].gpa,
			(unsigned long long)(ram->blocks[i].gpa + ram->blocks[i].len));
}

static bool layouts_equal(const struct guest_ram *a, const struct guest_ram *b)
{
	unsigned int i;

	if (a->nblocks != b->nblocks)
		return false;
	for (i = 0; i < a->nblocks; i++)
		if (a->blocks[i].gpa != b->blocks[i].gpa ||
		    a->blocks[i].len != b->blocks[i].len)
			return false;
	return true;
}

/* Say which settings a -readconfig or the unread rest may change. */
static void note_unsure(const struct qemu_ram_args *q, char *why,
			size_t why_len)
{
	static const char *const key_names[QK_NR] = {
		[QK_TYPE] = "type", [QK_BELOW_4G] = "max-ram-below-4g",
		[QK_MEMDEV] = "memory-backend", [QK_MSIZE] = "memory.size",
		[QK_SIZE] = "-m",
	};
	unsigned int unsure = q->unsure;
	char keys[80];
	size_t off = 0;
	int k;

	/* a sure -m makes memory.size moot */
	if ((q->set & ~unsure) & (1u << QK_SIZE))
		unsure &= ~(1u << QK_MSIZE);
	if (!unsure)
		return;
	keys[0] = '\0';
	for (k = 0; k < QK_NR && off < sizeof(keys); k++)
		if (unsure & (1u << k))
			off += (size_t)snprintf(keys + off, sizeof(keys) - off,
						"%s%s", off ? " " : "",
						key_names[k]);
	note_add(why, why_len, "%s may set %s",
		 q->readconfig ? "-readconfig" : "the unread rest of the command line",
		 keys);
}

int guest_ram_check_qemu_args(const struct guest_ram_config *cfg, u64 file_size,
			      const char *args, size_t len, char *why,
			      size_t why_len)
{
	struct guest_ram theirs, ours;
	struct qemu_ram_args q;
	struct qemu_str t;
	char a[96], b[96];
	u64 qsize, size, below = 0, split = 0;
	int machine = -1, err;

	if (why && why_len)
		why[0] = '\0';
	qemu_parse_args(args, len, &q);
	err = qemu_ram_size(&q, args, len, &qsize, why, why_len);
	if (err)
		return err;
	size = qsize ? qsize : file_size;
	if (qsize && cfg->size && qsize != cfg->size)
		return guest_ram_refuse(why, why_len,
				     "QEMU was given -m %llu bytes, pvdmad --ram-size %llu",
				     (unsigned long long)qsize,
				     (unsigned long long)cfg->size);
	if (qsize && file_size && qsize != file_size)
		return guest_ram_refuse(why, why_len,
				     "QEMU was given -m %llu bytes, the RAM file holds %llu",
				     (unsigned long long)qsize,
				     (unsigned long long)file_size);
	t = q.val[QK_TYPE];
	if (!(q.set & (1u << QK_TYPE)))
		note_add(why, why_len, "no -machine type (QEMU's default)");
	else if ((machine = qemu_machine_layout(t)) < 0)
		note_add(why, why_len, "-machine %.*s, a layout pvdmad does not know",
			 (int)PVDMA_MIN(t.n, 32u), t.s);
	if ((q.set & (1u << QK_BELOW_4G)) &&
	    !qemu_parse_size(q.val[QK_BELOW_4G], &below)) {
		/* pvdmad's own split, so that only the rest is compared */
		below = cfg->below_4g;
		note_add(why, why_len, "max-ram-below-4g not understood");
	}
	if (!size)
		note_add(why, why_len, "no RAM size known");
	note_unsure(&q, why, why_len);
	if (machine < 0 || !size)
		return 0;
	/* QEMU's max-ram-below-4g caps its own split rule. */
	if (below && guest_ram_machine_splits(machine))
		split = PVDMA_MIN(below, guest_ram_default_below_4g(machine, size));
	if (guest_ram_layout(&theirs, size, machine, split, 0, NULL, 0))
		return 0;
	if (guest_ram_layout(&ours, size, cfg->machine, cfg->below_4g, 0, NULL, 0))
		return 0;	/* guest_ram_open() will say why */
	if (layouts_equal(&theirs, &ours))
		return 0;
	layout_describe(&theirs, machine, a, sizeof(a));
	layout_describe(&ours, cfg->machine, b, sizeof(b));
	return guest_ram_refuse(why, why_len,
			     "QEMU lays out %llu bytes of RAM as %s, pvdmad as %s (--machine, --ram-below-4g)",
			     (unsigned long long)size, a, b);
}
