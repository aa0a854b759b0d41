// SPDX-License-Identifier: MIT
/*
 * Guest RAM file mapping and the guest-physical layouts of QEMU's machines.
 *
 * x86 (hw/i386/pc_q35.c and pc_piix.c, gigabyte-aligned machine types):
 *   q35: RAM of 2.75 GiB (0xb0000000) or more puts 2 GiB below 4 GiB and
 *        the rest above; smaller RAM lies entirely below 4 GiB.
 *   pc:  RAM of 3.5 GiB (0xe0000000) or more puts 3 GiB below 4 GiB and
 *        the rest above; smaller RAM lies entirely below 4 GiB.
 * QEMU's max-ram-below-4g lowers the split; --ram-below-4g matches it.
 * arm virt (hw/arm/virt.c, its memmap's VIRT_MEM): all RAM in one block
 * from 1 GiB up; flash and devices below, no hole inside RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest_ram.h"

#define Q35_SPLIT_THRESHOLD	0xb0000000ull
#define Q35_LOWMEM		0x80000000ull
#define PC_SPLIT_THRESHOLD	0xe0000000ull
#define PC_LOWMEM		0xc0000000ull
#define VIRT_RAM_BASE		0x40000000ull
/* QEMU rounds -m to whole pages; a RAM file of any other size isn't one. */
#define GUEST_RAM_MIN_PAGE	4096ull

/**
 * struct guest_ram_machine_desc - one QEMU machine's RAM layout
 * @name:		its -machine name
 * @ram_base:		GPA of the first RAM byte
 * @split_threshold:	RAM this large or larger is split at @lowmem, the
 *			rest going to 4 GiB; 0: never split (one block)
 * @lowmem:		bytes left below 4 GiB when split
 * @legacy_vga:		the x86 VGA window hides RAM from devices
 * @tseg:		SMRAM's TSEG can sit at the top of low RAM (q35)
 * @smram:		with @tseg, the SMRAM windows at fixed addresses, hidden
 *			with TSEG (--tseg: SMM firmware); an empty one ends it
 */
struct guest_ram_machine_desc {
	const char *name;
	u64 ram_base;
	u64 split_threshold;
	u64 lowmem;
	bool legacy_vga;
	bool tseg;
	const struct guest_ram_hidden *smram;
};

/* SMRAM at the default SMBASE (guest_ram.h): TSEG is not the only one. */
static const struct guest_ram_hidden q35_smram[] = {
	{ GUEST_RAM_SMBASE_START, GUEST_RAM_SMBASE_END },
	{ 0, 0 },
};

static const struct guest_ram_machine_desc guest_ram_machines[GUEST_RAM_MACHINES] = {
	[GUEST_RAM_Q35]	 = { "q35", 0, Q35_SPLIT_THRESHOLD, Q35_LOWMEM, true, true,
			     q35_smram },
	[GUEST_RAM_PC]	 = { "pc", 0, PC_SPLIT_THRESHOLD, PC_LOWMEM, true, false,
			     NULL },
	[GUEST_RAM_VIRT] = { "virt", VIRT_RAM_BASE, 0, 0, false, false, NULL },
};

static const struct guest_ram_machine_desc *machine_desc(int machine)
{
	if (machine < 0 || machine >= GUEST_RAM_MACHINES)
		return NULL;
	return &guest_ram_machines[machine];
}

int guest_ram_machine_parse(const char *name)
{
	int m;

	for (m = 0; m < GUEST_RAM_MACHINES; m++)
		if (!strcmp(name, guest_ram_machines[m].name))
			return m;
	return -1;
}

const char *guest_ram_machine_name(int machine)
{
	const struct guest_ram_machine_desc *md = machine_desc(machine);

	return md ? md->name : "?";
}

bool guest_ram_machine_splits(int machine)
{
	const struct guest_ram_machine_desc *md = machine_desc(machine);

	return md && md->split_threshold;
}

u64 guest_ram_default_below_4g(int machine, u64 ram_size)
{
	const struct guest_ram_machine_desc *md = machine_desc(machine);

	if (!md || !md->split_threshold || ram_size < md->split_threshold)
		return ram_size;
	return md->lowmem;
}

/* Say why a layout was refused, when the caller wants to know. */
int guest_ram_refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void layout_add_block(struct guest_ram *ram, u64 gpa, u64 offset,
			     u64 len)
{
	if (!len)
		return;
	ram->blocks[ram->nblocks++] = (struct guest_ram_block){
		.gpa = gpa, .offset = offset, .len = len,
	};
}

/*
 * Lay @size bytes of RAM out as @machine does; @below_4g overrides an x86
 * machine's split (0: its default); @expect, if not 0, is the size QEMU
 * was told. -EINVAL, with @why filled, if the two don't agree.
 */
int guest_ram_layout(struct guest_ram *ram, u64 size, int machine,
		     u64 below_4g, u64 expect, char *why, size_t why_len)
{
	const struct guest_ram_machine_desc *md = machine_desc(machine);
	u64 low;

	if (!md)
		return guest_ram_refuse(why, why_len, "unknown machine type %d",
				     machine);
	if (!size)
		return guest_ram_refuse(why, why_len,
				     "the RAM file is empty (has QEMU started with -machine %s?)",
				     md->name);
	if (expect && size != expect)
		return guest_ram_refuse(why, why_len,
				     "the RAM file holds %llu bytes but the layout says -m %llu bytes (-machine %s)",
				     (unsigned long long)size,
				     (unsigned long long)expect, md->name);
	if (size % GUEST_RAM_MIN_PAGE)
		return guest_ram_refuse(why, why_len,
				     "the RAM file holds %llu bytes, not a whole number of 4 KiB pages: not the RAM of a -machine %s guest",
				     (unsigned long long)size, md->name);
	if (below_4g && !md->split_threshold)
		return guest_ram_refuse(why, why_len,
				     "--ram-below-4g %llu does not fit -machine %s: its RAM is one block from %#llx",
				     (unsigned long long)below_4g, md->name,
				     (unsigned long long)md->ram_base);
	if (size > ~0ull - md->ram_base - GUEST_RAM_4G)
		return guest_ram_refuse(why, why_len,
				     "the RAM file holds %llu bytes, more than -machine %s can address",
				     (unsigned long long)size, md->name);
	low = below_4g ? below_4g : guest_ram_default_below_4g(machine, size);
	low = PVDMA_MIN(low, size);
	if (md->split_threshold && low > GUEST_RAM_4G)
		return guest_ram_refuse(why, why_len,
				     "%llu bytes below 4 GiB do not fit -machine %s",
				     (unsigned long long)low, md->name);
	ram->size = size;
	ram->nblocks = 0;
	layout_add_block(ram, md->ram_base, 0, low);
	layout_add_block(ram, GUEST_RAM_4G, low, size - low);
	return 0;
}

int guest_ram_init_buffer(struct guest_ram *ram, void *buf, u64 size,
			  int machine, u64 below_4g)
{
	int err;

	*ram = (struct guest_ram){ 0 };
	err = guest_ram_layout(ram, size, machine, below_4g, 0, NULL, 0);
	if (err)
		return err;
	ram->base = buf;
	return 0;
}

int guest_ram_hide(struct guest_ram *ram, u64 gpa, u64 end)
{
	if (gpa >= end)
		return 0;
	if (ram->nhidden >= GUEST_RAM_MAX_HIDDEN)
		return -ENOSPC;
	ram->hidden[ram->nhidden++] = (struct guest_ram_hidden){ gpa, end };
	return 0;
}

/* What QEMU keeps devices out of on this machine (guest_ram.h). Any
 * error: a window would go unguarded, so the caller refuses the file. */
static int guest_ram_hide_machine(struct guest_ram *ram,
				  const struct guest_ram_config *cfg)
{
	const struct guest_ram_machine_desc *md = machine_desc(cfg->machine);
	u64 low = ram->nblocks ? ram->blocks[0].len : 0;
	const struct guest_ram_hidden *w;
	int err = 0;

	if (md && md->legacy_vga)
		err = guest_ram_hide(ram, GUEST_RAM_VGA_START, GUEST_RAM_VGA_END);
	if (err || !md || !md->tseg || !cfg->tseg)
		return err;
	err = guest_ram_hide(ram, md->ram_base + low - PVDMA_MIN(cfg->tseg, low),
			     md->ram_base + low);
	for (w = md->smram; !err && w && w->end; w++)
		err = guest_ram_hide(ram, w->gpa, w->end);
	return err;
}

/* Drop @path's last component in place ("/a/b" -> "/a", "/a" -> "/"). */
static void path_up(char *path)
{
	char *cut = strrchr(path, '/');

	if (cut == path)
		cut[1] = '\0';
	else if (cut)
		*cut = '\0';
}

/* May @uid own a directory the RAM file is found through? */
static bool ram_owner_trusted(const struct guest_ram_config *cfg, uid_t uid)
{
	unsigned int i;

	if (uid == 0 || uid == geteuid())
		return true;
	for (i = 0; i < cfg->ntrusted; i++)
		if (cfg->trusted[i] == uid)
			return true;
	return false;
}

static int ram_dir_refuse(char *why, size_t why_len, const char *dir,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ram_dir_refuse(char *why, size_t why_len, const char *dir,
			  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!why)
		return -EPERM;
	n = snprintf(why, why_len, "directory %s ", dir);
	if (n < 0 || (size_t)n >= why_len)
		return -EPERM;
	va_start(ap, fmt);
	vsnprintf(why + n, why_len - n, fmt, ap);
	va_end(ap);
	return -EPERM;
}

/*
 * @name, one component, in the directory @dfd, looked up without leaving
 * the directory's file system (RESOLVE_NO_XDEV: a mount over it is EXDEV)
 * and never followed if it is a symlink: an O_PATH fd, or a negative
 * errno. The entry QEMU's user may write is only ever looked at this way,
 * so nothing on another file system (a FUSE one its user serves, whose
 * every lookup and stat waits on that process) is asked anything. Kernels
 * before openat2 (5.6): a plain lookup.
 */
static int ram_entry_open(int dfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* fstat() of @fd (>= 0, or a negative errno passed on), which it closes. */
static int fd_stat_close(int fd, struct stat *st)
{
	int err = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* lstat() of @name in the directory @path, as ram_entry_open() finds it. */
static int ram_entry_stat(const char *path, const char *name, struct stat *st)
{
	int dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return -errno;
	fd = ram_entry_open(dfd, name);
	close(dfd);
	return fd_stat_close(fd, st);
}

/*
 * Whoever may change a directory the RAM file is found through can swap
 * the file (or a directory on the way) for one of its own. So, as OpenSSH
 * checks its key paths, every directory from the RAM file's up to /
 * (where the path leads, symlinks resolved) must belong to root, pvdmad's
 * user or a --allow-uid user, and be writable by no one else: no group or
 * other write bit, unless it is sticky (/dev/shm, /tmp), where nobody but
 * an entry's owner may rename or remove it, and the entry below (the next
 * directory, or the RAM file once it exists) belongs to one of them. 0 or
 * -EPERM with @why naming the directory and the fix; another negative
 * errno when the directory can't be found.
 */
static int ram_dir_check(const struct guest_ram_config *cfg, const char *dir,
			 const char *base, char *why, size_t why_len)
{
	char real[PATH_MAX], entry[PATH_MAX + NAME_MAX + 2];
	struct stat st, est;
	bool have_entry;
	int n;

	if (!realpath(dir, real))
		return -errno;
	n = snprintf(entry, sizeof(entry), "%s/%s", strcmp(real, "/") ? real : "",
		     base);
	/* @base may be QEMU's user's to replace: never looked up off @dir's
	 * file system (one it could not name is refused by the lookup) */
	have_entry = n > 0 && (size_t)n < sizeof(entry) &&
		     !ram_entry_stat(real, base, &est);
	for (;;) {
		if (lstat(real, &st) < 0)
			return -errno;
		if (!ram_owner_trusted(cfg, st.st_uid))
			return ram_dir_refuse(why, why_len, real,
				"belongs to uid %u, who could swap the guest RAM file: it must belong to root, pvdmad's user or a --allow-uid user",
				(unsigned int)st.st_uid);
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
			return ram_dir_refuse(why, why_len, real,
				"is writable by %s (mode %04o): anyone who can write it could swap the guest RAM file (chmod go-w %s)",
				st.st_mode & S_IWOTH ? "every user" : "its group",
				(unsigned int)(st.st_mode & 07777), real);
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && have_entry &&
		    !ram_owner_trusted(cfg, est.st_uid))
			return ram_dir_refuse(why, why_len, real,
				"is writable by others and %s in it belongs to uid %u: it must belong to root, pvdmad's user or a --allow-uid user",
				entry, (unsigned int)est.st_uid);
		if (!strcmp(real, "/"))
			return 0;
		snprintf(entry, sizeof(entry), "%s", real);
		est = st;
		have_entry = true;
		path_up(real);
	}
}

/*
 * ram_dir_check() judges the directories the RAM path's directory leads
 * to; a symlink on the way lies in a directory that may be off that
 * chain (a link in /tmp to a safe directory), and whoever may replace
 * the link there steers the path. So @path (the RAM file's directory, as
 * --guest-ram names it: the host's) is resolved here component by
 * component as the kernel would, and each directory holding a symlink it
 * passes is judged like the chain itself, the link as its entry. The
 * last component, which QEMU's user may replace, is not walked here
 * (ram_base_open()). 0, -EPERM with @why, or another negative errno; a
 * component that does not exist (yet) ends the walk: the lookup after
 * it fails.
 */
static int ram_links_check(const struct guest_ram_config *cfg, const char *path,
			   char *why, size_t why_len)
{
	char cur[PATH_MAX], rest[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
	char *name, *tail;
	unsigned int links = 0;
	struct stat st;
	ssize_t n;
	int err;

	if (path[0] == '/')
		snprintf(cur, sizeof(cur), "/");
	else if (!getcwd(cur, sizeof(cur)))
		return -errno;
	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return -ENAMETOOLONG;
	for (;;) {
		name = rest + strspn(rest, "/");
		if (!*name)
			return 0;
		tail = name + strcspn(name, "/");
		if (*tail)
			*tail++ = '\0';
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			if (name[1])
				path_up(cur);
			memmove(rest, tail, strlen(tail) + 1);
			continue;
		}
		if (snprintf(next, sizeof(next), "%s/%s",
			     strcmp(cur, "/") ? cur : "", name) >= (int)sizeof(next))
			return -ENAMETOOLONG;
		if (lstat(next, &st) < 0)
			return errno == ENOENT ? 0 : -errno;
		if (S_ISLNK(st.st_mode)) {
			err = ram_dir_check(cfg, cur, name, why, why_len);
			if (err)
				return err;
			if (++links > 40)	/* the kernel's own limit */
				return -ELOOP;
			n = readlink(next, link, sizeof(link) - 1);
			if (n < 0)
				return -errno;
			link[n] = '\0';
			if (snprintf(next, sizeof(next), "%s/%s", link, tail) >=
			    (int)sizeof(next))
				return -ENAMETOOLONG;
			snprintf(rest, sizeof(rest), "%s", next);
			if (link[0] == '/')
				snprintf(cur, sizeof(cur), "/");
			continue;
		}
		/* the RAM file itself, reached through a link */
		if (!*tail && links && !S_ISDIR(st.st_mode))
			return ram_dir_check(cfg, cur, name, why, why_len);
		snprintf(cur, sizeof(cur), "%s", next);
		memmove(rest, tail, strlen(tail) + 1);
	}
}

/*
 * The RAM path's last component in the directory @dfd, as an O_PATH fd.
 * QEMU's user may write that directory, so what it names there is never
 * followed anywhere pvdmad would have to look up on another file system:
 * each step is ram_entry_open() (a mount over it: EXDEV), and a symlink is
 * followed only to another entry of the same directory (a plain name; 40
 * at most, as the kernel). One leading elsewhere, even on this file
 * system, is refused with EXDEV: following it would mean looking up
 * directories the link's writer chose, any of which it could swap for a
 * mount of its own between pvdmad's checks and its open.
 */
static int ram_base_open(int dfd, const char *base, char *why, size_t why_len)
{
	char name[PATH_MAX];
	unsigned int links = 0;
	struct stat st;
	ssize_t n;
	int fd;

	if (snprintf(name, sizeof(name), "%s", base) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	for (;;) {
		fd = ram_entry_open(dfd, name);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0) {
			close(fd);
			return -errno;
		}
		if (!S_ISLNK(st.st_mode))
			return fd;
		n = ++links > 40 ? -ELOOP :
		    readlinkat(fd, "", name, sizeof(name) - 1);
		close(fd);
		if (n < 0)
			return links > 40 ? -ELOOP : -errno;
		name[n] = '\0';
		if (!n || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, "..")) {
			if (why)
				snprintf(why, why_len,
					 "a symlink to %.64s: the RAM path's last component may only link to another entry of its own directory",
					 name);
			return -EXDEV;
		}
	}
}

/*
 * The RAM file as an O_PATH fd. The directory --guest-ram names is the
 * host's (checked: ram_links_check(), ram_dir_check()); its last
 * component, in a directory QEMU's user may write, never leads off that
 * directory's file system, nor through a /proc magic link, nor out of the
 * directory (ram_base_open()): a symlink to (or a mount over the path of)
 * a file on a FUSE mount its user serves would let that process hold
 * pvdmad's every lookup, fstat and page fault of it.
 */
static int guest_ram_lookup(const struct guest_ram_config *cfg, char *why,
			    size_t why_len)
{
	const char *path = cfg->path;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dir_len = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	char dir[PATH_MAX];
	int dfd, fd;

	if (dir_len >= sizeof(dir))
		return -ENAMETOOLONG;
	if (dir_len)
		snprintf(dir, sizeof(dir), "%.*s", (int)dir_len, path);
	else
		snprintf(dir, sizeof(dir), ".");
	dfd = ram_links_check(cfg, dir, why, why_len);
	if (!dfd)
		dfd = ram_dir_check(cfg, dir, base, why, why_len);
	if (dfd < 0)
		return dfd;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = ram_base_open(dfd, base, why, why_len);
	close(dfd);
	return fd;
}

int guest_ram_stat(const struct guest_ram_config *cfg, struct stat *st)
{
	return fd_stat_close(guest_ram_lookup(cfg, NULL, 0), st);
}

int guest_ram_judge(const struct guest_ram_config *cfg, guest_ram_gate_fn gate,
		    void *gate_ctx)
{
	int fd = guest_ram_lookup(cfg, NULL, 0), err = 0;
	struct stat st;

	if (fd < 0)
		return 0;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size)
		err = gate(gate_ctx, fd, &st);
	close(fd);
	return err;
}

int guest_ram_probe(struct guest_ram *ram, const struct guest_ram_config *cfg)
{
	struct stat st;
	int fd, err;

	*ram = (struct guest_ram){ 0 };
	fd = guest_ram_lookup(cfg, ram->why, sizeof(ram->why));
	if (fd < 0)
		return fd;
	err = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (!S_ISREG(st.st_mode)) {
		snprintf(ram->why, sizeof(ram->why), "not a regular file");
		return -EINVAL;
	}
	err = guest_ram_layout(ram, (u64)st.st_size, cfg->machine, cfg->below_4g,
			       cfg->size, ram->why, sizeof(ram->why));
	if (!err)
		guest_ram_hide_machine(ram, cfg);
	return err;
}

void guest_ram_describe(const struct guest_ram *ram, char *buf, size_t size)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ram->nblocks && off < size; i++)
		off += snprintf(buf + off, size - off, "%sGPA [%#llx, %#llx) = file [%#llx, %#llx)",
				i ? ", " : "",
				(unsigned long long)ram->blocks[i].gpa,
				(unsigned long long)(ram->blocks[i].gpa + ram->blocks[i].len),
				(unsigned long long)ram->blocks[i].offset,
				(unsigned long long)(ram->blocks[i].offset + ram->blocks[i].len));
	for (i = 0; i < ram->nhidden && off < size; i++)
		off += snprintf(buf + off, size - off, "%s[%#llx, %#llx)",
				i ? ", " : "; hidden from DMA: ",
				(unsigned long long)ram->hidden[i].gpa,
				(unsigned long long)ram->hidden[i].end);
}

/*
 * Open the RAM file for mapping, judged first. The path is looked up once,
 * as an O_PATH fd (guest_ram_lookup(); it runs no open code of a device or
 * FIFO put there: its directory may be QEMU's to write), whose file is
 * checked (a regular file, the gate on its fstat) and then reopened
 * read-write through /proc/self/fd: the same file, whatever the path
 * names by then. O_NONBLOCK: a lease on the file fails the open instead
 * of waiting for its holder. The fd, or a negative errno (@why set for a
 * wrong type).
 */
static int guest_ram_open_judged(const struct guest_ram_config *cfg,
				 guest_ram_gate_fn gate, void *gate_ctx,
				 char *why, size_t why_len)
{
	char self[32];
	struct stat st;
	int pfd, err;

	pfd = guest_ram_lookup(cfg, why, why_len);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, &st) < 0) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		err = -EINVAL;
	} else {
		err = gate ? gate(gate_ctx, pfd, &st) : 0;
	}
	if (!err) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		err = open(self, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (err < 0)
			err = -errno;
	}
	close(pfd);
	return err;
}

int guest_ram_open_gated(struct guest_ram *ram,
			 const struct guest_ram_config *cfg,
			 guest_ram_gate_fn gate, void *gate_ctx)
{
	char why[sizeof(ram->why)] = "";
	struct stat st;
	void *base;
	int fd, err;

	*ram = (struct guest_ram){ 0 };
	fd = guest_ram_open_judged(cfg, gate, gate_ctx, why, sizeof(why));
	if (fd < 0) {
		memcpy(ram->why, why, sizeof(ram->why));
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto err_close;
	}
	err = guest_ram_layout(ram, (u64)st.st_size, cfg->machine, cfg->below_4g,
			       cfg->size, why, sizeof(why));
	if (err)
		goto err_close;
	err = guest_ram_hide_machine(ram, cfg);
	if (err) {
		guest_ram_refuse(why, sizeof(why),
			      "more ranges hidden from DMA than pvdmad can hold (%d)",
			      GUEST_RAM_MAX_HIDDEN);
		goto err_close;
	}
	base = mmap(NULL, ram->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	ram->base = base;
	ram->mapped = true;
	ram->fd = fd;
	return 0;

err_close:
	close(fd);
	*ram = (struct guest_ram){ 0 };
	memcpy(ram->why, why, sizeof(ram->why));
	return err;
}

int guest_ram_open(struct guest_ram *ram, const struct guest_ram_config *cfg)
{
	return guest_ram_open_gated(ram, cfg, NULL, NULL);
}

const char *guest_ram_strerror(const struct guest_ram *ram, int err)
{
	return ram->why[0] ? ram->why : strerror(-err);
}

static void guest_ram_unmap_close(void *addr, size_t len, int fd)
{
	if (addr)
		munmap(addr, len);
	close(fd);
}

void guest_ram_close_with(struct guest_ram *ram, guest_ram_unmap_fn unmap_close)
{
	if (ram->mapped)
		unmap_close(ram->base, ram->size, ram->fd);
	*ram = (struct guest_ram){ 0 };
}

void guest_ram_close(struct guest_ram *ram)
{
	guest_ram_close_with(ram, guest_ram_unmap_close);
}

int guest_ram_check(const struct guest_ram *ram)
{
	struct stat st;

	if (!ram->mapped)
		return 0;
	if (fstat(ram->fd, &st) < 0)
		return -errno;
	return (u64)st.st_size < ram->size ? -ESTALE : 0;
}

/* Is [start, start + len) inside [block, block + block_len)? No wrap. */
static bool range_inside(u64 start, u64 len, u64 block, u64 block_len)
{
	return start >= block && start - block <= block_len &&
	       len <= block_len - (start - block);
}

int guest_ram_gpa_to_offset(const struct guest_ram *ram, u64 gpa, u64 len,
			    u64 *offset)
{
	unsigned int i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < ram->nhidden; i++)
		if (gpa < ram->hidden[i].end && (ram->hidden[i].gpa <= gpa ||
						 ram->hidden[i].gpa - gpa < len))
			return -EFAULT;
	for (i = 0; i < ram->nblocks; i++) {
		const struct guest_ram_block *b = &ram->blocks[i];

		if (range_inside(gpa, len, b->gpa, b->len)) {
			*offset = b->offset + (gpa - b->gpa);
			return 0;
		}
	}
	return -EFAULT;
}

int guest_ram_offset_to_gpa(const struct guest_ram *ram, u64 offset, u64 len,
			    u64 *gpa)
{
	u64 g, back;
	unsigned int i;

	if (!len)
		return -EINVAL;
	if (!range_inside(offset, len, 0, ram->size))
		return -EFAULT;
	for (i = 0; i < ram->nblocks; i++) {
		const struct guest_ram_block *b = &ram->blocks[i];

		if (!range_inside(offset, len, b->offset, b->len))
			continue;
		/* the way back judges it as a MAP of that GPA is judged */
		g = b->gpa + (offset - b->offset);
		if (guest_ram_gpa_to_offset(ram, g, len, &back) || back != offset)
			return -EFAULT;
		*gpa = g;
		return 0;
	}
	return -EFAULT;
}

void *guest_ram_ptr(const struct guest_ram *ram, u64 offset, u64 len)
{
	if (!ram->base || !range_inside(offset, len, 0, ram->size))
		return NULL;
	return ram->base + offset;
}
