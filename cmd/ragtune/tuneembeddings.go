package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ragtune/ragtune/internal/embed"
	"github.com/ragtune/ragtune/internal/project"
)

// embeddingsFlags are the settings of one `tune embeddings` run.
type embeddingsFlags struct {
	req             project.AdapterRequest
	enable, disable bool
	status          bool
}

func (a *app) tuneEmbeddingsCommand() *cobra.Command {
	var f embeddingsFlags
	cmd := &cobra.Command{
		Use:   "embeddings [BEIR-DIR | QA.jsonl]",
		Short: "Fine-tune retrieval offline: train a query adapter for the built-in embedder",
		Long: `embeddings trains a linear adapter that maps query vectors before the dense
search, from (question, relevant chunk) pairs, with the other questions'
chunks in the batch as negatives (and optionally the closest wrong chunks,
--negatives).
Document vectors are unchanged, so nothing is re-embedded and the adapter
can be switched off at any time ([embed] adapter = "off", or --disable).

Where the pairs come from:
  BEIR-DIR   queries and qrels of a BEIR collection; its corpus is indexed
             in the same scratch store "ragtune eval run BEIR-DIR" uses, and
             the adapter is saved there, so eval picks it up.
  QA.jsonl   questions with gold_doc_ids, against the project store (or
             --corpus, a BEIR directory).
  (none)     synthetic questions: sentences drawn from the project's own
             chunks (the inverse cloze task), a weaker signal.
With fewer than 2000 labelled training questions, synthetic ones top the
set up to 2000 (--augment sets how many; 0 turns it off).

A share of the questions (--held-out, by a seeded hash of their IDs) is
never trained on; nDCG@10, Recall@100 and MRR@10 on them, dense and
hybrid, are reported before and after. The adapter is enabled only if it
improved held-out nDCG@10 in the project's mode (hybrid when retrieve.mode
is hybrid, else dense); otherwise it is kept, switched off.`,
		Example: `  ragtune tune embeddings ../shared/datasets/scifact
  ragtune eval run ../shared/datasets/scifact --mode hybrid      # now uses the adapter
  ragtune tune embeddings questions.jsonl --held-out 0.3 --json
  ragtune tune embeddings --synthetic 3000
  ragtune tune embeddings --disable`,
		Args: maxArgs(1, "at most one BEIR directory or QA file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.req.Data = args[0]
			}
			if err := mustExist(f.req.Data, f.req.Corpus); err != nil {
				return err
			}
			return a.tuneEmbeddings(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.req.Corpus, "corpus", "", "with a QA file: a BEIR directory to answer from instead of the project store")
	fl.StringVar(&f.req.Split, "split", "test", "qrels split of a BEIR directory")
	fl.Float64Var(&f.req.HeldOut, "held-out", 0.3, "share of questions never trained on, for the before/after figures")
	fl.IntVar(&f.req.Synthetic, "synthetic", 2000, "without labelled data: synthetic questions to make")
	fl.IntVar(&f.req.Augment, "augment", -1, "with labelled data: also train on this many synthetic questions drawn from the corpus (default: top up to 2000 training questions)")
	fl.IntVar(&f.req.Negatives, "negatives", 0, "hard negatives per question (closest wrong chunks); measured to hurt held-out nDCG on SQuAD, so off by default")
	fl.Uint64Var(&f.req.Seed, "seed", 1, "seed of the split and the training order")
	fl.IntVar(&f.req.Train.Epochs, "epochs", 20, "passes over the training pairs (the best on the validation pairs is kept)")
	fl.IntVar(&f.req.Train.BatchSize, "batch", 256, "questions per training step; the others' chunks are its negatives")
	fl.Float64Var(&f.req.Train.LearningRate, "lr", 3e-4, "Adam learning rate")
	fl.Float64Var(&f.req.Train.Temperature, "temperature", 0.05, "softmax temperature of the contrastive loss")
	fl.BoolVar(&f.enable, "enable", false, "switch the stored adapter on (no training)")
	fl.BoolVar(&f.disable, "disable", false, "switch the stored adapter off (no training)")
	fl.BoolVar(&f.status, "status", false, "show the stored adapter and its figures (no training)")
	return cmd
}

func (a *app) tuneEmbeddings(cmd *cobra.Command, f embeddingsFlags) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	open := a.openForEval // a BEIR directory or QA file needs no project
	if f.req.Data == "" {
		open = a.openProject
	}
	p, err := open(cmd, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	var run *project.AdapterRun
	if f.enable || f.disable || f.status {
		var enable *bool
		if f.enable || f.disable {
			enable = &f.enable
		}
		run, err = p.ToggleAdapter(cmd.Context(), f.req, enable)
	} else {
		progress, done := a.progress()
		f.req.Progress = progress
		run, err = p.TuneAdapter(cmd.Context(), f.req)
		done()
	}
	switch {
	case errors.Is(err, project.ErrNotDataset), errors.Is(err, embed.ErrNoEmbedder):
		return usageError{err}
	case errors.Is(err, project.ErrNoAdapter):
		return fmt.Errorf("%w: train one with `ragtune tune embeddings`", err)
	case err != nil:
		return a.noStoreHint(err, cfg)
	}
	return a.printAdapter(run)
}

func (a *app) printAdapter(run *project.AdapterRun) error {
	ad := run.Adapter
	if a.jsonOut {
		return a.printJSON(map[string]any{"store": run.StoreDir, "embedder": ad.Embedder, "dim": ad.Dim, "enabled": ad.Enabled,
			"fingerprint": ad.Fingerprint(), "trained_at": ad.TrainedAt, "report": ad.Report, "seconds": run.Took.Seconds()})
	}
	run.WriteText(a.stdout)
	return nil
}
