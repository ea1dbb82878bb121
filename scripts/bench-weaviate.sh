#!/bin/sh
# Compares the embedded store with Weaviate on one BEIR directory:
# nDCG@10 and search latency (ragtune eval run, depth 100) per retrieval
# mode, then ingest rate and search/ask latency at k (ragtune bench) per
# bench mode, every store in turn in one run. Not part of make test.
#
#   RT=/tmp/ragtune scripts/bench-weaviate.sh DATASET [NODES...]
#
# NODES: one Weaviate cluster per argument, of that many nodes (default:
# 1 3), replication = nodes, started on loopback by
# scripts/weaviate-local.sh (the i-th at port 18080 + 10000·(i-1)) and
# stopped at the end; a cluster already answering at its port is used as
# it is and left running. Environment:
#   RT           the ragtune binary (default: ragtune on PATH)
#   WORK         projects, clusters, logs (default: $TMPDIR/ragtune-bench-weaviate)
#   MODES        eval modes (default: lexical dense hybrid; empty: none)
#   BENCH_MODES  bench modes (default: lexical; empty: none; dense re-embeds the corpus every time)
#   ROUNDS       eval passes over all stores (default: 1)
#   STORES       which stores to measure (default: embedded and every cluster)
# Dense and hybrid need the built-in model (make model); the embedded
# store reuses its eval index from the user cache, each cluster keeps its
# own under WORK. Results: WORK/results.tsv (and printed as they come),
# each run's JSON beside it.
set -eu
data=$(cd "${1:?usage: $0 DATASET [NODES...]}" && pwd)
shift
[ $# -gt 0 ] || set -- 1 3
RT=${RT:-ragtune}
WORK=${WORK:-${TMPDIR:-/tmp}/ragtune-bench-weaviate}
MODES=${MODES-lexical dense hybrid}
BENCH_MODES=${BENCH_MODES-lexical}
ROUNDS=${ROUNDS:-1}
here=$(cd "$(dirname "$0")" && pwd)
model=${RAGTUNE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ragtune/models/use-lite-0.2.0}
mkdir -p "$WORK"
out=$WORK/results.tsv
started=""
trap 'for d in $started; do "$here/weaviate-local.sh" stop "$d"; done' EXIT INT TERM

project() { # DIR BACKEND URL REPLICATION
	mkdir -p "$1"
	[ -f "$1/ragtune.toml" ] || (cd "$1" && "$RT" init -q >/dev/null)
	sed -i -e "s|^backend = .*|backend = \"$2\"|" -e "s|^url = .*|url = \"$3\"|" -e "s|^replication = .*|replication = $4|" \
		-e '/^\[embed\]/,/^\[/s|^provider = .*|provider = "builtin"|' "$1/ragtune.toml"
}

all=embedded
project "$WORK/p-embedded" embedded http://unused 1
i=0
for n in "$@"; do
	port=$((18080 + 10000 * i))
	i=$((i + 1))
	url=http://127.0.0.1:$port
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/.well-known/ready")" != 200 ]; then
		PORT=$port "$here/weaviate-local.sh" start "$WORK/wv$n" "$n"
		started="$started $WORK/wv$n"
	fi
	project "$WORK/p-wv$n" weaviate "$url" "$n"
	all="$all wv$n"
done
STORES=${STORES:-$all}

run() { # STORE ARGS...: ragtune in the store's project
	s=$1
	shift
	if [ "$s" = embedded ]; then
		(cd "$WORK/p-embedded" && RAGTUNE_MODEL_DIR=$model "$RT" "$@")
	else # each cluster's eval index marks under its own cache directory
		(cd "$WORK/p-$s" && RAGTUNE_MODEL_DIR=$model RAGTUNE_CACHE_DIR=$WORK/$s-cache "$RT" "$@")
	fi
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "# $(date -u +%FT%TZ) $(uptime)" | tee -a "$out"
for r in $(seq 1 "$ROUNDS"); do
	for m in $MODES; do
		for s in $STORES; do
			j=$(run "$s" eval run "$data" --mode "$m" --json -q)
			echo "$j" >"$WORK/$(basename "$data")-$s-$m-eval-$r.json"
			echo "$j" | field "'\t'.join(['eval','$s','$m','round $r','ndcg@10 %.4f' % d['metrics']['ndcg@10'], 'p50 %.1f ms' % d['latency_ms']['p50'], 'p95 %.1f ms' % d['latency_ms']['p95'], 'reused index' if d['index_reused'] else 'indexed in %.0f s' % d['index_seconds']])" | tee -a "$out"
		done
	done
done
for m in $BENCH_MODES; do
	for s in $STORES; do
		j=$(run "$s" bench "$data" --mode "$m" --json -q)
		echo "$j" >"$WORK/$(basename "$data")-$s-$m-bench.json"
		echo "$j" | field "'\t'.join(['bench','$s','$m','%d docs, %d chunks' % (d['documents'], d['chunks']), 'ingest %.0f docs/s' % d['ingest']['docs_per_second'], 'search p50 %.1f p95 %.1f ms' % (d['search']['p50_ms'], d['search']['p95_ms']), 'ask p50 %.1f p95 %.1f ms' % (d['ask']['p50_ms'], d['ask']['p95_ms']), 'plain top-k p50 %.1f ms' % d['search_yardstick']['p50_ms'] if d.get('search_yardstick') else 'no plain top-k'])" | tee -a "$out"
	done
done
echo "# $(date -u +%FT%TZ) $(uptime)" | tee -a "$out"
