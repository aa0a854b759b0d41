# SPDX-License-Identifier: GPL-2.0
# make checkpatch: the kernel's style checker (scripts/checkpatch.pl of
# Debian's linux-source-6.1, --strict --no-tree) over guest/ and lib/, the
# C that is built into pvdma.ko and its test modules. Fails on any error
# or warning; --strict's checks are listed. scripts/checkpatch.sh says how.
# make guest-symbols: pvdma.ko (built by make module) exports no global
# symbol without the pvdma_ prefix and carries no test code.

checkpatch:
	CHECKPATCH_DIR=$(BUILD)/checkpatch scripts/checkpatch.sh

guest-symbols:
	scripts/guest-symbols.sh guest/pvdma.ko

.PHONY: checkpatch guest-symbols
