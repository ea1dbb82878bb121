package weaviate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragtune/ragtune/internal/corpus"
)

// batchSize bounds one import request; Weaviate's own clients default to
// about this many objects.
const batchSize = 200

// Upsert writes each document's chunks, then drops chunks of earlier
// versions, then the document record. Chunk IDs derive from path and
// position, so a rewrite replaces objects in place, and the document
// record, written last, says which version is complete: an interrupted
// write leaves the old hash there and the next ingest redoes it.
func (c *Corpus) Upsert(ctx context.Context, docs []corpus.Document) error {
	if len(docs) == 0 {
		return nil
	}
	if err := c.checkVectors(ctx, docs); err != nil {
		return err
	}
	var objs []*models.Object
	for _, d := range docs {
		ver := version(d)
		for _, ch := range d.Chunks {
			objs = append(objs, c.chunkObject(d, ch, ver))
		}
	}
	if err := c.importObjects(ctx, objs); err != nil {
		return err
	}
	// Chunks left from earlier versions of these documents go in one
	// request. Every chunk below the new count was just rewritten in
	// place, so the stale ones are those at or past it. Not "version ≠
	// this version": on a replicated cluster that NotEqual (every object
	// but the matches) also caught chunks a replica was still indexing,
	// and the delete then removed them from every replica, a chunk or
	// three of each SciFact-sized ingest on three nodes (ingest said
	// nothing; status --verify did).
	stale := make([]*filters.WhereBuilder, len(docs))
	for i, d := range docs {
		stale[i] = filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
			filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(d.Path),
			filters.Where().WithPath([]string{"ord"}).WithOperator(filters.GreaterThanEqual).WithValueInt(int64(len(d.Chunks))),
		})
	}
	where := stale[0]
	if len(stale) > 1 {
		where = filters.Where().WithOperator(filters.Or).WithOperands(stale)
	}
	if err := c.deleteWhere(ctx, c.chunkClass, where); err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	docObjs := make([]*models.Object, len(docs))
	for i, d := range docs {
		docObjs[i] = &models.Object{Class: c.docClass, ID: strfmt.UUID(objectID("doc", d.Path)), Properties: map[string]any{
			"path": d.Path, "doc_id": corpus.DocID(d.Path), "title": d.Title, "format": d.Format, "hash": d.Hash,
			"size": d.Size, "signature": d.Signature, "chunks": len(d.Chunks), "ingested_at": now, "tags": nonNil(d.Tags),
		}}
	}
	return c.importObjects(ctx, docObjs)
}

// version identifies one ingest of a document: its content and the
// settings its chunks were made with.
func version(d corpus.Document) string {
	sum := sha256.Sum256([]byte(d.Hash + "\x00" + d.Signature))
	return hex.EncodeToString(sum[:8])
}

func (c *Corpus) chunkObject(d corpus.Document, ch corpus.Chunk, ver string) *models.Object {
	return &models.Object{
		Class: c.chunkClass,
		ID:    strfmt.UUID(objectID("chunk", d.Path+"\x00"+strconv.Itoa(ch.Ord))),
		Properties: map[string]any{
			"chunk_id": ch.ID, "doc": d.Path, "version": ver, "doc_title": d.Title, "ord": ch.Ord,
			"title": ch.Title, "heading": ch.Heading, "text": ch.Text,
			"byte_start": ch.Start, "byte_end": ch.End, "line_start": ch.LineStart, "line_end": ch.LineEnd,
			"tokens": ch.Tokens, "tags": nonNil(d.Tags), "rowid": strconv.FormatInt(rowid(ch.ID), 10),
			"lex_title": stems(ch.Title), "lex_text": stems(ch.Text), "lex_all": stems(ch.Title + "\n" + ch.Text),
		},
		Vector: ch.Vector,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkVectors refuses chunks that do not fit the bound embedder, as the
// embedded store does.
func (c *Corpus) checkVectors(ctx context.Context, docs []corpus.Document) error {
	id, dim, err := c.identity(ctx)
	if err != nil {
		return err
	}
	bound := id != "none"
	for _, d := range docs {
		for _, ch := range d.Chunks {
			switch {
			case bound && len(ch.Vector) != dim:
				return fmt.Errorf("%w: chunk %d of %s has no %s vector of dimension %d", corpus.ErrEmbedderMismatch, ch.Ord, d.Path, id, dim)
			case !bound && ch.Vector != nil:
				return fmt.Errorf("chunk %d of %s has a vector, but the collection is bound to no embedder", ch.Ord, d.Path)
			}
		}
	}
	return nil
}

// importObjects sends objs in batches. Objects the cluster rejects are
// sent again a few times, since a replica that has not yet loaded a new
// collection's shard refuses writes for a moment; after that the first
// rejection is the error.
func (c *Corpus) importObjects(ctx context.Context, objs []*models.Object) error {
	for start := 0; start < len(objs); start += batchSize {
		pending := objs[start:min(start+batchSize, len(objs))]
		delay := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			rejected, first, err := c.importBatch(ctx, pending)
			if err != nil {
				return err
			}
			if len(rejected) == 0 {
				break
			}
			if attempt == 6 {
				return fmt.Errorf("weaviate at %s rejected %d of %d objects; %s", c.cfg.URL, len(rejected), len(pending), first)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			pending, delay = rejected, 2*delay
		}
	}
	return nil
}

func (c *Corpus) importBatch(ctx context.Context, objs []*models.Object) ([]*models.Object, string, error) {
	res, err := c.client.Batch().ObjectsBatcher().WithObjects(objs...).WithConsistencyLevel(c.consistency).Do(ctx)
	if err != nil {
		return nil, "", c.wrap("importing objects", err)
	}
	byID := make(map[strfmt.UUID]*models.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	var rejected []*models.Object
	var first string
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			if first == "" {
				first = fmt.Sprintf("object %s: %s", r.ID, r.Result.Errors.Error[0].Message)
			}
			rejected = append(rejected, byID[r.ID])
		}
	}
	return rejected, first, nil
}

// deleteWhere removes every object of class matching where; one request
// deletes at most the server's query limit, so it repeats until none match.
func (c *Corpus) deleteWhere(ctx context.Context, class string, where *filters.WhereBuilder) error {
	for {
		res, err := c.client.Batch().ObjectsBatchDeleter().WithClassName(class).WithWhere(where).
			WithOutput("minimal").WithConsistencyLevel(c.consistency).Do(ctx)
		if err != nil {
			return c.wrap("deleting objects", err)
		}
		if res.Results == nil || res.Results.Matches == 0 {
			return nil
		}
		if res.Results.Failed > 0 {
			return fmt.Errorf("weaviate at %s failed to delete %d objects", c.cfg.URL, res.Results.Failed)
		}
		if res.Results.Matches < res.Results.Limit {
			return nil
		}
	}
}

// Delete removes documents with their chunks.
func (c *Corpus) Delete(ctx context.Context, paths []string) error {
	for _, p := range paths {
		where := filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(p)
		if err := c.deleteWhere(ctx, c.chunkClass, where); err != nil {
			return fmt.Errorf("deleting %s: %w", p, err)
		}
		where = filters.Where().WithPath([]string{"path"}).WithOperator(filters.Equal).WithValueText(p)
		if err := c.deleteWhere(ctx, c.docClass, where); err != nil {
			return fmt.Errorf("deleting %s: %w", p, err)
		}
	}
	return nil
}

type docRow struct {
	Path       string   `json:"path"`
	DocID      string   `json:"doc_id"`
	Title      string   `json:"title"`
	Format     string   `json:"format"`
	Hash       string   `json:"hash"`
	Size       int64    `json:"size"`
	Signature  string   `json:"signature"`
	Chunks     int      `json:"chunks"`
	IngestedAt string   `json:"ingested_at"`
	Tags       []string `json:"tags"`
	Additional struct {
		ID string `json:"id"`
	} `json:"_additional"`
}

// Documents lists documents whose path starts with prefix, by path. It
// pages with Weaviate's cursor, which walks a whole collection in ID order.
func (c *Corpus) Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error) {
	fields := []graphql.Field{{Name: "path"}, {Name: "doc_id"}, {Name: "title"}, {Name: "format"}, {Name: "hash"},
		{Name: "size"}, {Name: "signature"}, {Name: "chunks"}, {Name: "ingested_at"}, {Name: "tags"},
		{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}}}
	var out []corpus.DocumentInfo
	after := ""
	for {
		q := c.client.GraphQL().Get().WithClassName(c.docClass).WithFields(fields...).WithLimit(1000)
		if after != "" {
			q = q.WithAfter(after)
		}
		resp, err := q.Do(ctx)
		if err != nil {
			return nil, c.wrap("listing documents", err)
		}
		var page struct {
			Get map[string][]docRow `json:"Get"`
		}
		if err := decode(resp, &page); err != nil {
			return nil, c.wrap("listing documents", err)
		}
		rows := page.Get[c.docClass]
		for _, r := range rows {
			if !strings.HasPrefix(r.Path, prefix) {
				continue
			}
			at, _ := time.Parse(time.RFC3339Nano, r.IngestedAt)
			out = append(out, corpus.DocumentInfo{ID: r.DocID, Path: r.Path, Title: r.Title, Format: r.Format, Hash: r.Hash,
				Size: r.Size, Signature: r.Signature, Chunks: r.Chunks, Tags: nonNil(r.Tags), IngestedAt: at})
		}
		if len(rows) < 1000 {
			break
		}
		after = rows[len(rows)-1].Additional.ID
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Stats counts the documents and chunks and sums the chunks' tokens.
func (c *Corpus) Stats(ctx context.Context) (corpus.Stats, error) {
	docs, _, err := c.count(ctx, c.docClass, nil, false)
	if err != nil {
		return corpus.Stats{}, err
	}
	chunks, tokens, err := c.count(ctx, c.chunkClass, nil, true)
	return corpus.Stats{Documents: docs, Chunks: chunks, Tokens: tokens}, err
}

// count aggregates a class: its object count and, if asked, the sum of
// the chunks' tokens.
func (c *Corpus) count(ctx context.Context, class string, where *filters.WhereBuilder, tokens bool) (int, int64, error) {
	fields := []graphql.Field{{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}}
	if tokens {
		fields = append(fields, graphql.Field{Name: "tokens", Fields: []graphql.Field{{Name: "sum"}}})
	}
	q := c.client.GraphQL().Aggregate().WithClassName(class).WithFields(fields...)
	if where != nil {
		q = q.WithWhere(where)
	}
	resp, err := q.Do(ctx)
	if err != nil {
		return 0, 0, c.wrap("counting "+class, err)
	}
	var out struct {
		Aggregate map[string][]struct {
			Meta   struct{ Count int }   `json:"meta"`
			Tokens struct{ Sum float64 } `json:"tokens"`
		} `json:"Aggregate"`
	}
	if err := decode(resp, &out); err != nil {
		return 0, 0, c.wrap("counting "+class, err)
	}
	rows := out.Aggregate[class]
	if len(rows) == 0 {
		return 0, 0, nil
	}
	return rows[0].Meta.Count, int64(rows[0].Tokens.Sum), nil
}

// Verify compares every document's recorded chunk count with the chunks
// the collection holds for it.
func (c *Corpus) Verify(ctx context.Context) ([]string, error) {
	docs, err := c.Documents(ctx, "")
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, d := range docs {
		where := filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(d.Path)
		n, _, err := c.count(ctx, c.chunkClass, where, false)
		if err != nil {
			return nil, err
		}
		if n != d.Chunks {
			problems = append(problems, fmt.Sprintf("%s: %d chunks recorded, %d stored", d.Path, d.Chunks, n))
		}
	}
	nodes, err := c.nodeProblems(ctx)
	if err != nil {
		return nil, err
	}
	return append(problems, nodes...), nil
}

// Bind records the index identity with the collections, or checks that it
// matches the one recorded.
func (c *Corpus) Bind(ctx context.Context, ident corpus.Identity) error {
	id, dim := ident.Embedder, ident.Dim
	bound, err := c.Identity(ctx)
	if err != nil {
		return err
	}
	cur, curDim := bound.Embedder, bound.Dim
	if bound.Bound() {
		if cur != id || curDim != dim {
			return fmt.Errorf("%w: collection %s is bound to %s (dimension %d), not %s (dimension %d); "+
				"use another collection prefix for the new embedder", corpus.ErrEmbedderMismatch, c.chunkClass, cur, curDim, id, dim)
		}
		return nil
	}
	obj := &models.Object{Class: c.metaClass, ID: strfmt.UUID(objectID("meta", "identity")),
		Properties: map[string]any{"key": "identity", "value": fmt.Sprintf("%s\t%d", id, dim)}}
	if err := c.importObjects(ctx, []*models.Object{obj}); err != nil {
		return err
	}
	c.remember(id, dim)
	return nil
}

func (c *Corpus) remember(id string, dim int) {
	c.mu.Lock()
	c.boundID, c.boundDim = id, dim
	c.mu.Unlock()
}

// Identity returns the bound embedder and dimension, corpus.NoEmbedder
// before any is bound.
func (c *Corpus) Identity(ctx context.Context) (corpus.Identity, error) {
	id, dim, err := c.identity(ctx)
	return corpus.Identity{Embedder: id, Dim: dim}, err
}

func (c *Corpus) identity(ctx context.Context) (string, int, error) {
	c.mu.Lock()
	id, dim := c.boundID, c.boundDim
	c.mu.Unlock()
	if id != "" {
		return id, dim, nil
	}
	objs, err := c.client.Data().ObjectsGetter().WithClassName(c.metaClass).WithID(objectID("meta", "identity")).
		WithConsistencyLevel(c.consistency).Do(ctx)
	if err != nil {
		if isNotFound(err) {
			return "none", 0, nil
		}
		return "", 0, c.wrap("reading the index identity", err)
	}
	if len(objs) == 0 {
		return "none", 0, nil
	}
	props, _ := objs[0].Properties.(map[string]any)
	val, _ := props["value"].(string)
	id, dimText, _ := strings.Cut(val, "\t")
	dim, err = strconv.Atoi(dimText)
	if id == "" || err != nil {
		return "", 0, fmt.Errorf("weaviate at %s: collection %s holds an unreadable index identity %q", c.cfg.URL, c.metaClass, val)
	}
	c.remember(id, dim)
	return id, dim, nil
}

// Document reads back the document at path with its chunks and vectors.
// A single request returns at most the server's query limit (10,000 by
// default), far above any document's chunk count.
func (c *Corpus) Document(ctx context.Context, path string) (corpus.Document, error) {
	var d corpus.Document
	where := filters.Where().WithPath([]string{"path"}).WithOperator(filters.Equal).WithValueText(path)
	resp, err := c.client.GraphQL().Get().WithClassName(c.docClass).WithWhere(where).WithLimit(1).
		WithFields(graphql.Field{Name: "path"}, graphql.Field{Name: "title"}, graphql.Field{Name: "format"}, graphql.Field{Name: "hash"},
			graphql.Field{Name: "size"}, graphql.Field{Name: "signature"}, graphql.Field{Name: "tags"}).Do(ctx)
	if err != nil {
		return d, c.wrap("reading document "+path, err)
	}
	var page struct {
		Get map[string][]docRow `json:"Get"`
	}
	if err := decode(resp, &page); err != nil {
		return d, c.wrap("reading document "+path, err)
	}
	if len(page.Get[c.docClass]) == 0 {
		return d, fmt.Errorf("%w: %s", corpus.ErrNoDocument, path)
	}
	r := page.Get[c.docClass][0]
	d = corpus.Document{Path: r.Path, Title: r.Title, Format: r.Format, Hash: r.Hash, Size: r.Size, Signature: r.Signature, Tags: r.Tags}
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	chunkWhere := filters.Where().WithPath([]string{"doc"}).WithOperator(filters.Equal).WithValueText(path)
	fields := append(append([]graphql.Field{}, hitFields...), graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "vector"}}})
	rows, err := c.get(ctx, c.client.GraphQL().Get().WithClassName(c.chunkClass).WithWhere(chunkWhere).WithLimit(10000).WithFields(fields...), "reading chunks of "+path)
	if err != nil {
		return d, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Ord < rows[j].Ord })
	for _, r := range rows {
		ch := r.hit(0).Chunk
		ch.Rowid = 0
		if len(r.Additional.Vector) > 0 {
			ch.Vector = r.Additional.Vector
		}
		d.Chunks = append(d.Chunks, ch)
	}
	return d, nil
}
