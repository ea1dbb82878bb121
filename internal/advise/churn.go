package advise

import (
	"fmt"
	"time"
)

// Ingest is one finished ingest, as the store's history records it.
type Ingest struct {
	Root      string // what was ingested; each root's first ingest is its initial load
	At        time.Time
	Changed   int // documents added, updated or deleted
	Documents int // in the store afterwards
}

// Churn is how often the documents changed, measured from the ingest
// history.
type Churn struct {
	Ingests         int     `json:"ingests"`
	Days            float64 `json:"days"`
	ChangingIngests int     `json:"changing_ingests"` // after the first load
	ChangedDocs     int     `json:"changed_documents"`
	Documents       int     `json:"documents"`
	// ChangesPerMonth counts ingests that changed something, per 30 days:
	// how often a model holding the knowledge would need retraining.
	ChangesPerMonth float64 `json:"changes_per_month"`
	// ChangedShare is the share of the documents changed per 30 days.
	ChangedShare float64 `json:"changed_share_per_month"`
}

// minChurnDays is the shortest history worth reading a rate from.
const minChurnDays = 7

// MeasureChurn reads a history (oldest first). The first ingest of each
// root loads it and is not a change. It returns nil when the history is too
// short to give a rate: fewer than two ingests, or under a week.
func MeasureChurn(runs []Ingest) *Churn {
	if len(runs) < 2 {
		return nil
	}
	days := runs[len(runs)-1].At.Sub(runs[0].At).Hours() / 24
	if days < minChurnDays {
		return nil
	}
	c := &Churn{Ingests: len(runs), Days: days, Documents: runs[len(runs)-1].Documents}
	loaded := map[string]bool{}
	for _, r := range runs {
		if !loaded[r.Root] {
			loaded[r.Root] = true
			continue
		}
		if r.Changed > 0 {
			c.ChangingIngests++
			c.ChangedDocs += r.Changed
		}
	}
	months := days / 30
	c.ChangesPerMonth = float64(c.ChangingIngests) / months
	if c.Documents > 0 {
		c.ChangedShare = float64(c.ChangedDocs) / float64(c.Documents) / months
	}
	return c
}

// Frequent is the measured answer to "does your information change
// often?": at least once a month, i.e. more often than a fine-tuned
// model would sensibly be retrained.
func (c *Churn) Frequent() bool { return c.ChangesPerMonth >= 1 }

// RetrainsPerYear is how often knowledge held in weights would have to
// be retrained to keep up: once per change, at most monthly.
func (c *Churn) RetrainsPerYear() float64 { return min(12, 12*c.ChangesPerMonth) }

// Reason says what the history shows, in the words of the advice.
func (c *Churn) Reason() string {
	return fmt.Sprintf("ingest history: %d of %d ingests over %.0f days changed documents (%d changes, about %.1f changing ingests and %.0f %% of the documents a month)",
		c.ChangingIngests, c.Ingests, c.Days, c.ChangedDocs, c.ChangesPerMonth, 100*c.ChangedShare)
}
