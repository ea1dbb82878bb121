package weaviate

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// nodeProblems compares the cluster's nodes as the node the client talks
// to sees them: a node that is not healthy, and a node holding fewer
// objects of a chunk shard than another replica of the same shard
// (behind: replication has not caught up, or it missed writes). Weaviate
// refreshes these counts every few seconds, so a difference right after
// an ingest can be the count's lag: run the check again to confirm.
func (c *Corpus) nodeProblems(ctx context.Context) ([]string, error) {
	resp, err := c.client.Cluster().NodesStatusGetter().WithClass(c.chunkClass).WithOutput("verbose").Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's nodes: %w", err)
	}
	var problems []string
	counts := map[string]map[string]int64{} // shard → node → objects
	for _, n := range resp.Nodes {
		if n == nil {
			continue
		}
		if n.Status != nil && *n.Status != "HEALTHY" {
			problems = append(problems, fmt.Sprintf("node %s is %s", n.Name, *n.Status))
		}
		for _, sh := range n.Shards {
			if sh == nil || sh.Class != c.chunkClass {
				continue
			}
			if counts[sh.Name] == nil {
				counts[sh.Name] = map[string]int64{}
			}
			counts[sh.Name][n.Name] = sh.ObjectCount
		}
	}
	for _, shard := range slices.Sorted(maps.Keys(counts)) {
		byNode := counts[shard]
		most, leader := int64(-1), ""
		for _, node := range slices.Sorted(maps.Keys(byNode)) {
			if byNode[node] > most {
				most, leader = byNode[node], node
			}
		}
		for _, node := range slices.Sorted(maps.Keys(byNode)) {
			if n := byNode[node]; n < most {
				problems = append(problems, fmt.Sprintf("node %s is behind on shard %s of %s: %d objects, %s holds %d", node, shard, c.chunkClass, n, leader, most))
			}
		}
	}
	return problems, nil
}
