/* SPDX-License-Identifier: MIT */
/*
 * `pvdmad --supervise [options]`: the fd store without systemd.
 *
 * The supervisor runs pvdmad (the same options, the binary found at the
 * same path, so an upgrade installed over it is what runs next) as its
 * child and is, for that child, what systemd is for a unit with
 * FileDescriptorStoreMax=: it receives the notify protocol on a private
 * socket ($NOTIFY_SOCKET; only datagrams from the child's pid count),
 * keeps every FDSTORE=1 fd under its FDNAME, drops FDSTOREREMOVE=1 names,
 * and when the child dies other than by a clean exit (kill -9, a crash,
 * SIGUSR2's exit for a restart) starts a new one with those fds
 * (LISTEN_FDS, LISTEN_FDNAMES). pvdmad itself has one code path.
 *
 * Signals to the supervisor: SIGTERM/SIGINT stop the child and then the
 * supervisor; SIGHUP is passed on; SIGUSR2 is passed on (the child exits
 * for a restart and the binary at the path runs again: the upgrade).
 */
#ifndef PVDMAD_SUPERVISE_H
#define PVDMAD_SUPERVISE_H

#define PVDMAD_EXIT_RESTART	75	/* EX_TEMPFAIL: exited to be restarted */

/*
 * If @argv holds "--supervise" (before any "--"), run the supervisor with
 * the other arguments and return its exit status; else return -1.
 */
int pvdmad_supervise_main(int argc, char **argv);

#endif /* PVDMAD_SUPERVISE_H */
