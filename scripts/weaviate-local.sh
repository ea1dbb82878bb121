#!/bin/sh
# Runs a throwaway Weaviate cluster on loopback for measurements (not
# used by make test, whose tests start their own through
# internal/corpus/weaviate/weaviatetest, with the same settings).
#
#   scripts/weaviate-local.sh start DIR [NODES]   # 1 (default) to 9 nodes
#   scripts/weaviate-local.sh stop DIR            # kills them, removes DIR
#
# Node i listens on 127.0.0.i:$PORT (default 18080); every node gets its
# own gRPC and cluster data port, as those bind every interface (see
# docs/weaviate.md, "Any node answers"). The binary is $WEAVIATE_BIN, else
# the one `make weaviate` builds. Logs and data stay under DIR.
set -eu
cmd=${1:?start|stop}
dir=${2:?directory}
nodes=${3:-1}
port=${PORT:-18080}
bin=${WEAVIATE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ragtune/weaviate-v1.39.3/weaviate-server}

case $cmd in
stop)
	for f in "$dir"/node*/pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	rm -rf "$dir"
	exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop DIR [NODES]" >&2; exit 2 ;;
esac

join=""
for i in $(seq 1 "$nodes"); do join="$join${join:+,}node$i"; done
for i in $(seq 1 "$nodes"); do
	host=127.0.0.$i
	d=$dir/node$i
	mkdir -p "$d"
	extra=""
	[ "$i" -gt 1 ] && extra="CLUSTER_JOIN=127.0.0.1:$((port + 1))"
	(cd "$d"
	env AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true PERSISTENCE_DATA_PATH="$d/data" \
		DEFAULT_VECTORIZER_MODULE=none CLUSTER_HOSTNAME=node$i CLUSTER_ADVERTISE_ADDR=$host CLUSTER_BIND_ADDR=$host \
		DISABLE_TELEMETRY=true GO_PROFILING_DISABLE=true LOG_LEVEL=info QUERY_DEFAULTS_LIMIT=100 \
		RAFT_BOOTSTRAP_EXPECT="$nodes" RAFT_JOIN="$join" \
		CLUSTER_GOSSIP_BIND_PORT=$((port + 1)) RAFT_PORT=$((port + 2)) RAFT_INTERNAL_RPC_PORT=$((port + 3)) \
		GRPC_PORT=$((port + 10 + i)) CLUSTER_DATA_BIND_PORT=$((port + 20 + i)) $extra \
		setsid "$bin" --host $host --port "$port" --scheme http >weaviate.log 2>&1 &
	echo $! >pid)
	[ "$i" -eq 1 ] && sleep 2 # the others join through node1's gossip port
done
for i in $(seq 1 "$nodes"); do
	n=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.$i:$port/v1/.well-known/ready")" = 200 ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || { echo "node$i not ready; see $dir/node$i/weaviate.log" >&2; exit 1; }
		sleep 0.5
	done
done
# Every node must list every node, each healthy, once.
n=0
until [ "$(curl -s "http://127.0.0.$nodes:$port/v1/nodes" | grep -o '"status":"HEALTHY"' | wc -l)" -eq "$nodes" ]; do
	n=$((n + 1))
	[ $n -lt 120 ] || { echo "cluster not healthy: $(curl -s "http://127.0.0.$nodes:$port/v1/nodes")" >&2; exit 1; }
	sleep 0.5
done
echo "weaviate: $nodes node(s) ready at http://127.0.0.1:$port (data in $dir)"
