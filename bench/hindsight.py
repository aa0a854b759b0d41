# SPDX-License-Identifier: MIT
"""The best fixed block chosen with hindsight, and the host-call targets
judged against it (docs/performance.md, "Targets, plainly"): one
definition for make bench's report (bench/planner_report.py, its
"pvdma/best" column and "Against the targets") and for the bounds
tests/replay/run-replay.sh enforces."""

# the fixed block sizes tried per workload (pvdma-replay --policy block
# --block SIZE): every power of two from 256 KiB to the largest window
BLOCKS = ("256K", "1M", "2M", "4M", "8M", "16M", "32M", "64M", "128M",
          "256M")
# pvdma >= this many times fewer host calls than rfc, wherever the
# hindsight block reaches it
TIMES_FEWER_THAN_RFC = 30
# pvdma's host calls at most this many times the hindsight block's
TIMES_BEST_BLOCK = 2


def best_block(rows):
    """(host calls, size) of the block size with the fewest host calls
    among those that fail no more maps than rfc (the first size of
    BLOCKS on a tie), None where every size fails more. rows: the
    workload's "rfc" row and "blocks", {size: that size's row}."""
    rfc_failed = rows["rfc"]["failed_maps"]
    fits = [(b["host_calls"], size) for size, b in rows["blocks"].items()
            if b["failed_maps"] <= rfc_failed]
    return min(fits, key=lambda t: t[0]) if fits else None


def misses_rfc_target(rfc_calls, pvdma_calls, best_calls):
    """The hindsight block makes 30x fewer host calls than rfc and pvdma
    does not."""
    return (rfc_calls >= TIMES_FEWER_THAN_RFC * best_calls and
            rfc_calls < TIMES_FEWER_THAN_RFC * pvdma_calls)


def misses_block_target(pvdma_calls, best_calls):
    """pvdma needs more than twice the hindsight block's host calls."""
    return pvdma_calls > TIMES_BEST_BLOCK * best_calls


def short(source):
    """A workload's name in the tables: h200/NAME for a trace, the class
    for a synthetic workload."""
    if source.startswith("synthetic:"):
        return source[len("synthetic:"):]
    parts = source.split("/")
    return "%s/%s" % (parts[-2].replace("nvidia-580-", ""),
                      parts[-1].replace(".trace.xz", ""))
