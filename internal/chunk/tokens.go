package chunk

import (
	"fmt"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// Counter counts tokens in a piece of text.
type Counter interface {
	Count(s string) int
}

var loaderOnce sync.Once

// TiktokenCounter counts with an OpenAI BPE encoding (cl100k_base by
// default), the unit LLM context budgets are written in. Ranks come from
// an embedded table: no network at run time. cl100k_base is counted by
// this package's own scanner and merge (bpe.go), exactly as tiktoken-go
// counts it and several times faster; other encodings go to tiktoken-go.
type TiktokenCounter struct {
	fast  *bpeCounter        // cl100k_base: counted here
	enc   *tiktoken.Tiktoken // any other encoding
	mu    sync.RWMutex
	cache map[string]int // tiktoken-go's counts of short texts
}

// NewTiktokenCounter loads the named encoding ("cl100k_base", "o200k_base").
func NewTiktokenCounter(encoding string) (*TiktokenCounter, error) {
	if encoding == tiktoken.MODEL_CL100K_BASE {
		ranks, err := cl100kRanks()
		if err != nil {
			return nil, fmt.Errorf("loading tokenizer %s: %w", encoding, err)
		}
		return &TiktokenCounter{fast: &bpeCounter{ranks, newMergeCache()}}, nil
	}
	enc, err := tiktokenEncoding(encoding)
	if err != nil {
		return nil, err
	}
	return &TiktokenCounter{enc: enc, cache: map[string]int{}}, nil
}

// tiktokenEncoding loads an encoding through tiktoken-go, offline.
func tiktokenEncoding(encoding string) (*tiktoken.Tiktoken, error) {
	loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader()) })
	enc, err := tiktoken.GetEncoding(encoding)
	if err != nil {
		return nil, fmt.Errorf("loading tokenizer %s: %w", encoding, err)
	}
	return enc, nil
}

// maxCached bounds the cache so hostile input cannot grow it forever.
const maxCached = 1 << 20

// Count returns the number of tokens in s.
func (c *TiktokenCounter) Count(s string) int {
	if c.fast != nil {
		return c.fast.count(s)
	}
	c.mu.RLock()
	n, ok := c.cache[s]
	c.mu.RUnlock()
	if ok {
		return n
	}
	n = len(c.enc.EncodeOrdinary(s))
	if len(s) <= 64 {
		c.mu.Lock()
		if len(c.cache) >= maxCached {
			clear(c.cache)
		}
		c.cache[s] = n
		c.mu.Unlock()
	}
	return n
}
