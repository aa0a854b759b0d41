// SPDX-License-Identifier: MIT
/*
 * pvdmad: the pvdma host daemon. This file only parses options, handles
 * signals and runs the loop; daemon.c is the core.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "supervise.h"

#include <pvdma/version.h>

#define PVDMAD_VERSION	PVDMA_VERSION

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

/* "16K", "1536M", "2G", "4096": bytes; false if malformed or too large. */
static bool parse_bytes(const char *s, u64 *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return false;
	*out = (u64)v << shift;
	return true;
}

static bool parse_u32(const char *s, u32 *out)
{
	u64 v;

	if (!parse_bytes(s, &v) || v > 0xffffffffull)
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
	{ "help",	  no_argument,	     NULL, 'h' },
	{ "version",	  no_argument,	     NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct pvdmad_options {
	struct pvdmad_config cfg;
	const char *log_file;
	bool use_syslog;
	int log_level;
};

/* One option into @o; false if its value is bad. */
static bool parse_option(struct pvdmad_options *o, int opt, const char *arg)
{
	struct companion_config *cc = &o->cfg.companion;

	switch (opt) {
	case 's': o->cfg.socket_path = arg; return true;
	case 'd': o->cfg.dma_socket_path = arg; return true;
	case 'r': cc->ram.path = arg; return true;
	case 'c': o->cfg.control_path = arg; return true;
	case 'f': o->log_file = arg; return true;
	case OPT_SYSLOG: o->use_syslog = true; return true;
	case OPT_INJECT_MAP_FAIL:
		return !pvdma_iommu_fault_parse(arg, &o->cfg.fault);
	case 'm':
		cc->ram.machine = guest_ram_machine_parse(arg);
		return cc->ram.machine >= 0;
	case OPT_RAM_SIZE:
		return parse_bytes(arg, &cc->ram.size) && cc->ram.size;
	case 'b': return parse_bytes(arg, &cc->ram.below_4g) && cc->ram.below_4g;
	case 'a': return parse_bytes(arg, &cc->iommu.aperture_bytes);
	case 'n': return parse_u32(arg, &cc->iommu.max_mappings);
	case 'p': return parse_bytes(arg, &cc->iommu.page_size);
	case OPT_RING_SLOTS: return parse_u32(arg, &cc->ring_slots);
	case OPT_MAX_BATCH: return parse_u32(arg, &cc->max_batch);
	case OPT_DMA_QUEUE: return parse_u32(arg, &o->cfg.dmadev.queue_entries);
	case OPT_DMA_MAX_LEN: return parse_u32(arg, &o->cfg.dmadev.max_len);
	case OPT_DMA_IDENTITY: o->cfg.dmadev.identity = true; return true;
	case 'l':
		o->log_level = pvdmad_log_parse_level(arg);
		return o->log_level >= 0;
	default:
		return false;
	}
}

/* Returns 0 to run, 1 to exit successfully, 2 on a usage error. */
static int parse_args(struct pvdmad_options *o, int argc, char **argv)
{
	struct pvdmad_config def;
	int opt;

	pvdmad_default_config(&def);
	o->cfg = def;
	o->log_level = PVDMAD_LOG_INFO;
	while ((opt = getopt_long(argc, argv, "s:d:r:m:b:a:n:p:c:l:f:hV",
				  long_options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout, &def);
			return 1;
		}
		if (opt == 'V') {
			printf("pvdmad %s (protocol %u.%u)\n", PVDMAD_VERSION,
			       PVDMA_PROTO_VERSION_MAJOR, PVDMA_PROTO_VERSION_MINOR);
			return 1;
		}
		if (!parse_option(o, opt, optarg)) {
			if (optarg)
				fprintf(stderr, "pvdmad: bad value '%s' for -%c\n",
					optarg, opt < 256 ? opt : '-');
			usage(stderr, &def);
			return 2;
		}
	}
	if (optind != argc || !o->cfg.socket_path || !o->cfg.companion.ram.path) {
		fprintf(stderr, "pvdmad: --socket and --guest-ram are required\n");
		usage(stderr, &def);
		return 2;
	}
	return 0;
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
	err = pvdmad_start(&d);
	if (err) {
		pr_err("start: %s (check the sockets and the limits)", strerror(-err));
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
	pvdmad_log_close();
	return ret;

err_sfd:
	close(sfd);
err_log:
	pvdmad_log_close();
	return 1;
}
