/* SPDX-License-Identifier: MIT */
/*
 * A few slots shared out by user id, each user held to a cap.
 *
 * pvdmad's command-line readers (procread.h) are a small pool whose
 * threads a peer can keep for as long as it likes. Counted only as a
 * whole, one allowed user's stuck reads would take every slot and lock
 * every other user's QEMUs out. So each taken slot is charged to the uid
 * of the peer it works for, and a uid holding its cap is refused at once
 * (-EDQUOT, as the kernel answers a user over its key quota) while the
 * others, the reserve, stay free for other users; only several users
 * together can fill the pool (-EBUSY). (procread.c then has that read
 * wait for one of its uid's threads, in places shared out by a second
 * table.) The table holds one entry per
 * slot: a uid with nothing charged needs no entry, and there are never
 * more uids charged than slots taken, so it never grows and never fills
 * before the pool does.
 */
#ifndef PVDMAD_UIDQUOTA_H
#define PVDMAD_UIDQUOTA_H

#include <sys/types.h>

/* The most slots a table shares out. */
#define UIDQUOTA_MAX_SLOTS	16

/**
 * struct uidquota - slots charged to user ids
 * @slots:	how many there are (at most UIDQUOTA_MAX_SLOTS)
 * @cap:	how many one uid may hold (fewer than @slots: the rest is
 *		the reserve other users find free)
 * @used:	taken, in all
 * @uid, @held:	per entry: the uid charged, and how many it holds (0: the
 *		entry is free)
 */
struct uidquota {
	unsigned int slots;
	unsigned int cap;
	unsigned int used;
	struct {
		uid_t uid;
		unsigned int held;
	} e[UIDQUOTA_MAX_SLOTS];
};

/*
 * Empty, @slots shared out, @cap at most to one uid; -EINVAL unless
 * 1 <= @cap < @slots <= UIDQUOTA_MAX_SLOTS.
 */
int uidquota_init(struct uidquota *q, unsigned int slots, unsigned int cap);

/*
 * A slot charged to @uid: 0, or -EDQUOT (@uid holds its cap already;
 * checked first, so a user over its share always hears so), or -EBUSY
 * (every slot taken, by other users).
 */
int uidquota_take(struct uidquota *q, uid_t uid);

/* A slot of @uid's given back (one it took). */
void uidquota_put(struct uidquota *q, uid_t uid);

/* Slots @uid holds. */
unsigned int uidquota_held(const struct uidquota *q, uid_t uid);

#endif /* PVDMAD_UIDQUOTA_H */
