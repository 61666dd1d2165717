package coalition

import (
	"crypto/rand"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallCodesAreUniform draws codes from crypto/rand and from a seeded
// source: each is 10 characters of the alphabet, no two of 20,000 are the
// same, and every character is about equally common (a skew would cut the
// 49.5 bits a guesser faces).
func TestCallCodesAreUniform(t *testing.T) {
	assert.InDelta(t, 49.5, float64(codeLen)*math.Log2(float64(len(codeAlphabet))), 0.1, "the bits the comment promises")
	for name, r := range map[string]*rules{
		"crypto/rand": {rand: rand.Reader},
		"seeded":      {rand: &lockedReader{r: mrand.NewChaCha8([32]byte{7})}},
	} {
		t.Run(name, func(t *testing.T) {
			const n = 20000
			seen := map[string]bool{}
			counts := map[rune]int{}
			for range n {
				code, err := r.newCallCode()
				require.NoError(t, err)
				require.Len(t, code, codeLen)
				require.False(t, seen[code], "a code drawn twice")
				seen[code] = true
				for _, c := range code {
					require.True(t, strings.ContainsRune(codeAlphabet, c), "%q", c)
					counts[c]++
				}
			}
			want := float64(n*codeLen) / float64(len(codeAlphabet))
			for _, c := range codeAlphabet {
				assert.InEpsilon(t, want, float64(counts[c]), 0.06, "character %q", c)
			}
		})
	}
}

func TestSameTextIgnoresOnlyWhatPlatformsChange(t *testing.T) {
	assert.True(t, sameText("a  b\n\nc", "a b c"))
	assert.True(t, sameText("\u2068نص\u2069", "نص"))
	assert.True(t, sameText("e\u0301", "é"), "composed or not")
	assert.False(t, sameText("6:00", "8:00"))
	assert.False(t, sameText("نص", "نص."))
}
