# SPDX-License-Identifier: MIT
# Failed maps against the aperture, per policy (summed over traces).
set terminal pngcairo size 900,480
set output outdir.'/sweep.png'
set title 'Failed maps vs aperture (all traces)'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set ylabel 'failed maps'
set xlabel 'aperture'
set key top right
plot data.'/sweep.dat' using 2:xtic(1) title 'rfc', '' using 3 title 'perpage', \
     '' using 4 title 'pvdma'
