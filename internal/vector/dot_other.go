//go:build !amd64

package vector

// dotInt8 is the inner product of two code vectors of one length.
func dotInt8(a, b []int8) int32 { return dotInt8Go(a, b) }
