//go:build !unix

package sqlite

import "os"

// canMap: without memory mapping, quantised search re-ranks from SQLite
// and writes no sidecar.
const canMap = false

func mapFile(*os.File, int) ([]byte, error) { return nil, errNoMap }

func unmap([]byte) error { return errNoMap }
