package circleci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Artifact is an item of GET /project/{project-slug}/{job-number}/artifacts.
type Artifact struct {
	Path      string `json:"path"` // relative to the job's artifacts, as the server says: never trusted as a file path
	NodeIndex int64  `json:"node_index"`
	URL       string `json:"url"`
}

// ListJobArtifacts lists the job's artifacts, following page tokens:
// GET /api/v2/project/{project-slug}/{job-number}/artifacts.
func (c *Client) ListJobArtifacts(ctx context.Context, slug string, jobNumber int64) ([]Artifact, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	if jobNumber <= 0 {
		return nil, fmt.Errorf("job number %d: must be positive", jobNumber)
	}
	return listAll[Artifact](ctx, c, c.endpoint("project", slug, strconv.FormatInt(jobNumber, 10), "artifacts"))
}

// maxRedirects bounds the redirects a download follows.
const maxRedirects = 5

// artifactHostSuffix names CircleCI's artifact hosts, which take the token like the API host.
const artifactHostSuffix = ".circle-artifacts.com"

// tokenHost reports whether the token may go to u: the API host itself, or one of CircleCI's
// artifact hosts over https.
func (c *Client) tokenHost(u *url.URL) bool {
	if strings.EqualFold(u.Host, c.base.Host) && u.Scheme == c.base.Scheme {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && strings.HasSuffix(h, artifactHostSuffix) && len(h) > len(artifactHostSuffix)
}

// downloadClient follows redirects (artifact hosts redirect to storage), but carries the token
// only to hosts tokenHost allows: Go copies custom headers such as Circle-Token to every host a
// redirect names, so it is removed here, before the request is sent.
func (c *Client) downloadClient() *http.Client {
	hc := *c.hc
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if _, err := foreignURL(req.URL.String()); err != nil {
			return fmt.Errorf("redirected to an unusable URL: %w", err)
		}
		if !c.tokenHost(req.URL) {
			req.Header.Del("Circle-Token")
		}
		return nil
	}
	return &hc
}

// ErrDownloadTooLarge is wrapped by Download's error when the body is larger than its limit.
var ErrDownloadTooLarge = errors.New("larger than the limit")

// Download writes the body at rawURL (an artifact's url) to w, at most limit bytes; a larger
// body is an error wrapping ErrDownloadTooLarge after limit bytes were written. The token is
// sent only to the API host and CircleCI's artifact hosts, never along a redirect elsewhere.
// Each download waits its turn in the request budget; it is not retried (w has been written).
func (c *Client) Download(ctx context.Context, rawURL string, w io.Writer, limit int64) (int64, error) {
	u, err := foreignURL(rawURL)
	if err != nil {
		return 0, fmt.Errorf("artifact URL: %w", err)
	}
	req, err := c.newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "*/*")
	if !c.tokenHost(u) {
		req.Header.Del("Circle-Token")
	}
	if err := c.budget.wait(ctx, time.Time{}); err != nil {
		return 0, err
	}
	resp, err := c.downloadClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL, presigned query and all
		}
		return 0, fmt.Errorf("GET %s: %s", u.EscapedPath(), redactString(err.Error(), c.token))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, fmt.Errorf("GET %s: %s", u.EscapedPath(), statusText(resp.StatusCode))
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit))
	if err != nil {
		return n, fmt.Errorf("GET %s: %w", u.EscapedPath(), err)
	}
	if more, _ := resp.Body.Read(make([]byte, 1)); more > 0 {
		return n, fmt.Errorf("GET %s: %w of %d bytes", u.EscapedPath(), ErrDownloadTooLarge, limit)
	}
	return n, nil
}
