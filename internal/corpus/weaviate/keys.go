package weaviate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragtune/ragtune/internal/apikey"
)

// API keys live in the cluster, in <Prefix>Key, so that every ragtune
// serve over the same collections accepts the same keys: one object per
// key, its ID derived from the key's name (names are unique by
// construction), holding the key's SHA-256 hash, never the key. Keys are
// read and written at the corpus's consistency level and not cached, so
// a key added or revoked through one replica is honoured by every replica
// on its next request.

func (c *Corpus) keySchema() *models.Class {
	class := c.classBase(c.keyClass)
	class.Description = "ragtune API keys (hashes only)"
	class.Properties = []*models.Property{keyword("name"), keyword("hash"), stored("scopes"), stored("created_at")}
	if class.ReplicationConfig != nil {
		// A replica that missed a revocation must not bring the key back.
		class.ReplicationConfig.DeletionStrategy = models.ReplicationConfigDeletionStrategyDeleteOnConflict
	}
	return class
}

// CreateAPIKey makes a new random key with the given scopes and returns
// it; this is the only time it is visible. A name in use is refused.
func (c *Corpus) CreateAPIKey(ctx context.Context, name string, scopes []string) (string, error) {
	if err := apikey.Check(name, scopes); err != nil {
		return "", err
	}
	key, err := apikey.New()
	if err != nil {
		return "", err
	}
	id := objectID("apikey", name)
	objs, err := c.client.Data().ObjectsGetter().WithClassName(c.keyClass).WithID(id).WithConsistencyLevel(c.consistency).Do(ctx)
	if err != nil && !isNotFound(err) {
		return "", c.wrap("reading key "+name, err)
	}
	if err == nil && len(objs) > 0 {
		return "", fmt.Errorf("a key named %q %w", name, apikey.ErrExists)
	}
	_, err = c.client.Data().Creator().WithClassName(c.keyClass).WithID(id).WithConsistencyLevel(c.consistency).
		WithProperties(map[string]any{"name": name, "hash": apikey.Hash(key), "scopes": strings.Join(scopes, ","),
			"created_at": time.Now().UTC().Format(time.RFC3339)}).Do(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "already exists") {
			return "", fmt.Errorf("a key named %q %w", name, apikey.ErrExists)
		}
		return "", c.wrap("storing key "+name, err)
	}
	return key, nil
}

type keyRow struct {
	Name      string `json:"name"`
	Hash      string `json:"hash"`
	Scopes    string `json:"scopes"`
	CreatedAt string `json:"created_at"`
}

// keys reads the key objects matching where (all when nil).
func (c *Corpus) keys(ctx context.Context, where *filters.WhereBuilder) ([]keyRow, error) {
	q := c.client.GraphQL().Get().WithClassName(c.keyClass).WithLimit(10000).
		WithFields(graphql.Field{Name: "name"}, graphql.Field{Name: "hash"}, graphql.Field{Name: "scopes"}, graphql.Field{Name: "created_at"})
	if c.cfg.Replication > 1 {
		// GraphQL takes a consistency level only on a replicated collection.
		q = q.WithConsistencyLevel(c.consistency)
	}
	if where != nil {
		q = q.WithWhere(where)
	}
	resp, err := q.Do(ctx)
	if err != nil {
		return nil, c.wrap("reading API keys", err)
	}
	var page struct {
		Get map[string][]keyRow `json:"Get"`
	}
	if err := decode(resp, &page); err != nil {
		return nil, c.wrap("reading API keys", err)
	}
	return page.Get[c.keyClass], nil
}

// CheckAPIKey returns the name and scopes of key; apikey.ErrUnknown when
// no stored key has its hash. The hash is found by a filtered search,
// which runs on one replica's index and can still see a key another
// replica just revoked; the key object is then read by its ID at the
// corpus's consistency level, which a revocation at the same level
// cannot escape.
func (c *Corpus) CheckAPIKey(ctx context.Context, key string) (string, []string, error) {
	h := apikey.Hash(key)
	rows, err := c.keys(ctx, filters.Where().WithPath([]string{"hash"}).WithOperator(filters.Equal).WithValueText(h))
	if err != nil {
		return "", nil, err
	}
	for _, r := range rows {
		if !apikey.Equal(r.Hash, h) {
			continue
		}
		objs, err := c.client.Data().ObjectsGetter().WithClassName(c.keyClass).WithID(objectID("apikey", r.Name)).WithConsistencyLevel(c.consistency).Do(ctx)
		if isNotFound(err) || (err == nil && len(objs) == 0) {
			return "", nil, apikey.ErrUnknown // revoked
		}
		if err != nil {
			return "", nil, c.wrap("reading key "+r.Name, err)
		}
		if props, ok := objs[0].Properties.(map[string]any); !ok || !apikey.Equal(fmt.Sprint(props["hash"]), h) {
			return "", nil, apikey.ErrUnknown // revoked, and the name given to another key
		}
		return r.Name, strings.Split(r.Scopes, ","), nil
	}
	return "", nil, apikey.ErrUnknown
}

// RevokeAPIKey deletes the key called name, so requests with it are
// refused from then on; false when no key has that name.
func (c *Corpus) RevokeAPIKey(ctx context.Context, name string) (bool, error) {
	id := objectID("apikey", name)
	// A replicated delete succeeds whether or not the object exists, so
	// whether it did is asked first.
	objs, err := c.client.Data().ObjectsGetter().WithClassName(c.keyClass).WithID(id).WithConsistencyLevel(c.consistency).Do(ctx)
	if isNotFound(err) || (err == nil && len(objs) == 0) {
		return false, nil
	}
	if err != nil {
		return false, c.wrap("reading key "+name, err)
	}
	err = c.client.Data().Deleter().WithClassName(c.keyClass).WithID(id).WithConsistencyLevel(c.consistency).Do(ctx)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.wrap("revoking key "+name, err)
	}
	return true, nil
}

// APIKeys lists the keys by name.
func (c *Corpus) APIKeys(ctx context.Context) ([]apikey.Key, error) {
	rows, err := c.keys(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]apikey.Key, 0, len(rows))
	for _, r := range rows {
		out = append(out, apikey.Key{Name: r.Name, Scopes: strings.Split(r.Scopes, ","), CreatedAt: r.CreatedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Ping reports whether the cluster answers and has the key collection.
func (c *Corpus) Ping(ctx context.Context) error {
	ok, err := c.client.Schema().ClassExistenceChecker().WithClassName(c.keyClass).Do(ctx)
	if err != nil {
		return c.wrap("checking collection "+c.keyClass, err)
	}
	if !ok {
		return errors.New("weaviate collection " + c.keyClass + " is missing")
	}
	return nil
}

// KeysLocation says where the keys live.
func (c *Corpus) KeysLocation() string {
	return "the Weaviate cluster at " + c.cfg.URL + ", collection " + c.keyClass + " (shared by every ragtune serve over it)"
}
