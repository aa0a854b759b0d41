/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one version of pvdma: every program's --version, the module's
 * MODULE_VERSION, the dkms package and the install tree take it from here
 * (install.mk reads it with sed). Bump it for a release.
 */
#ifndef PVDMA_VERSION_H
#define PVDMA_VERSION_H

#define PVDMA_VERSION	"0.2"

#endif /* PVDMA_VERSION_H */
