// SPDX-License-Identifier: MIT
/*
 * Who may connect to pvdmad's sockets (peer_access.h): the allowed users
 * and group, a peer's credentials, its own right to the guest RAM file.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"
#include "peer_access.h"
#include "size.h"

/* Room for a peer's groups at the first try; more are fetched if it has them. */
#define HOST_PEER_MAX_GROUPS	256

/* A numeric user or group id: a plain decimal below (uid_t)-1. */
static bool parse_id(const char *s, uint64_t *out)
{
	return size_parse_decimal(s, (uint64_t)(uid_t)-1 - 1, out);
}

int host_access_add_user(struct host_access *a, const char *name)
{
	struct passwd *pw;
	uint64_t id;

	if (a->nuids >= HOST_ACCESS_MAX_UIDS)
		return -E2BIG;
	if (parse_id(name, &id)) {
		a->uids[a->nuids++] = (uid_t)id;
		return 0;
	}
	pw = getpwnam(name);
	if (!pw)
		return -EINVAL;
	a->uids[a->nuids++] = pw->pw_uid;
	return 0;
}

int host_access_set_group(struct host_access *a, const char *name)
{
	struct group *gr;
	uint64_t id;

	if (parse_id(name, &id)) {
		a->group = (gid_t)id;
	} else {
		gr = getgrnam(name);
		if (!gr)
			return -EINVAL;
		a->group = gr->gr_gid;
	}
	a->group_set = true;
	return 0;
}

int host_peer_get(int sock, struct host_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
	return 0;
}

bool host_access_check(const struct host_access *a, const struct host_peer *p,
		       const char **why)
{
	unsigned int i;

	if (p->uid == 0 || p->uid == geteuid())
		return true;
	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uid)
			return true;
	*why = "user not allowed (--allow-uid)";
	return false;
}

/*
 * The peer's supplementary groups (SO_PEERGROUPS), every one of them: an
 * ACL entry of a group left out could be one that refuses. The count, or
 * a negative errno; *@out is malloc()ed (NULL when there are none).
 */
static int peer_groups(int sock, gid_t **out)
{
	socklen_t len = HOST_PEER_MAX_GROUPS * sizeof(gid_t);
	gid_t *groups = NULL, *more;
	int tries;

	*out = NULL;
	/* ERANGE tells the size needed; the peer's groups are fixed at its
	 * connect, so a second try fits. */
	for (tries = 0; tries < 2; tries++) {
		more = realloc(groups, len ? len : sizeof(gid_t));
		if (!more) {
			free(groups);
			return -ENOMEM;
		}
		groups = more;
		if (!getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			*out = groups;
			return (int)(len / sizeof(gid_t));
		}
		if (errno != ERANGE)
			break;
	}
	free(groups);
	return -errno;
}

int host_peer_may_open_rw(const struct host_peer *p, int sock, int fd,
			  const struct stat *st, const char *path)
{
	struct fileperm_who who = { .uid = p->uid, .gid = p->gid };
	gid_t *groups;
	int n, err;

	if (p->uid == 0)
		return 0;
	n = peer_groups(sock, &groups);
	if (n < 0)
		return n;	/* its groups unknown: not proven */
	who.groups = groups;
	who.ngroups = (unsigned int)n;
	err = fileperm_check(&who, fd, st, FILEPERM_READ | FILEPERM_WRITE);
	if (!err && path)
		err = fileperm_path_searchable(&who, path);
	free(groups);
	return err;
}
