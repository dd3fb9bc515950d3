#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-report.sh LOG OUT: from the console log of `make bench` (vm/bench.sh's
# "RESULT bench ..." and "RESULT median ..." lines), write into OUT:
#   bench.csv     round,path,metric,value: every measurement
#   ratios.csv    round,metric,pci_ratio,bound_ratio,sim_ratio, per round:
#                 ours-pci / vp_vdpa, ours-pci / vfio (the passthrough
#                 bound), ours-sim / vdpa_sim (metrics the other has too)
#   bench.json    the medians and their ratios
#   bench.png     the per-round ratios of each metric (gnuplot), 1.0 marked
# and print the path of each.

set -euo pipefail

log=$1 out=$2
mkdir -p "$out"

sed -n 's/^RESULT bench round=\([0-9]*\) path=\([^ ]*\) metric=\([^ ]*\) value=\([^ ]*\).*/\1,\2,\3,\4/p' \
	"$log" | tr -d '\r' > "$out/bench.tmp"
if [ ! -s "$out/bench.tmp" ]; then
	rm -f "$out/bench.tmp"
	echo "bench-report: no measurement in $log" >&2
	exit 1
fi
{ echo "round,path,metric,value"; cat "$out/bench.tmp"; } > "$out/bench.csv"

# Per round and metric, ours-pci / vp_vdpa and ours-sim / vdpa_sim.
awk -F, '{ v[$1 "," $3 "," $2] = $4; r[$1] = 1; m[$3] = 1 }
	function q(a, b) { return (a > 0 && b > 0) ? sprintf("%.3f", a / b) : "" }
	END {
		for (i in r) for (k in m) {
			a = q(v[i "," k ",ours-pci"], v[i "," k ",vp_vdpa"])
			c = q(v[i "," k ",ours-pci"], v[i "," k ",vfio"])
			b = q(v[i "," k ",ours-sim"], v[i "," k ",vdpa_sim"])
			if (a != "" || b != "" || c != "")
				print i "," k "," a "," c "," b
		}
	}' "$out/bench.tmp" | sort -t, -k2,2 -k1,1n > "$out/ratios.tmp"
{ echo "round,metric,pci_ratio,bound_ratio,sim_ratio"; cat "$out/ratios.tmp"; } > "$out/ratios.csv"
rm -f "$out/ratios.tmp"
rm -f "$out/bench.tmp"

# The medians, as JSON.
sed -n 's/^RESULT median //p' "$log" | tr -d '\r' | awk '
	BEGIN { printf "{\n  \"medians\": [" }
	{
		printf "%s\n    {", (NR > 1 ? "," : "")
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			val = kv[2] ~ /^[0-9.]+$/ ? kv[2] : "\"" kv[2] "\""
			if (kv[2] == "-")
				val = "null"
			printf "%s\"%s\": %s", (i > 1 ? ", " : ""), kv[1], val
		}
		printf "}"
	}
	END { printf "\n  ]\n}\n" }' > "$out/bench.json"

# The plot: one column per metric, a point per round and path kind.
awk -F, 'NR > 1 { if (!($2 in x)) { x[$2] = ++n; print "#", n, $2 > "/dev/stderr" }
	print x[$2], $2, ($3 == "" ? "NaN" : $3), ($4 == "" ? "NaN" : $4),
	      ($5 == "" ? "NaN" : $5) }' \
	"$out/ratios.csv" > "$out/ratios.dat" 2> /dev/null
gnuplot <<EOF
set terminal pngcairo size 1100,500 noenhanced
set output "$out/bench.png"
set title "vhost-mdev / its peer, per round (rates: higher is better; times: lower)"
set ylabel "ratio ours / peer"
set xtics rotate by -30
set grid ytics
set key outside right
set logscale y
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
plot "$out/ratios.dat" using (\$1 - 0.15):3:xtic(2) with points pt 7 ps 1.2 title "PCI: vhost_mdev_pci / vp_vdpa", \
     "" using 1:4 with points pt 9 ps 1.2 title "PCI: vhost_mdev_pci / VFIO passthrough", \
     "" using (\$1 + 0.15):5 with points pt 5 ps 1.2 title "sim: vhost_mdev_sim / vdpa_sim_net"
EOF
rm -f "$out/ratios.dat"
for f in bench.csv ratios.csv bench.json bench.png; do
	echo "bench-report: $out/$f"
done
