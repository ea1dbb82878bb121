// Package weaviate keeps a ragtune corpus in Weaviate, a distributed
// vector engine that shards and replicates across nodes, for corpora that
// outgrow one machine. It implements corpus.Corpus: ragtune computes the
// vectors (Weaviate's vectorizer is off), chunks are Weaviate objects
// whose properties carry the chunk metadata, and searches map to BM25 and
// nearVector so that ragtune's own fusion runs on top, as it does on the
// embedded corpus.
package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	wvc "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/lexical"
)

// Config says where the cluster is and how collections are laid out.
type Config struct {
	URL         string // http(s)://host:port of any node
	APIKey      string // sent as a bearer token when set
	Prefix      string // collection names start with it: <Prefix>Chunk, <Prefix>Document, <Prefix>Meta, <Prefix>Key
	Shards      int    // shards per collection; 0 lets Weaviate use one per node
	Replication int    // copies of every shard; 0 or 1 means none
	// Consistency is ONE, QUORUM or ALL: how many replicas must answer a
	// read or acknowledge a write.
	Consistency string
	Timeout     time.Duration
}

// Corpus is a ragtune corpus in one set of Weaviate collections.
type Corpus struct {
	client      *wvc.Client
	cfg         Config
	chunkClass  string
	docClass    string
	metaClass   string
	keyClass    string
	consistency string

	// combined says the chunk collection has lex_all; collections made
	// before it existed are searched the slower, exhaustive way.
	combined bool

	// The index identity, once bound, never changes; kept here so that
	// searches and writes do not ask the cluster for it each time.
	mu       sync.Mutex
	boundID  string
	boundDim int
}

var prefixPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// Open connects to the cluster and creates the collections when missing.
func Open(ctx context.Context, cfg Config) (*Corpus, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("weaviate url %q: want http://host:port or https://host:port", cfg.URL)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "Ragtune"
	}
	if !prefixPattern.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("weaviate collection prefix %q: it must start with a capital letter and hold only letters and digits", cfg.Prefix)
	}
	cl := strings.ToUpper(cfg.Consistency)
	switch cl {
	case "":
		cl = "QUORUM"
	case "ONE", "QUORUM", "ALL":
	default:
		return nil, fmt.Errorf("weaviate consistency %q: want ONE, QUORUM or ALL", cfg.Consistency)
	}
	wcfg := wvc.Config{Host: u.Host, Scheme: u.Scheme, Timeout: cfg.Timeout}
	if cfg.APIKey != "" {
		wcfg.AuthConfig = auth.ApiKey{Value: cfg.APIKey}
	}
	client, err := wvc.NewClient(wcfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to weaviate at %s: %w", cfg.URL, err)
	}
	c := &Corpus{client: client, cfg: cfg, consistency: cl,
		chunkClass: cfg.Prefix + "Chunk", docClass: cfg.Prefix + "Document", metaClass: cfg.Prefix + "Meta",
		keyClass: cfg.Prefix + "Key"}
	if err := c.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close releases nothing: the client holds no connections of its own.
func (c *Corpus) Close() error { return nil }

// Describe names the backend for `ragtune status`.
func (c *Corpus) Describe() map[string]string {
	return map[string]string{
		"backend":     "weaviate",
		"weaviate":    c.cfg.URL,
		"collections": c.chunkClass + ", " + c.docClass,
		"lexical":     "weaviate bm25 k1=1.2 b=0.75 over porter2 stems",
		"consistency": c.consistency,
	}
}

// Replica reads the document at path and its first chunks from node's
// own replica, object by object, the way a repair or a lagging node is
// checked; corpus.ErrNoDocument when that replica lacks any of them.
func (c *Corpus) Replica(ctx context.Context, path, node string, chunks int) (corpus.Document, error) {
	doc := corpus.Document{Path: path}
	var row docRow
	if err := c.replicaObject(ctx, c.docClass, objectID("doc", path), node, &row); err != nil {
		return doc, err
	}
	doc.Title, doc.Format, doc.Hash, doc.Size, doc.Signature = row.Title, row.Format, row.Hash, row.Size, row.Signature
	for ord := range chunks {
		var ch chunkRow
		if err := c.replicaObject(ctx, c.chunkClass, objectID("chunk", path+"\x00"+strconv.Itoa(ord)), node, &ch); err != nil {
			return doc, err
		}
		doc.Chunks = append(doc.Chunks, corpus.Chunk{ID: ch.ChunkID, Ord: ch.Ord, Text: ch.Text})
	}
	return doc, nil
}

// replicaObject decodes one object's properties as node's replica holds
// them into v.
func (c *Corpus) replicaObject(ctx context.Context, class, id, node string, v any) error {
	objs, err := c.client.Data().ObjectsGetter().WithClassName(class).WithID(id).WithNodeName(node).Do(ctx)
	if isNotFound(err) || (err == nil && len(objs) == 0) {
		return fmt.Errorf("%w: %s on %s", corpus.ErrNoDocument, id, node)
	}
	if err != nil {
		return c.wrap("reading from node "+node, err)
	}
	b, err := json.Marshal(objs[0].Properties)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Reset empties the corpus: the collections are dropped and made anew.
// API keys are not the corpus's content and are kept.
func (c *Corpus) Reset(ctx context.Context) error {
	if err := c.drop(ctx, c.chunkClass, c.docClass, c.metaClass); err != nil {
		return err
	}
	return c.ensureSchema(ctx)
}

// Drop deletes the collections with everything in them, API keys too.
func (c *Corpus) Drop(ctx context.Context) error {
	return c.drop(ctx, c.chunkClass, c.docClass, c.metaClass, c.keyClass)
}

func (c *Corpus) drop(ctx context.Context, names ...string) error {
	c.mu.Lock()
	c.boundID, c.boundDim = "", 0
	c.mu.Unlock()
	for _, name := range names {
		ok, err := c.client.Schema().ClassExistenceChecker().WithClassName(name).Do(ctx)
		if err != nil {
			return c.wrap("checking collection "+name, err)
		}
		if ok {
			if err := c.client.Schema().ClassDeleter().WithClassName(name).Do(ctx); err != nil {
				return c.wrap("deleting collection "+name, err)
			}
		}
	}
	return nil
}

func (c *Corpus) ensureSchema(ctx context.Context) error {
	for _, class := range []*models.Class{c.chunkSchema(), c.docSchema(), c.metaSchema(), c.keySchema()} {
		ok, err := c.client.Schema().ClassExistenceChecker().WithClassName(class.Class).Do(ctx)
		if err != nil {
			return c.wrap("checking collection "+class.Class, err)
		}
		if ok && class.Class == c.chunkClass {
			if err := c.checkCombined(ctx); err != nil {
				return err
			}
		}
		if ok {
			continue
		}
		if class.Class == c.chunkClass {
			c.combined = true
		}
		if err := c.client.Schema().ClassCreator().WithClass(class).Do(ctx); err != nil {
			// Another process may have created it in the meantime.
			if ok, _ := c.client.Schema().ClassExistenceChecker().WithClassName(class.Class).Do(ctx); ok {
				continue
			}
			return c.wrap("creating collection "+class.Class, err)
		}
	}
	return nil
}

// checkCombined looks for lex_all in an existing chunk collection.
func (c *Corpus) checkCombined(ctx context.Context) error {
	class, err := c.client.Schema().ClassGetter().WithClassName(c.chunkClass).Do(ctx)
	if err != nil {
		return c.wrap("reading collection "+c.chunkClass, err)
	}
	c.combined = false
	for _, p := range class.Properties {
		if p.Name == "lex_all" {
			c.combined = true
		}
	}
	if !c.combined {
		slog.Warn("weaviate collection made by an older ragtune: lexical search ranks every match itself, which is slower; "+
			"copy the corpus to new collections (ragtune store migrate) or re-ingest after ragtune init --reset to speed it up",
			"collection", c.chunkClass)
	}
	return nil
}

func (c *Corpus) classBase(name string) *models.Class {
	class := &models.Class{
		Class:      name,
		Vectorizer: "none",
		InvertedIndexConfig: &models.InvertedIndexConfig{
			// FTS5's defaults, and no stopword list: the embedded store
			// indexes every word too, and queries drop stopwords themselves.
			Bm25:      &models.BM25Config{K1: 1.2, B: 0.75},
			Stopwords: &models.StopwordConfig{Preset: "none"},
		},
	}
	if c.cfg.Replication > 1 {
		// Async replication compares replicas in the background, so a node
		// that was down catches up without waiting for reads to repair it.
		class.ReplicationConfig = &models.ReplicationConfig{Factor: int64(c.cfg.Replication), AsyncEnabled: true}
	}
	if c.cfg.Shards > 0 {
		class.ShardingConfig = map[string]any{"desiredCount": c.cfg.Shards}
	}
	return class
}

func (c *Corpus) chunkSchema() *models.Class {
	class := c.classBase(c.chunkClass)
	class.Description = "ragtune chunks"
	class.VectorIndexConfig = map[string]any{"distance": "cosine"}
	class.Properties = []*models.Property{
		keyword("chunk_id"), keyword("doc"), keyword("version"), stored("doc_title"),
		integer("ord"), stored("title"), stored("heading"), stored("text"),
		integer("byte_start"), integer("byte_end"), integer("line_start"), integer("line_end"), integer("tokens"),
		{Name: "tags", DataType: []string{"text[]"}, Tokenization: "field", IndexSearchable: ptr(false)},
		// GraphQL integers are 32-bit, so the 52-bit row key travels as text.
		keyword("rowid"),
		searchable("lex_title"), searchable("lex_text"),
		// Title and text in one field: Weaviate's pruned top k is exact
		// for a query over one property but not over several (see
		// searchBM25), so the usual query runs over this one.
		searchable("lex_all"),
	}
	return class
}

func (c *Corpus) docSchema() *models.Class {
	class := c.classBase(c.docClass)
	class.Description = "ragtune documents"
	class.Properties = []*models.Property{
		keyword("path"), keyword("doc_id"), stored("title"), keyword("format"), keyword("hash"),
		integer("size"), keyword("signature"), integer("chunks"), keyword("ingested_at"),
		{Name: "tags", DataType: []string{"text[]"}, Tokenization: "field", IndexSearchable: ptr(false)},
	}
	return class
}

func (c *Corpus) metaSchema() *models.Class {
	class := c.classBase(c.metaClass)
	class.Description = "ragtune index identity"
	class.Properties = []*models.Property{keyword("key"), stored("value")}
	return class
}

// keyword is an exact-match property; stored is returned but not indexed;
// searchable holds ragtune's stems for BM25.
func keyword(name string) *models.Property {
	return &models.Property{Name: name, DataType: []string{"text"}, Tokenization: "field", IndexSearchable: ptr(false)}
}

func stored(name string) *models.Property {
	return &models.Property{Name: name, DataType: []string{"text"}, IndexFilterable: ptr(false), IndexSearchable: ptr(false)}
}

func integer(name string) *models.Property {
	return &models.Property{Name: name, DataType: []string{"int"}}
}

func searchable(name string) *models.Property {
	return &models.Property{Name: name, DataType: []string{"text"}, Tokenization: "whitespace"}
}

func ptr[T any](v T) *T { return &v }

// objectID turns a key into the UUID form Weaviate requires; the same
// key always gives the same ID, which makes writes idempotent.
func objectID(kind, key string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + key))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// rowid gives a chunk the integer key corpus.Hit carries, derived from its
// ID so every process computes the same one.
func rowid(chunkID string) int64 {
	sum := sha256.Sum256([]byte(chunkID))
	var v int64
	for _, b := range sum[:7] {
		v = v<<8 | int64(b)
	}
	return v >> 4
}

// stems is the text ragtune's BM25 runs over: every word, lower-cased and
// stemmed, so that Weaviate matches what FTS5's porter tokenizer matches.
func stems(text string) string {
	words := lexical.Words(text)
	for i, w := range words {
		words[i] = lexical.Stem(w)
	}
	return strings.Join(words, " ")
}

// wrap names the failed step and, for an unreachable or failing server,
// what the server said.
func (c *Corpus) wrap(what string, err error) error {
	var we *fault.WeaviateClientError
	if errors.As(err, &we) {
		if we.DerivedFromError != nil {
			return fmt.Errorf("weaviate at %s: %s: %w", c.cfg.URL, what, we.DerivedFromError)
		}
		return fmt.Errorf("weaviate at %s: %s: status %d: %s", c.cfg.URL, what, we.StatusCode, we.Msg)
	}
	return fmt.Errorf("weaviate at %s: %s: %w", c.cfg.URL, what, err)
}

// decode turns a GraphQL answer into v, failing on GraphQL errors.
func decode(resp *models.GraphQLResponse, v any) error {
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	b, err := json.Marshal(resp.Data)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
