package corpus

import "time"

// Document is a document with its chunks, as written by Upsert.
type Document struct {
	Path      string
	Title     string
	Format    string
	Hash      string
	Size      int64
	Signature string // pipeline settings the chunks were made with
	Tags      []string
	Chunks    []Chunk
}

// Chunk is a stored chunk.
type Chunk struct {
	ID        string `json:"chunk_id"`
	Ord       int    `json:"ord"`
	Title     string `json:"title"`
	Heading   string `json:"heading"`
	Text      string `json:"text"`
	Start     int    `json:"byte_start"`
	End       int    `json:"byte_end"`
	LineStart int    `json:"line_start"`
	LineEnd   int    `json:"line_end"`
	Tokens    int    `json:"tokens"`
	// Vector is the chunk's embedding, nil in a corpus without an embedder.
	Vector []float32 `json:"-"`
	// Rowid is the chunk's key in its corpus, set on search results.
	Rowid int64 `json:"-"`
}

// DocumentInfo describes a stored document without its chunks.
type DocumentInfo struct {
	ID         string    `json:"id"`
	Path       string    `json:"path"`
	Title      string    `json:"title"`
	Format     string    `json:"format"`
	Hash       string    `json:"hash"`
	Size       int64     `json:"size"`
	Signature  string    `json:"signature"`
	Chunks     int       `json:"chunks"`
	Tags       []string  `json:"tags"`
	IngestedAt time.Time `json:"ingested_at"`
}

// Hit is one search result.
type Hit struct {
	Chunk
	DocPath  string  `json:"doc"`
	DocTitle string  `json:"doc_title"`
	Score    float64 `json:"score"`
}

// LexicalQuery is a BM25 search.
type LexicalQuery struct {
	Match      string // an FTS5 MATCH expression (see lexical.MatchQuery)
	Text       string // the query as typed, for engines with their own query syntax
	K          int
	PathPrefix string   // only documents under this path
	Tags       []string // only documents with every one of these tags
	TitleBoost float64  // BM25 weight of the title/heading column; 1 if zero
}

// DenseQuery is a nearest-neighbour search by inner product (the
// embedder's vectors are unit length, so this is cosine similarity).
type DenseQuery struct {
	Vector     []float32
	K          int
	PathPrefix string
	Tags       []string
}

// Identity names the embedder a corpus's vectors come from.
type Identity struct {
	Embedder string // "none" when the corpus holds no vectors
	Dim      int
}

// NoEmbedder is the Identity of a corpus without vectors.
var NoEmbedder = Identity{Embedder: "none"}

// Bound reports whether the identity names an embedder.
func (id Identity) Bound() bool { return id.Embedder != "" && id.Embedder != "none" }

// Stats counts what a corpus holds.
type Stats struct {
	Documents int
	Chunks    int
	Tokens    int64 // the chunks' total tokens
}
