//go:build unix

package sqlite

import (
	"os"

	"golang.org/x/sys/unix"
)

// canMap: sidecar vectors are memory-mapped here.
const canMap = true

// mapFile maps the first size bytes of f read-only.
func mapFile(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
}

func unmap(data []byte) error { return unix.Munmap(data) }
