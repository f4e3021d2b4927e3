# Called by bench/summarize.py with: datafile, blocks, outfile, term (png|svg), titletext, ylabel,
# kind (lines: one block per server, x = connections; bars: one row per server); optionally
# xlabeltext, xticsspec (a gnuplot tics list, e.g. the idle crowd's N=0 placed at 1) and ylog
# (a log y axis, for figures two orders of magnitude apart).
if (term eq 'png') {
  set terminal pngcairo size 900,540 noenhanced
} else {
  set terminal svg size 900,540 dynamic noenhanced
}
set output outfile
set title titletext
set ylabel ylabel
set grid
set key outside right top
if (kind eq 'lines') {
  set logscale x 10
  set xlabel (exists("xlabeltext") ? xlabeltext : 'connections')
  if (exists("xticsspec")) { eval('set xtics '.xticsspec) }
  if (exists("ylog")) { set logscale y 10 }
  # Past gnuplot's 8 colours the lines turn dashed, so that no two servers look alike.
  plot for [i=0:blocks-1] datafile index i using 1:2 with linespoints lw 2 dt 1 + int(i / 8) \
    title columnheader(2)
} else {
  set style data histograms
  set style fill solid 0.8 border -1
  set boxwidth 0.8
  set xtics rotate by -45 scale 0
  set key off
  set logscale y 10
  plot datafile using 2:xtic(1) title columnheader(2)
}
