package simulator

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
)

// IDs are deterministic: the nth ID a simulator hands out is the same on every run, so golden
// files written against the simulator stay stable.

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// derivedUUID returns a version-4-shaped UUID derived from seed.
func derivedUUID(seed string) string {
	h := sha256.Sum256([]byte("circleci-sim/" + seed))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// revision returns a stable fake commit SHA for a project's ref.
func revision(slug, ref string) string {
	h := sha1.Sum([]byte(slug + "@" + ref))
	return hex.EncodeToString(h[:])
}
