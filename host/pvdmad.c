// SPDX-License-Identifier: MIT
/*
 * pvdmad: the pvdma host daemon. This file only parses options, handles
 * signals and runs the loop; daemon.c is the core.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "fdcloser.h"
#include "log.h"
#include "peerpin.h"
#include "ramguard.h"
#include "size.h"
#include "supervise.h"
#include <pvdma/version.h>

#define PVDMAD_VERSION	PVDMA_VERSION

/* Limits of the options (the rules printed for a bad value). */
#define PVDMAD_SOCKET_PATH_MAX	108		/* sizeof(sun_path) */
#define PVDMAD_MAX_MAPPINGS	(1u << 20)
#define PVDMAD_MIN_PAGE		(4ull << 10)
#define PVDMAD_MAX_PAGE		(1ull << 20)
#define PVDMAD_MAX_DMA_LEN	(64u << 20)

static void usage(FILE *out, const struct pvdmad_config *def)
{
	const struct pvdma_iommu_config *ic = &def->companion.iommu;

	fprintf(out,
"Usage: pvdmad --socket PATH --guest-ram FILE [options]\n"
"Host daemon of pvdma: serves QEMU ivshmem-doorbell devices (the pvdma\n"
"companion and a DMA device model) and maps guest memory into an IOMMU model.\n"
"\n"
"  -s, --socket PATH        companion ivshmem socket (required)\n"
"  -d, --dma-socket PATH    DMA device model ivshmem socket (default: none)\n"
"  -r, --guest-ram FILE     QEMU's memory-backend-file mem-path (required)\n"
"  -m, --machine TYPE       q35, pc or virt (arm64, RAM from 1 GiB): QEMU's\n"
"                           -machine, whose RAM layout to use (default q35)\n"
"      --ram-size BYTES     QEMU's -m: refuse a RAM file of another size\n"
"                           (default: the file's size is the RAM size)\n"
"  -b, --ram-below-4g BYTES RAM below 4 GiB (default: the machine's rule:\n"
"                           q35 2G if RAM >= 2.75G, pc 3G if RAM >= 3.5G,\n"
"                           else all of it)\n"
"  -a, --aperture BYTES     most bytes mapped per guest (default %llu)\n"
"  -n, --max-mappings N     most live mappings per guest (default %u)\n"
"  -p, --page-size BYTES    IOMMU page size (default %llu)\n"
"      --ring-slots N       request ring slots, power of two (default %u)\n"
"      --max-batch N        entries per slot (default %u)\n"
"      --dma-queue N        DMA device commands, power of two (default %u)\n"
"      --dma-max-len BYTES  longest DMA command (default %u)\n"
"      --dma-identity       also let the DMA device run without IOMMU (bus =\n"
"                           guest-physical; benchmarks' baseline only)\n"
"  -c, --control PATH       stats socket for pvdmactl (default: none)\n"
"      --allow-uid USER     also let USER (name or uid) connect; repeatable\n"
"      --user USER          the same (QEMU's user); root and pvdmad's own\n"
"                           user are always allowed\n"
"      --socket-group GROUP sockets 0660 owned by GROUP (default: 0600)\n"
"      --tseg BYTES         q35 guests with OVMF and SMM: TSEG's size (QEMU's\n"
"                           default 16M); that top of low RAM and SMRAM at\n"
"                           0x30000-0x4ffff are never mapped\n"
"                           (the VGA window 0xa0000-0xbffff never is on x86)\n"
"  -l, --log-level LEVEL    err, warn, info or debug (default info)\n"
"  -f, --log-file PATH      log to PATH instead of stderr (SIGHUP reopens)\n"
"      --syslog             also log to syslog\n"
"      --inject-map-fail RATE[:SEED]\n"
"                           testing: refuse this share of IOMMU maps at random\n"
"                           (NO_APERTURE or IO), e.g. 0.05; 0 only checks the\n"
"                           backend's mapping count (default: off)\n"
"      --supervise          run pvdmad as a child and restart it when it dies,\n"
"                           keeping QEMU's connections and the guests' state\n"
"                           (the fd store, as systemd's FileDescriptorStoreMax=\n"
"                           does); SIGUSR2 restarts it from the binary now at\n"
"                           its path (an upgrade)\n"
"  -h, --help               this text\n"
"  -V, --version            print the version\n"
"BYTES take a K, M or G suffix (powers of 1024).\n",
		(unsigned long long)ic->aperture_bytes, ic->max_mappings,
		(unsigned long long)ic->page_size, def->companion.ring_slots,
		def->companion.max_batch, def->dmadev.queue_entries,
		def->dmadev.max_len);
}

/* A number in [lo, hi], a power of two if @pow2. */
static bool parse_range(const char *s, u64 lo, u64 hi, bool pow2, u64 *out)
{
	u64 v;

	if (!size_parse_range(s, lo, hi, &v) || (pow2 && !PVDMA_IS_POW2(v)))
		return false;
	*out = v;
	return true;
}

static bool parse_range32(const char *s, u64 lo, u64 hi, bool pow2, u32 *out)
{
	u64 v;

	if (!parse_range(s, lo, hi, pow2, &v))
		return false;
	*out = (u32)v;
	return true;
}

enum {
	OPT_RING_SLOTS = 256,
	OPT_MAX_BATCH,
	OPT_DMA_QUEUE,
	OPT_DMA_MAX_LEN,
	OPT_DMA_IDENTITY,
	OPT_SYSLOG,
	OPT_INJECT_MAP_FAIL,
	OPT_ALLOW_UID,
	OPT_SOCKET_GROUP,
	OPT_TSEG,
	OPT_RAM_SIZE,
};

static const struct option long_options[] = {
	{ "socket",	  required_argument, NULL, 's' },
	{ "dma-socket",	  required_argument, NULL, 'd' },
	{ "guest-ram",	  required_argument, NULL, 'r' },
	{ "machine",	  required_argument, NULL, 'm' },
	{ "ram-below-4g", required_argument, NULL, 'b' },
	{ "ram-size",	  required_argument, NULL, OPT_RAM_SIZE },
	{ "aperture",	  required_argument, NULL, 'a' },
	{ "max-mappings", required_argument, NULL, 'n' },
	{ "page-size",	  required_argument, NULL, 'p' },
	{ "ring-slots",	  required_argument, NULL, OPT_RING_SLOTS },
	{ "max-batch",	  required_argument, NULL, OPT_MAX_BATCH },
	{ "dma-queue",	  required_argument, NULL, OPT_DMA_QUEUE },
	{ "dma-max-len",  required_argument, NULL, OPT_DMA_MAX_LEN },
	{ "dma-identity", no_argument,	     NULL, OPT_DMA_IDENTITY },
	{ "control",	  required_argument, NULL, 'c' },
	{ "log-level",	  required_argument, NULL, 'l' },
	{ "log-file",	  required_argument, NULL, 'f' },
	{ "syslog",	  no_argument,	     NULL, OPT_SYSLOG },
	{ "inject-map-fail", required_argument, NULL, OPT_INJECT_MAP_FAIL },
	{ "allow-uid",	  required_argument, NULL, OPT_ALLOW_UID },
	{ "user",	  required_argument, NULL, OPT_ALLOW_UID },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "tseg",	  required_argument, NULL, OPT_TSEG },
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "version",	  no_argument,	     NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct pvdmad_options {
	struct pvdmad_config cfg;
	const char *log_file;
	const char *aperture_arg;	/* as typed, for messages */
	bool use_syslog;
	int log_level;
};

/* A socket path bind() can take (sun_path holds 107 bytes and a NUL). */
static bool parse_socket_path(const char *arg, const char **out)
{
	if (!*arg || strlen(arg) >= PVDMAD_SOCKET_PATH_MAX)
		return false;
	*out = arg;
	return true;
}

static bool opt_socket(struct pvdmad_options *o, const char *arg)
{
	return parse_socket_path(arg, &o->cfg.socket_path);
}

static bool opt_dma_socket(struct pvdmad_options *o, const char *arg)
{
	return parse_socket_path(arg, &o->cfg.dma_socket_path);
}

static bool opt_control(struct pvdmad_options *o, const char *arg)
{
	return parse_socket_path(arg, &o->cfg.control_path);
}

static bool opt_guest_ram(struct pvdmad_options *o, const char *arg)
{
	o->cfg.companion.ram.path = arg;
	return *arg != '\0';
}

static bool opt_log_file(struct pvdmad_options *o, const char *arg)
{
	o->log_file = arg;
	return *arg != '\0';
}

static bool opt_syslog(struct pvdmad_options *o, const char *arg)
{
	o->use_syslog = true;
	return true;
}

static bool opt_inject(struct pvdmad_options *o, const char *arg)
{
	return !pvdma_iommu_fault_parse(arg, &o->cfg.fault);
}

static bool opt_machine(struct pvdmad_options *o, const char *arg)
{
	int machine = guest_ram_machine_parse(arg);

	if (machine < 0)
		return false;
	o->cfg.companion.ram.machine = machine;
	return true;
}

static bool opt_ram_size(struct pvdmad_options *o, const char *arg)
{
	return parse_range(arg, 1, ~0ull, false, &o->cfg.companion.ram.size);
}

static bool opt_below_4g(struct pvdmad_options *o, const char *arg)
{
	return parse_range(arg, 1, GUEST_RAM_4G, false,
			   &o->cfg.companion.ram.below_4g);
}

static bool opt_aperture(struct pvdmad_options *o, const char *arg)
{
	return parse_range(arg, 1, ~0ull, false,
			   &o->cfg.companion.iommu.aperture_bytes);
}

static bool opt_max_mappings(struct pvdmad_options *o, const char *arg)
{
	return parse_range32(arg, 1, PVDMAD_MAX_MAPPINGS, false,
			     &o->cfg.companion.iommu.max_mappings);
}

static bool opt_page_size(struct pvdmad_options *o, const char *arg)
{
	return parse_range(arg, PVDMAD_MIN_PAGE, PVDMAD_MAX_PAGE, true,
			   &o->cfg.companion.iommu.page_size);
}

static bool opt_ring_slots(struct pvdmad_options *o, const char *arg)
{
	return parse_range32(arg, 1, COMPANION_MAX_SLOTS, true,
			     &o->cfg.companion.ring_slots);
}

static bool opt_max_batch(struct pvdmad_options *o, const char *arg)
{
	return parse_range32(arg, 1, COMPANION_MAX_BATCH, false,
			     &o->cfg.companion.max_batch);
}

static bool opt_dma_queue(struct pvdmad_options *o, const char *arg)
{
	return parse_range32(arg, 1, DMADEV_MAX_ENTRIES, true,
			     &o->cfg.dmadev.queue_entries);
}

static bool opt_dma_max_len(struct pvdmad_options *o, const char *arg)
{
	return parse_range32(arg, 1, PVDMAD_MAX_DMA_LEN, false,
			     &o->cfg.dmadev.max_len);
}

static bool opt_dma_identity(struct pvdmad_options *o, const char *arg)
{
	o->cfg.dmadev.identity = true;
	return true;
}

static bool opt_log_level(struct pvdmad_options *o, const char *arg)
{
	o->log_level = pvdmad_log_parse_level(arg);
	return o->log_level >= 0;
}

static bool opt_allow_uid(struct pvdmad_options *o, const char *arg)
{
	return !host_access_add_user(&o->cfg.access, arg);
}

static bool opt_tseg(struct pvdmad_options *o, const char *arg)
{
	u64 *tseg = &o->cfg.companion.ram.tseg;

	return parse_range(arg, 1ull << 20, 1ull << 30, false, tseg) &&
	       !(*tseg & ((1ull << 20) - 1));
}

static bool opt_socket_group(struct pvdmad_options *o, const char *arg)
{
	return !host_access_set_group(&o->cfg.access, arg);
}

/**
 * struct pvdmad_opt - how one option's value is taken
 * @key:	getopt's value
 * @rule:	what a good value is, said when a bad one is given
 * @parse:	store the value; false if it breaks @rule
 */
struct pvdmad_opt {
	int key;
	const char *rule;
	bool (*parse)(struct pvdmad_options *o, const char *arg);
};

static const struct pvdmad_opt pvdmad_opts[] = {
	{ 's', "a socket path of 1 to 107 bytes", opt_socket },
	{ 'd', "a socket path of 1 to 107 bytes", opt_dma_socket },
	{ 'c', "a socket path of 1 to 107 bytes", opt_control },
	{ 'r', "the path of QEMU's memory-backend-file", opt_guest_ram },
	{ 'f', "a file path", opt_log_file },
	{ 'm', "q35, pc or virt", opt_machine },
	{ OPT_RAM_SIZE, "bytes, at least 1 (K, M, G suffixes)", opt_ram_size },
	{ 'b', "bytes from 1 to 4G (K, M, G suffixes)", opt_below_4g },
	{ 'a', "bytes, a multiple of the page size, at least one page and at most the bus space (4G - 16K by default)",
	  opt_aperture },
	{ 'n', "a number from 1 to 1048576", opt_max_mappings },
	{ 'p', "a power of two from 4K to 1M", opt_page_size },
	{ 'l', "err, warn, info, debug or 0 to 3", opt_log_level },
	{ OPT_RING_SLOTS, "a power of two from 1 to 1024", opt_ring_slots },
	{ OPT_MAX_BATCH, "a number from 1 to 1024", opt_max_batch },
	{ OPT_DMA_QUEUE, "a power of two from 1 to 4096", opt_dma_queue },
	{ OPT_DMA_MAX_LEN, "bytes from 1 to 64M", opt_dma_max_len },
	{ OPT_DMA_IDENTITY, "", opt_dma_identity },
	{ OPT_SYSLOG, "", opt_syslog },
	{ OPT_INJECT_MAP_FAIL, "RATE[:SEED], a rate from 0 to 1 and a seed from 0 to 2^64 - 1",
	  opt_inject },
	{ OPT_ALLOW_UID, "a user name or number (at most 16 users)", opt_allow_uid },
	{ OPT_SOCKET_GROUP, "a group name or number", opt_socket_group },
	{ OPT_TSEG, "whole MiB from 1M to 1G (QEMU's mch.extended-tseg-mbytes, 16M by default)",
	  opt_tseg },
};

static const struct pvdmad_opt *pvdmad_opt_find(int key)
{
	size_t i;

	for (i = 0; i < sizeof(pvdmad_opts) / sizeof(pvdmad_opts[0]); i++)
		if (pvdmad_opts[i].key == key)
			return &pvdmad_opts[i];
	return NULL;
}

/* "--ring-slots" for a key, as the user would type it. */
static const char *opt_name(int key)
{
	const struct option *lo;

	for (lo = long_options; lo->name; lo++)
		if (lo->val == key)
			return lo->name;
	return "?";
}

/* @longindex: getopt_long's, -1 for a short option: the name as typed. */
static int opt_bad(int key, int longindex, const char *arg, const char *rule)
{
	fprintf(stderr, "pvdmad: --%s %s: %s\n",
		longindex >= 0 ? long_options[longindex].name : opt_name(key),
		arg, rule);
	return 2;
}

/* @path with its directory resolved, so "./a" and "/dir/a" compare equal. */
static void canonical_path(const char *path, char *out, size_t size)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	if (slash && dlen == 0)
		dlen = 1;	/* "/name" */
	snprintf(dir, sizeof(dir), "%.*s", (int)dlen, slash ? path : ".");
	if (dlen >= sizeof(dir) || !realpath(dir, real))
		snprintf(out, size, "%s", path);
	else
		snprintf(out, size, "%s/%s", real, base);
}

/* Every path pvdmad creates or maps names a different file. */
static int pvdmad_check_paths(const struct pvdmad_config *cfg)
{
	const struct { int key; const char *path; } paths[] = {
		{ 's', cfg->socket_path },
		{ 'd', cfg->dma_socket_path },
		{ 'c', cfg->control_path },
		{ 'r', cfg->companion.ram.path },
	};
	char a[PATH_MAX + 256], b[PATH_MAX + 256];
	size_t i, j, n = sizeof(paths) / sizeof(paths[0]);

	for (i = 0; i < n; i++) {
		if (!paths[i].path)
			continue;
		canonical_path(paths[i].path, a, sizeof(a));
		for (j = 0; j < i; j++) {
			if (!paths[j].path)
				continue;
			canonical_path(paths[j].path, b, sizeof(b));
			if (strcmp(a, b))
				continue;
			fprintf(stderr, "pvdmad: --%s %s: the same file as --%s; each needs its own path\n",
				opt_name(paths[i].key), paths[i].path,
				opt_name(paths[j].key));
			return -EINVAL;
		}
	}
	return 0;
}

/* Rules between options, after all are read. 0 or 2 (message printed). */
static int check_options(const struct pvdmad_options *o)
{
	const struct pvdmad_config *cfg = &o->cfg;
	const struct pvdma_iommu_config *ic = &cfg->companion.iommu;
	u64 bus_space = ic->bus_limit - ic->bus_base;
	char num[32];
	const char *arg = o->aperture_arg;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)ic->aperture_bytes);
	arg = arg ? arg : num;
	if (ic->aperture_bytes % ic->page_size || ic->aperture_bytes < ic->page_size) {
		fprintf(stderr, "pvdmad: --aperture %s: a multiple of the page size (%llu) and at least one page\n",
			arg, (unsigned long long)ic->page_size);
		return 2;
	}
	if (ic->aperture_bytes > bus_space) {
		fprintf(stderr, "pvdmad: --aperture %s: at most the bus space, %llu bytes\n",
			arg, (unsigned long long)bus_space);
		return 2;
	}
	if (ic->bus_base % ic->page_size || ic->bus_limit % ic->page_size) {
		fprintf(stderr, "pvdmad: --page-size %llu: the bus space [%#llx, %#llx) must be a whole number of pages\n",
			(unsigned long long)ic->page_size,
			(unsigned long long)ic->bus_base,
			(unsigned long long)ic->bus_limit);
		return 2;
	}
	if (cfg->companion.ram.tseg && cfg->companion.ram.machine != GUEST_RAM_Q35) {
		fprintf(stderr, "pvdmad: --tseg %llu: only -machine q35 has a TSEG\n",
			(unsigned long long)cfg->companion.ram.tseg);
		return 2;
	}
	return pvdmad_check_paths(cfg) ? 2 : 0;
}

/* Returns 0 to run, 1 to exit successfully, 2 on a usage error. */
static int parse_args(struct pvdmad_options *o, int argc, char **argv)
{
	const struct pvdmad_opt *po;
	struct pvdmad_config def;
	int opt, longindex = -1;

	pvdmad_default_config(&def);
	o->cfg = def;
	o->log_level = PVDMAD_LOG_INFO;
	while ((opt = getopt_long(argc, argv, "s:d:r:m:b:a:n:p:c:l:f:hV",
				  long_options, &longindex)) != -1) {
		if (opt == 'h') {
			usage(stdout, &def);
			return 1;
		}
		if (opt == 'V') {
			printf("pvdmad %s (protocol %u.%u)\n", PVDMAD_VERSION,
			       PVDMA_PROTO_VERSION_MAJOR, PVDMA_PROTO_VERSION_MINOR);
			return 1;
		}
		po = pvdmad_opt_find(opt);
		if (!po) {
			fprintf(stderr, "pvdmad: try --help\n");
			return 2;
		}
		if (!po->parse(o, optarg))
			return opt_bad(opt, longindex, optarg, po->rule);
		if (opt == 'a')
			o->aperture_arg = optarg;
		longindex = -1;
	}
	if (optind != argc) {
		fprintf(stderr, "pvdmad: %s: unexpected argument (options only; try --help)\n",
			argv[optind]);
		return 2;
	}
	if (!o->cfg.socket_path || !o->cfg.companion.ram.path) {
		fprintf(stderr, "pvdmad: --socket and --guest-ram are required (try --help)\n");
		return 2;
	}
	return check_options(o);
}

static int block_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static void reopen_logs(void)
{
	int err = pvdmad_log_reopen();

	if (err)
		pr_err("reopening the log file: %s", strerror(-err));
	else
		pr_info("log file reopened");
}

/* Returns true when the daemon should stop. */
static bool handle_signals(int sfd, bool *restart)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reopen_logs();
			continue;
		}
		if (si.ssi_signo == SIGUSR2) {
			pr_info("signal %u: exiting to be restarted; the guests stay connected through the fd store",
				si.ssi_signo);
			*restart = true;
			return true;
		}
		pr_info("signal %u: shutting down", si.ssi_signo);
		return true;
	}
	return false;
}

/*
 * --guest-ram checked at start when it exists: a file the layout can't
 * hold stops pvdmad now, not at the guest's first HELLO. Its layout is
 * logged here and again at every HELLO.
 */
static int check_guest_ram(const struct guest_ram_config *cfg)
{
	struct guest_ram ram;
	char layout[512];
	int err = guest_ram_probe(&ram, cfg);

	if (err == -ENOENT) {
		pr_warn("--guest-ram %s: not there yet (QEMU creates it); checked at the first HELLO",
			cfg->path);
		return 0;
	}
	if (err) {
		pr_err("--guest-ram %s: %s", cfg->path, guest_ram_strerror(&ram, err));
		return err;
	}
	guest_ram_describe(&ram, layout, sizeof(layout));
	pr_info("guest RAM %s: %llu MiB, %s", cfg->path,
		(unsigned long long)(ram.size >> 20), layout);
	return 0;
}

/*
 * Process-wide defences: SIGBUS in guest RAM accesses becomes an I/O
 * status (ramguard.h), and the fd limit is raised to its hard maximum so
 * the connection limits, not EMFILE, bound what peers can open.
 */
static int prepare_process(void)
{
	struct rlimit rl;
	int err = ramguard_init();

	if (err) {
		pr_err("SIGBUS handler: %s", strerror(-err));
		return err;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		pr_debug("fd limit %llu", (unsigned long long)rl.rlim_cur);
	if (!host_pidfds_supported())
		pr_warn("this kernel has no pidfds (Linux 5.3), so no SO_PEERPIDFD either: a peer is known by its pid number only, unpinned, where one that exited may have left its pid to another process: its command line read, a DMA device bound as that process's (docs/security.md section 4)");
	else if (!host_peerpidfd_supported())
		pr_warn("this kernel has no SO_PEERPIDFD (Linux 6.5): a peer's pid is pinned with pidfd_open() at accept (and when taken back after a restart), where one that exited before may have left its pid to another process: its command line read, a DMA device bound as that process's");
	if (!host_passrights_supported())
		pr_warn("this kernel has no SO_PASSRIGHTS (Linux 6.16): fds peers pass reach pvdmad and are closed on a helper thread");
	err = fdcloser_start(!host_passrights_supported());
	if (err)
		pr_err("closer thread: %s", strerror(-err));
	return err;
}

static void log_limits(const struct pvdmad_config *cfg)
{
	const struct companion_config *cc = &cfg->companion;

	pr_info("pvdmad %s: companion %s, dma %s, guest RAM %s (%s%s)",
		PVDMAD_VERSION, cfg->socket_path,
		cfg->dma_socket_path ? cfg->dma_socket_path : "none",
		cc->ram.path, guest_ram_machine_name(cc->ram.machine),
		cc->ram.below_4g ? ", fixed below-4G split" : "");
	pr_info("limits per guest: page %llu, aperture %llu MiB, %u mappings, bus [%#llx, %#llx), ring %u x %u",
		(unsigned long long)cc->iommu.page_size,
		(unsigned long long)(cc->iommu.aperture_bytes >> 20),
		cc->iommu.max_mappings,
		(unsigned long long)cc->iommu.bus_base,
		(unsigned long long)cc->iommu.bus_limit, cc->ring_slots,
		cc->max_batch);
	if (cfg->dmadev.identity)
		pr_info("dma device: identity binding allowed (no IOMMU, bus = guest-physical)");
}

/* Signals are read after the loop round, in run(); the watch only wakes it. */
static void on_signal(struct evloop_watch *w, uint32_t events)
{
}

static int run(struct pvdmad *d, int sfd, bool *restart)
{
	struct evloop_watch sig = { .fd = sfd, .fn = on_signal };
	int n;

	if (evloop_add(&d->loop, &sig, EPOLLIN) < 0)
		return -1;
	for (;;) {
		n = pvdmad_run_once(d, -1);
		if (n < 0 && n != -EINTR) {
			pr_err("event loop: %s", strerror(-n));
			return -1;
		}
		if (d->reopen_logs) {
			d->reopen_logs = false;
			reopen_logs();
		}
		if (handle_signals(sfd, restart))
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct pvdmad_options o = { 0 };
	struct pvdmad d = { 0 };
	bool restart = false;
	int ret, sfd, err;

	ret = pvdmad_supervise_main(argc, argv);
	if (ret >= 0)
		return ret;
	ret = parse_args(&o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	err = pvdmad_log_open(o.log_file, o.use_syslog);
	if (err) {
		fprintf(stderr, "pvdmad: %s: %s\n", o.log_file, strerror(-err));
		return 1;
	}
	pvdmad_log_set_level(o.log_level);
	sfd = block_signals();
	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(-sfd));
		goto err_log;
	}
	d.cfg = o.cfg;
	/* QEMU's users may own the RAM file's directories (guest_ram.c). */
	d.cfg.companion.ram.trusted = d.cfg.access.uids;
	d.cfg.companion.ram.ntrusted = d.cfg.access.nuids;
	if (check_guest_ram(&d.cfg.companion.ram) || prepare_process())
		goto err_sfd;
	err = pvdmad_start(&d);
	if (err) {
		pr_err("not started: %s (the reason is above)", strerror(-err));
		goto err_sfd;
	}
	log_limits(&d.cfg);
	fdstore_notify(&d.store, "READY=1");
	ret = run(&d, sfd, &restart) ? 1 : 0;
	if (restart && !fdstore_kept(&d.store))
		pr_warn("no fd store (neither systemd nor --supervise): the guests are disconnected");
	if (restart && fdstore_kept(&d.store)) {
		pvdmad_detach(&d);
		ret = PVDMAD_EXIT_RESTART;
	} else {
		pvdmad_stop(&d);
	}
	close(sfd);
	fdcloser_stop();
	pvdmad_log_close();
	return ret;

err_sfd:
	fdcloser_stop();
	close(sfd);
err_log:
	pvdmad_log_close();
	return 1;
}
