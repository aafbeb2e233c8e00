package simulator

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRateLimit reads a rate limit written N/WINDOW, e.g. "300/1m" (300 API calls per sliding
// minute), as circleci-sim's --rate-limit takes it; N/WINDOW,quiet announces it only in the 429
// answers (RateLimit.OnlyWhenThrottled). Errors do not name a flag.
func ParseRateLimit(s string) (*RateLimit, error) {
	spec, quiet := strings.CutSuffix(s, ",quiet")
	n, w, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, fmt.Errorf("%q: write REQUESTS/WINDOW, e.g. 300/1m (or 300/1m,quiet)", s)
	}
	requests, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || requests < 1 {
		return nil, fmt.Errorf("%q: %q is not a number of requests of at least 1", s, n)
	}
	window, err := parseDuration(strings.TrimSpace(w), false)
	if err != nil || window <= 0 {
		return nil, fmt.Errorf("%q: %q is not a positive duration such as 1m", s, w)
	}
	return &RateLimit{Requests: requests, Window: Duration(window), OnlyWhenThrottled: quiet}, nil
}
