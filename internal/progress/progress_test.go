package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestStages(t *testing.T) {
	var off bytes.Buffer
	s := New(&off, false)
	if s.Stage("indexing") != nil || off.Len() != 0 {
		t.Fatal("bars drawn while off")
	}
	var on bytes.Buffer
	s = New(&on, true)
	update := s.Stage("indexing docs")
	update(1, 4)
	update(4, 4)
	s.Stage("querying")(2, 2)
	s.Done()
	if !strings.Contains(on.String(), "indexing docs") || !strings.Contains(on.String(), "querying") {
		t.Errorf("bars: %q", on.String())
	}
}
