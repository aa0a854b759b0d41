#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Record every workload with pvdma-trace on a GPU machine (root, tracefs,
# NVIDIA driver, PyTorch + transformers, nvcc). Run from the repository root:
#
#   OUT=DIR tools/trace/workloads/record-all.sh [WORKLOAD...]
#
# Leaves DIR/NAME.trace.xz for each workload, DIR/run.log (environment,
# each workload's output and pvdma-trace's report) and DIR/stats.txt
# (pvdma-trace stats of each trace). The Vulkan workload needs the loader
# and glvnd libraries: .deb files in .gl/ are unpacked into / first, and
# the program itself is taken from .gl/vkstream when present (build it with
# "cc -O2 -o .gl/vkstream tools/trace/workloads/vkstream.c -lvulkan"); so
# are vkframes, vklevels, vknaive and vkimport (-lvulkan) and eglrender
# (-lEGL -lGLESv2), built from their
# .c files here when .gl/ lacks them (the lent GPU machine has no Vulkan
# or EGL headers: build them into .gl/ where the headers are).
# The CUDA C++ workloads (uvmadvise, hostpool) are taken from .gl/NAME
# when present, else built with nvcc into /tmp.
# BUDGET (seconds, default 540) bounds the whole run: a workload starts
# only if time is left and is stopped when the budget runs out.
set -u
root=$(pwd)
tool=$root/tools/trace/pvdma-trace
wl=$root/tools/trace/workloads
OUT=${OUT:-$root/trace-out}
mkdir -p "$OUT"
log=$OUT/run.log
budget=${BUDGET:-540}
t_start=$(date +%s)
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 \
	NVSHMEM_DISABLE_NVLS=1 PYTHONPATH="$wl${PYTHONPATH:+:$PYTHONPATH}"

say() {
	echo "== $(date -u +%H:%M:%S) $*" | tee -a "$log"
}

left() {
	echo $((budget - ($(date +%s) - t_start)))
}

# record NAME LIMIT COMMAND...: trace COMMAND, stopped after LIMIT seconds
record() {
	name=$1
	limit=$2
	shift 2
	l=$(left)
	if [ "$l" -lt 30 ]; then
		say "$name: skipped, ${l}s left"
		return
	fi
	[ "$limit" -gt $((l - 20)) ] && limit=$((l - 20))
	say "$name: recording (limit ${limit}s): $*"
	if command -v xz >/dev/null 2>&1; then
		f=$OUT/$name.trace.xz
	else
		f=/tmp/$name.trace
	fi
	"$tool" record -o "$f" -- timeout -s INT -k 10 "$limit" "$@" >>"$log" 2>&1
	say "$name: exit $?"
	"$tool" stats "$f" >>"$OUT/stats.txt" 2>&1
	if [ "$f" = "/tmp/$name.trace" ]; then
		python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(lzma.compress(open(sys.argv[1], "rb").read()))' \
			"$f" "$OUT/$name.trace.xz"
	fi
	ls -la "$OUT/$name.trace.xz" >>"$log" 2>&1
}

setup_vulkan() {
	for d in "$root"/.gl/*.deb; do
		[ -e "$d" ] && dpkg -x "$d" /
	done
	ldconfig
	icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	[ -e "$icd" ] && export VK_DRIVER_FILES="$icd"
	egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
	[ -e "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
	vk=$(gl_program vkstream -lvulkan)
}

# gl_program NAME LIBS...: the path of a carried .gl/NAME, else NAME built
# from its source into /tmp
gl_program() {
	prog=$root/.gl/$1
	if [ ! -x "$prog" ]; then
		prog=/tmp/$1
		src=$wl/$1.c
		shift
		cc -std=c11 -O2 -o "$prog" "$src" "$@" >>"$log" 2>&1
	fi
	echo "$prog"
}

# cu_program NAME: the path of a carried .gl/NAME, else NAME built from
# NAME.cu with nvcc into /tmp
cu_program() {
	prog=$root/.gl/$1
	if [ ! -x "$prog" ]; then
		prog=/tmp/$1
		nvcc -O2 -arch=sm_90 -o "$prog" "$wl/$1.cu" >>"$log" 2>&1
	fi
	echo "$prog"
}

{
	echo "== environment"
	uname -a
	nvidia-smi
	cat /proc/driver/nvidia/version
	python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
	command -v xz nvcc cc
	ls /sys/kernel/tracing/events/dma 2>/dev/null || ls /sys/kernel/debug/tracing/events/dma
	ls /sys/kernel/tracing/buffer_subbuf_size_kb /sys/kernel/tracing/kprobe_events
	grep MemAvailable /proc/meminfo; nproc
	for f in /sys/kernel/tracing/events/dma/*/format; do
		echo "-- $f"
		grep '^print fmt' "$f"
	done
} >>"$log" 2>&1

all=${*:-vulkan-streaming llm-prefill-decode training uvm-oversub host-register multiproc}
for w in $all; do
	case $w in
	vulkan-streaming)
		setup_vulkan
		record vulkan-streaming 90 "$vk" 6 256 2
		;;
	llm-prefill-decode)
		say "llm: writing the model (not traced)"
		timeout 180 python3 "$wl/llm.py" prepare >>"$log" 2>&1
		record llm-prefill-decode 150 python3 "$wl/llm.py" run
		;;
	training)
		record training 120 python3 "$wl/training.py"
		;;
	uvm-oversub | host-register)
		if [ ! -x /tmp/cudamem ]; then
			nvcc -O2 -arch=sm_90 -o /tmp/cudamem "$wl/cudamem.cu" >>"$log" 2>&1
		fi
		if [ "$w" = uvm-oversub ]; then
			record uvm-oversub 120 /tmp/cudamem uvm 4
		else
			record host-register 90 /tmp/cudamem hostreg
		fi
		;;
	multiproc)
		record multiproc 90 python3 "$wl/multiproc.py"
		;;
	cupy-streams)
		record cupy-streams 90 python3 "$wl/cupystreams.py"
		;;
	offload)
		record offload 120 python3 "$wl/offload.py"
		;;
	jax)
		record jax 120 python3 "$wl/jaxjob.py"
		;;
	pinpool)
		record pinpool 120 python3 "$wl/pinpool.py"
		;;
	hostreg)
		record hostreg 120 python3 "$wl/hostreg.py"
		;;
	kvswap)
		record kvswap 120 python3 "$wl/kvswap.py"
		;;
	cupypool)
		record cupypool 120 python3 "$wl/cupypool.py"
		;;
	pinbufs)
		record pinbufs 120 python3 "$wl/pinbufs.py"
		;;
	ctxpageable)
		record ctxpageable 120 python3 "$wl/ctxpageable.py"
		;;
	uvmchurn)
		record uvmchurn 120 python3 "$wl/uvmchurn.py"
		;;
	bigreg)
		record bigreg 120 python3 "$wl/bigreg.py"
		;;
	vkframes)
		setup_vulkan
		record vkframes 90 "$(gl_program vkframes -lvulkan)" 600
		;;
	eglrender)
		setup_vulkan
		record eglrender 90 "$(gl_program eglrender -lEGL -lGLESv2)" 1200
		;;
	server | procchurn | libinit | mmapreg | torchgraph | vmmhost)
		record "$w" 100 python3 "$wl/$w.py"
		;;
	server-heavy)
		record server-heavy 100 python3 "$wl/server.py" 2048 256 3
		;;
	vmmhost-big)
		record vmmhost-big 100 python3 "$wl/vmmhost.py" 2400
		;;
	compiletrain)
		record compiletrain 180 python3 "$wl/compiletrain.py"
		;;
	shmring | slidereg | numbahost | jaxhost)
		record "$w" 100 python3 "$wl/$w.py"
		;;
	uvmadvise | hostpool)
		record "$w" 100 "$(cu_program "$w")"
		;;
	vklevels)
		setup_vulkan
		record vklevels 120 "$(gl_program vklevels -lvulkan)" 250
		;;
	actorlearner | modelswap)
		record "$w" 120 python3 "$wl/$w.py"
		;;
	vknaive)
		setup_vulkan
		record vknaive 120 "$(gl_program vknaive -lvulkan)" 1200
		;;
	vkimport)
		setup_vulkan
		record vkimport 120 "$(gl_program vkimport -lvulkan)" 1500
		;;
	zerocopy)
		record zerocopy 120 python3 "$wl/zerocopy.py"
		;;
	*)
		say "unknown workload $w"
		;;
	esac
done
say "done in $(($(date +%s) - t_start))s"
ls -la "$OUT" >>"$log"
