// Package mcpserver offers a ragtune collection to agents and editors
// over the Model Context Protocol: tools to search, to ask (an answer with
// citations, or the refusal), and to list and read documents; documents
// are also resources. It serves over stdio (`ragtune mcp`) and over
// streamable HTTP (mounted by `ragtune serve` at /mcp, behind its keys).
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/corpus"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// Collection is what the tools need; a *project.Project is one.
type Collection interface {
	Retriever(ctx context.Context, mode retrieve.Mode) (*retrieve.Retriever, error)
	Generator(ctx context.Context, model string) (answer.Generator, error)
	Documents(ctx context.Context, prefix string) ([]corpus.DocumentInfo, error)
	Document(ctx context.Context, path string) (corpus.Document, error)
}

// Options are the collection's retrieval defaults.
type Options struct {
	Mode    retrieve.Mode
	K       int
	Version string
}

// maxK bounds the passages one call may ask for.
const maxK = 50

// New builds the MCP server of a collection.
func New(c Collection, o Options) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "ragtune", Version: o.Version}, &mcp.ServerOptions{
		Instructions: "ragtune answers from the documents it has ingested. Use ask for an answer with numbered citations " +
			"(it says \"I do not have information about that.\" when the documents do not cover the question); " +
			"use search to see the passages themselves; list_documents and get_document read the sources.",
	})
	t := tools{c: c, o: o}
	mcp.AddTool(s, &mcp.Tool{Name: "search", Description: "Find the passages of the knowledge base that best match a query, " +
		"best first, each with its document, heading, line range and score. Use it to read sources; use ask for an answer."}, t.search)
	mcp.AddTool(s, &mcp.Tool{Name: "ask", Description: "Answer a question from the knowledge base only. Every sentence cites a " +
		"passage as [n] (the citations list says which document and lines); when the passages do not cover the question the answer " +
		"is exactly \"I do not have information about that.\" with the reason. Never invents facts."}, t.ask)
	mcp.AddTool(s, &mcp.Tool{Name: "list_documents", Description: "List the documents in the knowledge base (path, title, " +
		"format, chunks, tags), optionally under a path prefix, a page at a time."}, t.list)
	mcp.AddTool(s, &mcp.Tool{Name: "get_document", Description: "Read one document's text, by the path list_documents or a citation gives."}, t.get)
	s.AddResourceTemplate(&mcp.ResourceTemplate{Name: "document", Title: "A document of the knowledge base",
		URITemplate: "ragtune://document/{path}", MIMEType: "text/plain"}, t.resource)
	return s
}

type tools struct {
	c Collection
	o Options
}

// Query is what search and ask take.
type Query struct {
	Query      string   `json:"query" jsonschema:"the question or search words"`
	Mode       string   `json:"mode,omitempty" jsonschema:"lexical (keywords), dense (meaning) or hybrid (both); the collection's default when empty"`
	K          int      `json:"k,omitempty" jsonschema:"how many passages to retrieve (default 4, at most 50)"`
	PathPrefix string   `json:"path_prefix,omitempty" jsonschema:"only documents whose path starts with this"`
	Tags       []string `json:"tags,omitempty" jsonschema:"only documents with every one of these tags"`
}

// Passage is one retrieved passage.
type Passage struct {
	Rank    int     `json:"rank"`
	Doc     string  `json:"doc"`
	Heading string  `json:"heading,omitempty"`
	Lines   [2]int  `json:"lines"`
	Score   float64 `json:"score"`
	Text    string  `json:"text"`
}

// SearchResult is what search returns.
type SearchResult struct {
	Passages []Passage `json:"passages"`
}

// AskResult is what ask returns.
type AskResult struct {
	Answer        string            `json:"answer"`
	Abstained     bool              `json:"abstained"`
	AbstainReason string            `json:"abstain_reason,omitempty"`
	Citations     []answer.Citation `json:"citations"`
	// Answerability and ShortAnswer come from the built-in answerer: how
	// likely the quoted sentence answers, and the span of it that does.
	Answerability *float64 `json:"answerability,omitempty"`
	ShortAnswer   string   `json:"short_answer,omitempty"`
}

func (t tools) retrieve(ctx context.Context, q Query) ([]retrieve.Hit, error) {
	query, err := retrieve.Request{Text: q.Query, K: q.K, Mode: q.Mode, PathPrefix: q.PathPrefix, Tags: q.Tags}.
		Query(retrieve.Defaults{Mode: t.o.Mode, K: t.o.K, MaxK: maxK})
	if err != nil {
		return nil, err
	}
	r, err := t.c.Retriever(ctx, query.Mode)
	if err != nil {
		return nil, err
	}
	return r.Search(ctx, query)
}

func (t tools) search(ctx context.Context, _ *mcp.CallToolRequest, q Query) (*mcp.CallToolResult, SearchResult, error) {
	hits, err := t.retrieve(ctx, q)
	if err != nil {
		return nil, SearchResult{}, err
	}
	out := SearchResult{Passages: []Passage{}}
	for _, h := range hits {
		out.Passages = append(out.Passages, Passage{Rank: h.Rank, Doc: h.DocPath, Heading: h.Heading,
			Lines: [2]int{h.LineStart, h.LineEnd}, Score: h.Score, Text: h.Text})
	}
	return nil, out, nil
}

func (t tools) ask(ctx context.Context, _ *mcp.CallToolRequest, q Query) (*mcp.CallToolResult, AskResult, error) {
	hits, err := t.retrieve(ctx, q)
	if err != nil {
		return nil, AskResult{}, err
	}
	gen, err := t.c.Generator(ctx, "")
	if err != nil {
		return nil, AskResult{}, err
	}
	res, err := answer.Answer(ctx, gen, answer.Request{Question: q.Query, Hits: hits})
	if err != nil {
		return nil, AskResult{}, err
	}
	out := AskResult{Answer: res.Answer, Abstained: res.Abstained, Citations: res.Citations, Answerability: res.Answerability, ShortAnswer: res.ShortAnswer}
	if res.AbstainReason != nil {
		out.AbstainReason = *res.AbstainReason
	}
	// The text a model reads first: the answer and its sources.
	var b strings.Builder
	b.WriteString(res.Answer)
	if res.ShortAnswer != "" {
		b.WriteString("\n\nShort answer: " + res.ShortAnswer)
	}
	if len(res.Citations) > 0 {
		b.WriteString("\n\nSources:")
		for _, c := range res.Citations {
			fmt.Fprintf(&b, "\n[%d] %s:%d-%d", c.N, c.Doc, c.Lines[0], c.Lines[1])
			if c.Heading != "" {
				b.WriteString(" (" + c.Heading + ")")
			}
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: b.String()}}}, out, nil
}

// ListQuery is what list_documents takes.
type ListQuery struct {
	Prefix string `json:"prefix,omitempty" jsonschema:"only documents whose path starts with this"`
	Limit  int    `json:"limit,omitempty" jsonschema:"documents per page (default 100, at most 1000)"`
	Offset int    `json:"offset,omitempty" jsonschema:"documents to skip"`
}

// DocumentList is what list_documents returns.
type DocumentList struct {
	Documents  []corpus.DocumentInfo `json:"documents"`
	Total      int                   `json:"total"`
	NextOffset int                   `json:"next_offset,omitempty"`
}

func (t tools) list(ctx context.Context, _ *mcp.CallToolRequest, q ListQuery) (*mcp.CallToolResult, DocumentList, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	docs, err := t.c.Documents(ctx, q.Prefix)
	if err != nil {
		return nil, DocumentList{}, err
	}
	q.Offset = min(max(q.Offset, 0), len(docs))
	out := DocumentList{Documents: append([]corpus.DocumentInfo{}, docs[q.Offset:min(q.Offset+q.Limit, len(docs))]...), Total: len(docs)}
	if q.Offset+q.Limit < len(docs) {
		out.NextOffset = q.Offset + q.Limit
	}
	return nil, out, nil
}

// DocumentRequest is what get_document takes.
type DocumentRequest struct {
	Path string `json:"path" jsonschema:"the document's path, as list_documents or a citation gives it"`
}

// DocumentText is what get_document returns.
type DocumentText struct {
	Path  string   `json:"path"`
	Title string   `json:"title"`
	Tags  []string `json:"tags,omitempty"`
	Text  string   `json:"text"`
}

func (t tools) get(ctx context.Context, _ *mcp.CallToolRequest, q DocumentRequest) (*mcp.CallToolResult, DocumentText, error) {
	d, err := t.c.Document(ctx, q.Path)
	if errors.Is(err, corpus.ErrNoDocument) {
		return nil, DocumentText{}, fmt.Errorf("no document at %q; list_documents shows the paths", q.Path)
	}
	if err != nil {
		return nil, DocumentText{}, err
	}
	return nil, DocumentText{Path: d.Path, Title: d.Title, Tags: d.Tags, Text: text(d)}, nil
}

// text is a document's text as stored: its chunks in order, their
// overlaps left out.
func text(d corpus.Document) string {
	var b strings.Builder
	end := 0
	for _, c := range d.Chunks {
		s := c.Text
		if c.Start < end && c.End > end && end-c.Start < len(s) {
			s = s[end-c.Start:]
		} else if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
		end = max(end, c.End)
	}
	return b.String()
}

func (t tools) resource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	raw, ok := strings.CutPrefix(req.Params.URI, "ragtune://document/")
	if !ok {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	path, err := url.PathUnescape(raw)
	if err != nil {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	d, err := t.c.Document(ctx, path)
	if errors.Is(err, corpus.ErrNoDocument) {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: text(d)}}}, nil
}
