# SPDX-License-Identifier: MIT
"""Phase markers for pvdma-trace: "PHASE name" lines in the trace."""
import os

_fd = None


def phase(name):
    """Write "PHASE name" to trace_marker when run under pvdma-trace."""
    global _fd
    path = os.environ.get('PVDMA_TRACE_MARKER')
    if not path:
        return
    try:
        if _fd is None:
            _fd = os.open(path, os.O_WRONLY)
        os.write(_fd, ('PHASE %s\n' % name).encode())
    except OSError:
        pass
    print('phase', name, flush=True)
