package vector

import "golang.org/x/sys/cpu"

// dotInt8AVX2 is the inner product of n codes (n a multiple of 32) with
// AVX2: 16 codes widened to int16 and multiplied pairwise into int32
// sums per instruction.
//
//go:noescape
func dotInt8AVX2(a, b *int8, n int) int32

var hasAVX2 = cpu.X86.HasAVX2

// dotInt8 is the inner product of two code vectors of one length.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	n := len(a) &^ 31
	if !hasAVX2 || n == 0 {
		return dotInt8Go(a, b)
	}
	return dotInt8AVX2(&a[0], &b[0], n) + dotInt8Go(a[n:], b[n:])
}
