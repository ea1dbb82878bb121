// Package config reads ragtune.toml, then RAGTUNE_* environment
// variables over it; commands apply their flags last, so flags win.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/ragtune/ragtune/internal/answer"
	"github.com/ragtune/ragtune/internal/chunk"
	"github.com/ragtune/ragtune/internal/document"
	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/judge"
	"github.com/ragtune/ragtune/internal/rerank"
	"github.com/ragtune/ragtune/internal/retrieve"
)

// FileName is the configuration file `ragtune init` writes.
const FileName = "ragtune.toml"

// Config is the whole configuration.
type Config struct {
	Store    Store             `toml:"store"`
	Ingest   Ingest            `toml:"ingest"`
	Chunk    chunk.Options     `toml:"chunk"`
	Retrieve Retrieve          `toml:"retrieve"`
	Embed    embed.Config      `toml:"embed"`
	Answer   answer.Thresholds `toml:"answer"`
	Generate Generate          `toml:"generate"`
	Rerank   rerank.Config     `toml:"rerank"`
	Feedback Feedback          `toml:"feedback"`
	// Judge grades QA answers with a chat model (off without a model).
	Judge judge.Config `toml:"judge"`
	// Prices override the built-in price table, per model name.
	Prices map[string]answer.Price `toml:"prices"`

	// Dir is the project directory: where the config file is (or the
	// working directory without one). Relative paths resolve against it.
	Dir string `toml:"-"`
	// File is the config file read, "" if none.
	File string `toml:"-"`
}

// Store locates the store: the embedded database always (it keeps
// settings, API keys, evaluation runs and jobs), and the corpus either in
// it or in a Weaviate cluster.
type Store struct {
	Path     string   `toml:"path"`
	Backend  string   `toml:"backend"` // embedded or weaviate
	Weaviate Weaviate `toml:"weaviate"`
}

// Weaviate is where a cluster-held corpus lives.
type Weaviate struct {
	URL         string `toml:"url"`
	APIKeyEnv   string `toml:"api_key_env"` // the environment variable holding the API key
	Prefix      string `toml:"prefix"`
	Shards      int    `toml:"shards"`
	Replication int    `toml:"replication"`
	Consistency string `toml:"consistency"`
}

// Feedback is what serve records of its use: off by default, and nothing
// is recorded unless it is on.
type Feedback struct {
	// Enabled makes serve record every answered question (question,
	// answer, citations, the key's name) and take ratings at
	// POST /v1/feedback.
	Enabled bool `toml:"enabled"`
	// RetentionDays is how long a recorded interaction is kept; 0 keeps
	// them forever.
	RetentionDays int `toml:"retention_days"`
}

// maxRetentionDays bounds retention_days (a hundred years).
const maxRetentionDays = 36500

// Backend names.
const (
	BackendEmbedded = "embedded"
	BackendWeaviate = "weaviate"
)

// Ingest bounds what an ingest reads.
type Ingest struct {
	Include           []string `toml:"include"`
	Exclude           []string `toml:"exclude"`
	FollowSymlinks    bool     `toml:"follow_symlinks"`
	MaxFileBytes      int64    `toml:"max_file_bytes"`
	MaxExtractedBytes int64    `toml:"max_extracted_bytes"`
	Workers           int      `toml:"workers"`
}

// Generate chooses who writes answers.
type Generate struct {
	Provider string           `toml:"provider"` // builtin | openai
	OpenAI   answer.LLMConfig `toml:"openai"`
}

// Retrieve sets search defaults.
type Retrieve struct {
	Mode        string  `toml:"mode"`
	K           int     `toml:"k"`
	Fusion      string  `toml:"fusion"`
	Alpha       float64 `toml:"alpha"`
	RRFK        float64 `toml:"rrf_k"`
	FusionDepth int     `toml:"fusion_depth"`
	MMRLambda   float64 `toml:"mmr_lambda"`
	Quantize    string  `toml:"quantize"`
}

// JudgeSettings is the [judge] section with what it leaves unset taken
// from [generate.openai]: the endpoint and the key's variable, so that a
// judge on the same endpoint needs only a model.
func (c Config) JudgeSettings() judge.Config {
	j := c.Judge
	if j.BaseURL == "" {
		j.BaseURL = c.Generate.OpenAI.BaseURL
	}
	if j.APIKeyEnv == "" {
		j.APIKeyEnv = c.Generate.OpenAI.APIKeyEnv
	}
	return j
}

// ModeValue is the retrieval mode as a typed value. Validate rejects a
// mode that does not parse, so after it this never fails; before it, an
// unknown mode is an error here too, never a silent default.
func (r Retrieve) ModeValue() (retrieve.Mode, error) { return retrieve.ParseMode(r.Mode) }

// FusionSettings returns the hybrid fusion part of the settings.
func (r Retrieve) FusionSettings() retrieve.Fusion {
	return retrieve.Fusion{Method: r.Fusion, Alpha: r.Alpha, RRFK: r.RRFK, Depth: r.FusionDepth}
}

// Default is the configuration used where nothing is set.
func Default() Config {
	d := document.DefaultOptions()
	f := retrieve.DefaultFusion()
	return Config{
		Store: Store{Path: ".ragtune", Backend: BackendEmbedded, Weaviate: Weaviate{
			URL: "http://127.0.0.1:8080", APIKeyEnv: "WEAVIATE_API_KEY", Prefix: "Ragtune", Replication: 1, Consistency: "QUORUM"}},
		Ingest:   Ingest{Include: []string{}, Exclude: []string{}, MaxFileBytes: d.MaxFileBytes, MaxExtractedBytes: d.MaxExtractedBytes},
		Chunk:    chunk.DefaultOptions(),
		Retrieve: Retrieve{Mode: string(retrieve.Lexical), K: retrieve.DefaultK, Fusion: f.Method, Alpha: f.Alpha, RRFK: f.RRFK, FusionDepth: f.Depth, Quantize: "none"},
		Embed:    embed.DefaultConfig(),
		Generate: Generate{Provider: "builtin", OpenAI: answer.DefaultLLMConfig()},
		Rerank:   rerank.DefaultConfig(),
		Judge:    judge.DefaultConfig(),
		Prices:   map[string]answer.Price{},
		Answer:   answer.DefaultThresholds(),
		Feedback: Feedback{RetentionDays: 90},
	}
}

// Find loads the configuration a command uses: the file it names (which
// must exist), else the one $RAGTUNE_CONFIG names (likewise), else
// ./ragtune.toml if there is one; then the environment over it.
func Find(named string, environ []string) (Config, error) {
	path, required := named, named != ""
	if path == "" {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "RAGTUNE_CONFIG="); ok && v != "" {
				path, required = v, true
			}
		}
	}
	if path == "" {
		path = FileName
	}
	return Load(path, required, environ)
}

// Load reads the config file at path over the defaults, then the
// environment. A missing file is fine unless required (the user named it).
func Load(path string, required bool, environ []string) (Config, error) {
	cfg := Default()
	abs, err := filepath.Abs(path)
	if err != nil {
		return cfg, err
	}
	cfg.Dir = filepath.Dir(abs)
	md, err := toml.DecodeFile(abs, &cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
	case errors.Is(err, fs.ErrNotExist):
		return cfg, fmt.Errorf("config file %s does not exist (run `ragtune init` to create one)", path)
	case err != nil:
		return cfg, fmt.Errorf("reading %s: %w", path, err)
	default:
		cfg.File = abs
		if undecoded := md.Undecoded(); len(undecoded) > 0 {
			return cfg, fmt.Errorf("%s: unknown setting %q", path, undecoded[0].String())
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// StoreDir is the absolute store directory.
func (c Config) StoreDir() string {
	if filepath.IsAbs(c.Store.Path) {
		return c.Store.Path
	}
	return filepath.Join(c.Dir, c.Store.Path)
}

// Validate checks values a command would otherwise trip over later.
func (c Config) Validate() error {
	if err := c.Chunk.Validate(); err != nil {
		return err
	}
	if err := c.Rerank.Validate(); err != nil {
		return err
	}
	if _, err := retrieve.ParseMode(c.Retrieve.Mode); err != nil {
		return err
	}
	if err := c.Retrieve.FusionSettings().Validate(); err != nil {
		return err
	}
	if b := c.Store.Backend; b != BackendEmbedded && b != BackendWeaviate {
		return fmt.Errorf("store.backend = %q; want embedded or weaviate", b)
	}
	if c.Store.Backend == BackendWeaviate && c.Store.Weaviate.URL == "" {
		return fmt.Errorf("store.backend = weaviate needs store.weaviate.url (or RAGTUNE_WEAVIATE_URL)")
	}
	if p := c.Generate.Provider; p != "builtin" && p != "openai" {
		return fmt.Errorf("generate.provider = %q; want builtin or openai", p)
	}
	if err := c.JudgeSettings().Validate(); err != nil {
		return err
	}
	if a := c.Embed.Adapter; a != "auto" && a != "off" {
		return fmt.Errorf("embed.adapter = %q: want auto or off", a)
	}
	if p := c.Embed.Provider; p != embed.None && p != embed.Builtin && p != embed.OpenAI {
		return fmt.Errorf("embed.provider = %q; want none, builtin or openai", p)
	}
	switch {
	case c.Retrieve.K < 1 || c.Retrieve.K > 100:
		return fmt.Errorf("retrieve.k = %d; it must be between 1 and 100 (3 to 5 is the usual advice)", c.Retrieve.K)
	case c.Ingest.MaxFileBytes <= 0:
		return fmt.Errorf("ingest.max_file_bytes must be positive")
	case c.Retrieve.Quantize != "" && c.Retrieve.Quantize != "none" && c.Retrieve.Quantize != "int8":
		return fmt.Errorf("retrieve.quantize = %q; want none or int8", c.Retrieve.Quantize)
	case c.Retrieve.MMRLambda < 0 || c.Retrieve.MMRLambda > 1:
		return fmt.Errorf("retrieve.mmr_lambda = %g; want 0 (off) to 1", c.Retrieve.MMRLambda)
	case c.Answer.MinCoverage < 0 || c.Answer.MinCoverage > 1 || c.Answer.MinSupport < 0 || c.Answer.MinSupport > 1:
		return fmt.Errorf("answer.min_coverage and answer.min_support are shares between 0 and 1")
	case c.Answer.MinAnswerability < 0 || c.Answer.MinAnswerability > 1:
		return fmt.Errorf("answer.min_answerability = %g; it is a probability between 0 and 1", c.Answer.MinAnswerability)
	case c.Feedback.RetentionDays < 0 || c.Feedback.RetentionDays > maxRetentionDays:
		return fmt.Errorf("feedback.retention_days = %d; want 0 (keep forever) to %d", c.Feedback.RetentionDays, maxRetentionDays)
	}
	return nil
}

// applyEnv sets fields from RAGTUNE_<SECTION>_<KEY> variables, e.g.
// RAGTUNE_CHUNK_SIZE=512, RAGTUNE_INGEST_EXCLUDE="drafts/**,*.log" or,
// for a nested table, RAGTUNE_EMBED_OPENAI_MODEL=nomic-embed-text.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "RAGTUNE_") {
			env[k] = v
		}
	}
	// Short names for the two settings that switch a deployment to a
	// cluster: RAGTUNE_STORE=weaviate RAGTUNE_WEAVIATE_URL=http://host:8080.
	for short, long := range map[string]string{"RAGTUNE_STORE": "RAGTUNE_STORE_BACKEND", "RAGTUNE_WEAVIATE_URL": "RAGTUNE_STORE_WEAVIATE_URL"} {
		if v, ok := env[short]; ok {
			if _, set := env[long]; !set {
				env[long] = v
			}
		}
	}
	return envFields(reflect.ValueOf(cfg).Elem(), "RAGTUNE", env)
}

func envFields(v reflect.Value, prefix string, env map[string]string) error {
	for i := 0; i < v.NumField(); i++ {
		key := v.Type().Field(i).Tag.Get("toml")
		if key == "" || key == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(key)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			if err := envFields(f, name, env); err != nil {
				return err
			}
			continue
		}
		val, ok := env[name]
		if !ok {
			continue
		}
		if err := setField(f, val); err != nil {
			return fmt.Errorf("%s=%q: %w", name, val, err)
		}
	}
	return nil
}

func setField(f reflect.Value, val string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(val)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		f.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		f.SetBool(b)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("this setting cannot be set from the environment; use ragtune.toml")
		}
		var items []string
		for _, s := range strings.Split(val, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Kind())
	}
	return nil
}

// WriteDefault writes the commented default configuration to path,
// refusing to overwrite unless force is set.
func WriteDefault(path string, force bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.WriteString(Template()); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// Template is the commented default ragtune.toml.
func Template() string {
	d := Default()
	return fmt.Sprintf(`# ragtune configuration. Precedence: this file < RAGTUNE_* environment
# variables (e.g. RAGTUNE_CHUNK_SIZE=512) < command-line flags.

[store]
# Where the embedded store lives, relative to this file. It always holds
# settings, API keys, evaluation runs and fine-tuning jobs.
path = %q
# Where the corpus (documents, chunks, vectors) lives: "embedded" (in the
# store above) or "weaviate" (a Weaviate cluster, for corpora that outgrow
# one machine; see docs/weaviate.md). Environment: RAGTUNE_STORE.
backend = "embedded"

[store.weaviate]
# Any node of the cluster. Environment: RAGTUNE_WEAVIATE_URL.
url = "http://127.0.0.1:8080"
# The environment variable that holds the API key, if the cluster wants one.
api_key_env = "WEAVIATE_API_KEY"
# Collections are named <prefix>Chunk, <prefix>Document and <prefix>Meta.
prefix = "Ragtune"
# Shards per collection (0: Weaviate's default, one per node) and copies of
# each shard; replication 3 survives the loss of one node.
shards = 0
replication = 1
# How many replicas must answer: ONE, QUORUM or ALL.
consistency = "QUORUM"

[ingest]
# Globs relative to the ingested directory ("**" crosses directories).
# Empty include means every supported file.
include = []
exclude = []
# Symlinks are skipped unless this is true; even then, links that point
# outside the ingested directory are never followed.
follow_symlinks = false
# Files larger than this are skipped with a reason.
max_file_bytes = %d
# Text extracted from a PDF or DOCX may not exceed this (stops zip bombs).
max_extracted_bytes = %d
# Parallel loaders; 0 means one per CPU.
workers = 0

[chunk]
# recursive: biggest natural sections that fit (default)
# markdown:  like recursive, but a chunk never spans two headings
# sentence:  windows of whole sentences
# fixed:     fixed token windows, structure ignored
strategy = %q
# Sizes are in tokens (cl100k_base).
size = %d
overlap = %d
# Sentences per window, for the sentence strategy.
sentences = %d

[retrieve]
# lexical (BM25, the default), dense (vectors) or hybrid (both, fused).
# dense and hybrid need [embed] provider set before ingest.
mode = %q
# Chunks handed to the answerer: 3 to 5 is the rule of thumb.
k = %d
# Hybrid: "weighted" adds per-query normalised scores (alpha on dense);
# "rrf" is reciprocal rank fusion with constant rrf_k. Each list
# contributes fusion_depth results.
fusion = %q
alpha = %g
rrf_k = %g
fusion_depth = %d
# Dense and hybrid: above 0, maximal marginal relevance re-ranks results
# so near-duplicate chunks do not fill the k places (0.7 is a common value).
mmr_lambda = 0
# Dense search memory: "int8" keeps quantised vectors (a quarter of the
# size) and re-ranks the best candidates with the stored float32 ones.
quantize = "none"

[embed]
# none (default): no vectors, lexical search only.
# builtin: the Universal Sentence Encoder Lite, offline, in pure Go
#   (install the weights once with "make model"). Embedding makes ingest
#   much slower; measure with "ragtune eval" before switching it on.
# openai: any OpenAI-compatible /v1/embeddings endpoint ([embed.openai]).
provider = %q
# Where the builtin model lives; empty means the user cache directory.
model_dir = ""
batch_size = %d
# auto: map queries through the query adapter "ragtune tune embeddings"
# trained for this store, when it is enabled; off: never.
adapter = %q

[embed.openai]
# base_url = "http://localhost:11434/v1"   # Ollama; or https://api.openai.com/v1
# model = "nomic-embed-text"
# The key is read from this environment variable, never from this file.
api_key_env = "OPENAI_API_KEY"
# 0 asks the endpoint once; set it for text-embedding-3 models to shorten vectors.
dimensions = 0
max_retries = 3
timeout_seconds = 60

[answer]
# The built-in answerer. Coverage = IDF-weighted share of the question's
# content words found in a text. Below min_coverage for every retrieved
# chunk, or below min_support for every sentence, it answers
# "I do not have information about that." instead of guessing.
# Then a fitted model judges whether a sentence answers the question (the
# expected answer type is there, the question's names, numbers and
# qualifiers agree): below min_answerability (a probability) it declines
# too. The default was chosen on SQuAD-derived unanswerable questions
# (cmd/fit-answerability: the best balance of answers and refusals that
# still answers 85%% of answerable questions); raise it to refuse more,
# lower it to answer more, and measure with ragtune eval run on your own
# set.
min_coverage = %g
min_support = %g
min_answerability = %g
max_sentences = %d

[generate]
# builtin: the extractive answerer (offline, quotes retrieved sentences).
# openai: any OpenAI-compatible chat endpoint ([generate.openai]); every
#   citation it writes is checked against its passage, unsupported ones
#   are removed and counted.
provider = "builtin"

[generate.openai]
# base_url = "http://localhost:11434/v1"   # Ollama; or https://api.openai.com/v1
# model = "llama3.1"
# The key is read from this environment variable, never from this file.
api_key_env = "OPENAI_API_KEY"
temperature = 0
max_tokens = 512
timeout_seconds = 120
max_retries = 3
# system_prompt = "Answer in the tone of our support team."
context_tokens = 3000
min_citation_support = 0.5
# Few-shot examples of the wanted behaviour (optional):
# [[generate.openai.examples]]
# question = "How do I reset my password?"
# answer = "Open Settings > Security and choose Reset [1]."

[rerank]
# none (default): passages keep the retrieval order.
# cohere: a /rerank endpoint of the Cohere shape (Cohere, Jina, vLLM,
#   LiteLLM); tei: Hugging Face Text Embeddings Inference's /rerank.
# The best "depth" retrieved passages are reordered, then k are kept; if
# the reranker fails, the retrieval order is used and the hits say why.
provider = "none"
# base_url = "http://localhost:8000/v1"
# model = "BAAI/bge-reranker-v2-m3"
api_key_env = "RERANK_API_KEY"
depth = 30
batch_size = 64
timeout_seconds = 20
max_retries = 2

[feedback]
# true: serve records every answered question (question, answer, citations,
# the API key's name, never the key) and takes thumbs up/down with an
# optional correction at POST /v1/feedback; "ragtune eval feedback export"
# turns them into QA items and training examples. Off: nothing is recorded.
enabled = false
# Recorded interactions older than this are deleted (0 keeps them forever).
retention_days = %d

[judge]
# A chat model that grades QA answers in "ragtune eval run" and "eval
# arms": correctness against the gold answers, faithfulness of each claim
# to the cited passages, and the rubric below. Empty model: no judging.
# base_url and api_key_env default to [generate.openai]'s.
# model = "gpt-4o-mini"
# base_url = "https://api.openai.com/v1"
# api_key_env = "OPENAI_API_KEY"
# The behaviour rubric, one criterion a line (# starts a comment), inline
# or in a file relative to this one; pass/fail per criterion.
# rubric_file = "rubric.md"
# rubric = """
# - Never say "As an AI".
# - Use "signing key", never "secret key".
# """
# Judge at most this many questions, spread over the set (0: all).
max_items = 0
concurrency = %d
timeout_seconds = %d
max_retries = %d
max_tokens = %d
# json_schema (strict structured outputs) or json_object (JSON mode, for
# servers without schema support).
response_format = %q

# Prices per million tokens, overriding the built-in table (%s):
# [prices."my-model"]
# input_per_mtok = 0.5
# output_per_mtok = 1.5
`, d.Store.Path, d.Ingest.MaxFileBytes, d.Ingest.MaxExtractedBytes, d.Chunk.Strategy, d.Chunk.Size, d.Chunk.Overlap,
		d.Chunk.Sentences, d.Retrieve.Mode, d.Retrieve.K, d.Retrieve.Fusion, d.Retrieve.Alpha, d.Retrieve.RRFK, d.Retrieve.FusionDepth,
		d.Embed.Provider, d.Embed.BatchSize, d.Embed.Adapter, d.Answer.MinCoverage, d.Answer.MinSupport, d.Answer.MinAnswerability, d.Answer.MaxSentences,
		d.Feedback.RetentionDays, d.Judge.Concurrency, d.Judge.TimeoutSec, d.Judge.MaxRetries, d.Judge.MaxTokens, d.Judge.ResponseFormat, answer.PricesAsOf)
}

// Set changes one setting by its dotted name ("chunk.size",
// "retrieve.k"), parsing value as the setting's type. Grids in
// `ragtune eval compare` use it.
func (c *Config) Set(key, value string) error {
	section, name, ok := strings.Cut(key, ".")
	if !ok {
		return fmt.Errorf("setting %q: want SECTION.KEY, e.g. chunk.size", key)
	}
	root := reflect.ValueOf(c).Elem()
	for i := 0; i < root.NumField(); i++ {
		if root.Type().Field(i).Tag.Get("toml") != section {
			continue
		}
		sv := root.Field(i)
		for j := 0; j < sv.NumField(); j++ {
			if sv.Type().Field(j).Tag.Get("toml") == name {
				if err := setField(sv.Field(j), value); err != nil {
					return fmt.Errorf("setting %s = %q: %w", key, value, err)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("unknown setting %q", key)
}

// ErrBadCollection marks a --collection that is not NAME=path/to/ragtune.toml
// or names a collection twice.
var ErrBadCollection = errors.New("bad collection")

// Collections loads the configurations a multi-collection server serves:
// cfg under the name def, and each spec "NAME=path/to/ragtune.toml" under
// its name, every one validated.
func Collections(def string, cfg Config, specs []string, environ []string) (map[string]Config, error) {
	configs := map[string]Config{def: cfg}
	for _, c := range specs {
		n, path, ok := strings.Cut(c, "=")
		if !ok || n == "" || path == "" {
			return nil, fmt.Errorf("%w: --collection %q: want NAME=path/to/ragtune.toml", ErrBadCollection, c)
		}
		if _, dup := configs[n]; dup {
			return nil, fmt.Errorf("%w: collection %q is named twice", ErrBadCollection, n)
		}
		loaded, err := Load(path, true, environ)
		if err != nil {
			return nil, err
		}
		configs[n] = loaded
	}
	for n, c := range configs {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("%w: collection %s: %w", ErrBadCollection, n, err)
		}
	}
	return configs, nil
}
