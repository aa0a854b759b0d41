// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Protocol helpers shared by the guest and the host: entry encoding and the
 * checks of guest-written fields that need no knowledge of RAM or IOMMU.
 */
#include <pvdma/proto.h>

void pvdma_entry_decode(struct pvdma_request *dst, const struct pvdma_entry *src)
{
	/*
	 * One read per field: the guest may rewrite @src while the host
	 * reads it, so the host must act on a single snapshot.
	 */
	dst->op = pvdma_le16(READ_ONCE(src->op));
	dst->flags = pvdma_le16(READ_ONCE(src->flags));
	dst->status = pvdma_le32(READ_ONCE(src->status));
	dst->gpa = pvdma_le64(READ_ONCE(src->gpa));
	dst->len = pvdma_le64(READ_ONCE(src->len));
	dst->bus = pvdma_le64(READ_ONCE(src->bus));
}

void pvdma_entry_encode(struct pvdma_entry *dst, const struct pvdma_request *src)
{
	WRITE_ONCE(dst->op, pvdma_le16(src->op));
	WRITE_ONCE(dst->flags, pvdma_le16(src->flags));
	WRITE_ONCE(dst->status, pvdma_le32(src->status));
	WRITE_ONCE(dst->gpa, pvdma_le64(src->gpa));
	WRITE_ONCE(dst->len, pvdma_le64(src->len));
	WRITE_ONCE(dst->bus, pvdma_le64(src->bus));
}

u32 pvdma_op_check(const struct pvdma_request *op, u64 page_size)
{
	u64 end;

	switch (op->op) {
	case PVDMA_OP_MAP:
		if (!op->flags || op->flags & ~PVDMA_MAP_FLAGS_KNOWN)
			return PVDMA_ST_BAD_OP;
		if (!op->len || (op->gpa | op->len) & (page_size - 1) ||
		    !pvdma_add_ok(op->gpa, op->len, &end))
			return PVDMA_ST_INVALID;
		return PVDMA_ST_OK;
	case PVDMA_OP_UNMAP:
	case PVDMA_OP_TRIM:
		if (op->flags)
			return PVDMA_ST_BAD_OP;
		if (!op->len || (op->bus | op->len) & (page_size - 1) ||
		    !pvdma_add_ok(op->bus, op->len, &end))
			return PVDMA_ST_INVALID;
		return PVDMA_ST_OK;
	case PVDMA_OP_NOP:
	case PVDMA_OP_HELLO:
	case PVDMA_OP_RESET:
		return op->flags ? PVDMA_ST_BAD_OP : PVDMA_ST_OK;
	default:
		return PVDMA_ST_BAD_OP;
	}
}

int pvdma_ring_pending(u32 head, u32 tail, u32 slots)
{
	u32 pending = tail - head;	/* free-running: wraps by design */

	if (!PVDMA_IS_POW2(slots) || pending > slots)
		return -1;
	return (int)pending;
}

static const char *const pvdma_status_names[PVDMA_ST_COUNT] = {
	[PVDMA_ST_OK]		= "ok",
	[PVDMA_ST_INVALID]	= "invalid",
	[PVDMA_ST_BAD_GPA]	= "bad-gpa",
	[PVDMA_ST_NO_APERTURE]	= "no-aperture",
	[PVDMA_ST_NO_MAPPINGS]	= "no-mappings",
	[PVDMA_ST_NO_BUS_SPACE]	= "no-bus-space",
	[PVDMA_ST_NOT_MAPPED]	= "not-mapped",
	[PVDMA_ST_PARTIAL]	= "partial",
	[PVDMA_ST_NOT_READY]	= "not-ready",
	[PVDMA_ST_BAD_OP]	= "bad-op",
	[PVDMA_ST_BAD_VERSION]	= "bad-version",
	[PVDMA_ST_IO]		= "io-error",
	[PVDMA_ST_BAD_SLOT]	= "bad-slot",
};

const char *pvdma_status_name(u32 status)
{
	return status < PVDMA_ST_COUNT ? pvdma_status_names[status] : "unknown";
}

u32 pvdma_status_from_errno(int err)
{
	switch (err) {
	case 0:			return PVDMA_ST_OK;
	case -EINVAL:		return PVDMA_ST_INVALID;
	case -EFAULT:		return PVDMA_ST_BAD_GPA;
	case -ENOSPC:		return PVDMA_ST_NO_APERTURE;
	case -EMFILE:		return PVDMA_ST_NO_MAPPINGS;
	case -EADDRNOTAVAIL:	return PVDMA_ST_NO_BUS_SPACE;
	case -ENOENT:		return PVDMA_ST_NOT_MAPPED;
	case -ERANGE:		return PVDMA_ST_PARTIAL;
	case -EOPNOTSUPP:	return PVDMA_ST_BAD_OP;
	default:		return PVDMA_ST_IO;
	}
}
