# SPDX-License-Identifier: MIT
# Mapping count against aperture held, per configuration (summed over traces).
set terminal pngcairo size 900,560
set output outdir.'/frontier.png'
set title 'Peak mappings vs peak aperture (sum over traces); labels: configuration'
set xlabel 'peak aperture held (MiB, summed)'
set ylabel 'peak live mappings (summed)'
set logscale y
set key off
plot data.'/frontier.dat' using 2:3 with points pt 7 ps 1.5, \
     '' using 2:3:1 with labels offset 1,0.6 left font ',8'
