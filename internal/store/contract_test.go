package store_test

import (
	"testing"

	"github.com/ragtune/ragtune/internal/store"
	"github.com/ragtune/ragtune/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		st, err := store.Create(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
