package flows

import (
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// pow10u are the powers of ten that fit in a uint64.
var pow10u = [20]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// pow10f are the powers of ten that are exact in a float64.
var pow10f = [23]float64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// maxTSDigits bounds the decimal resolution: pcapng's if_tsresol allows
// 10^-127, but a 64-bit count of such units never reaches the next second.
const maxTSDigits = 127

// decimalTS converts the time sec + frac/10^digits (frac a count of
// 10^-digits units, which may exceed one second) to the nearest float64 (the
// value Python's float("sec.frac") gives) and to whole seconds plus
// nanoseconds. It does not allocate.
func decimalTS(sec int64, frac uint64, digits int) (ts float64, s, ns int64) {
	if digits < 0 {
		digits = 0
	}
	if digits > maxTSDigits {
		digits = maxTSDigits
	}
	if digits < len(pow10u) {
		if unit := pow10u[digits]; frac >= unit { // rare: skip the division
			sec += int64(frac / unit)
			frac %= unit
		}
	}
	// Nanoseconds within the second (truncated).
	switch {
	case digits <= 9:
		ns = int64(frac * pow10u[9-digits])
	case digits-9 < len(pow10u):
		ns = int64(frac / pow10u[digits-9])
	}
	s = sec
	// Fast path: both sec*10^d+frac and 10^d exact in a float64, so one
	// IEEE division rounds the quotient correctly.
	if sec >= 0 && digits < len(pow10u) {
		hi, lo := bits.Mul64(uint64(sec), pow10u[digits])
		n, carry := bits.Add64(lo, frac, 0)
		if hi == 0 && carry == 0 && n < 1<<53 {
			return float64(n) / pow10f[digits], s, ns
		}
	}
	return parseDecimal(sec, frac, digits), s, ns
}

// parseDecimal formats sec + frac/10^digits into a stack buffer and lets
// strconv round it.
func parseDecimal(sec int64, frac uint64, digits int) float64 {
	var buf [24 + 1 + maxTSDigits]byte
	n := 0
	neg := sec < 0
	mag := uint64(sec)
	if neg {
		// -|sec| + frac/10^d = -((|sec|-1) + (10^d-frac)/10^d)
		mag = uint64(-(sec + 1))
		if frac == 0 {
			mag++
		} else if digits < len(pow10u) {
			frac = pow10u[digits] - frac
		} else {
			// Resolution too fine to matter next to a negative second count.
			return float64(sec) + float64(frac)*math.Pow(10, -float64(digits))
		}
		buf[n] = '-'
		n++
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + mag%10)
		mag /= 10
		if mag == 0 {
			break
		}
	}
	n += copy(buf[n:], tmp[i:])
	if digits > 0 {
		buf[n] = '.'
		n++
		end := n + digits
		for j := end - 1; j >= n; j-- {
			buf[j] = byte('0' + frac%10)
			frac /= 10
		}
		n = end
	}
	f, err := strconv.ParseFloat(unsafe.String(&buf[0], n), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// binaryTS converts offset + units/2^exp seconds to the nearest float64 (one
// rounding of the exact value) and to whole seconds plus nanoseconds.
func binaryTS(offset int64, units uint64, exp int) (ts float64, s, ns int64) {
	if exp < 0 {
		exp = 0
	}
	if exp > 127 {
		exp = 127
	}
	var whole, frac uint64
	if exp < 64 {
		whole = units >> exp
		frac = units & (1<<exp - 1)
	} else {
		frac = units
	}
	s = offset + int64(whole)
	if exp > 0 {
		hi, lo := bits.Mul64(frac, 1e9)
		if exp < 64 {
			ns = int64(hi<<(64-exp) | lo>>exp)
		} else {
			ns = int64(hi >> (exp - 64))
		}
	}
	switch {
	case offset == 0:
		ts = math.Ldexp(float64(units), -exp)
	case offset > 0 && exp < 64:
		// (offset << exp) + units as a 128-bit integer, rounded once.
		hi := uint64(offset) >> (64 - exp)
		if exp == 0 {
			hi = 0
		}
		lo := uint64(offset) << exp
		var carry uint64
		lo, carry = bits.Add64(lo, units, 0)
		hi += carry
		ts = math.Ldexp(u128ToFloat(hi, lo), -exp)
	case offset > 0:
		// units/2^exp < 1: as a fraction of 2^-64 with a sticky bit, then
		// (offset << 64) + fraction rounded once.
		sh := uint(exp - 64)
		x := units >> sh
		if units&(1<<sh-1) != 0 {
			x |= 1
		}
		ts = math.Ldexp(u128ToFloat(uint64(offset), x), -64)
	default:
		ts = float64(offset) + math.Ldexp(float64(units), -exp)
	}
	return ts, s, ns
}

// u128ToFloat returns the float64 nearest to hi*2^64 + lo.
func u128ToFloat(hi, lo uint64) float64 {
	if hi == 0 {
		return float64(lo)
	}
	sh := 64 - bits.LeadingZeros64(hi)
	x := hi<<(64-sh) | lo>>sh
	if lo&(1<<sh-1) != 0 {
		x |= 1 // sticky bit: far below the rounding position of a float64
	}
	return math.Ldexp(float64(x), sh)
}
