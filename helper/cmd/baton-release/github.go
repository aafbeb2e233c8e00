package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/baton-ci/baton/helper/internal/safetext"
)

// github is the part of GitHub's REST API a release needs (docs.github.com/rest/releases).
type github struct {
	api, uploads string // base URLs: https://api.github.com, https://uploads.github.com
	repo         string // OWNER/NAME
	token        string // sent in the Authorization header only, never printed
	client       *http.Client
	// sleep waits between attempts; tests make it instant.
	sleep func(ctx context.Context, d time.Duration) error
}

// Per-request time limits: an API answer is small, an upload is a few MiB.
const (
	apiTimeout    = 30 * time.Second
	uploadTimeout = 5 * time.Minute
	attempts      = 3
	maxRetryAfter = time.Minute
)

// apiError is a non-2xx answer, quoting GitHub's message and error codes.
type apiError struct {
	Method, Route string
	Status        int
	Message       string
	Codes         []string // "tag_name already_exists", from the answer's errors list
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: %d", e.Method, e.Route, e.Status)
	if e.Message != "" {
		s += " " + e.Message
	}
	if len(e.Codes) > 0 {
		s += " (" + strings.Join(e.Codes, ", ") + ")"
	}
	return s
}

// ExitCode: GitHub failing or overloaded is 5, like an unreachable API; any other refusal is 3.
func (e *apiError) ExitCode() int {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return exitcode.Unreachable
	}
	return exitcode.Refused
}

func (e *apiError) has(code string) bool {
	for _, c := range e.Codes {
		if strings.HasSuffix(c, " "+code) || c == code {
			return true
		}
	}
	return false
}

// isStatus reports whether err is GitHub answering status.
func isStatus(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status
}

// retryable says whether a failed attempt may be sent again: reads, the draft's update and its
// deletion do the same thing when repeated. Creating a release or uploading a file may have
// happened although the answer was lost, so a POST is never sent twice.
// status is 0 when no answer arrived.
func retryable(method string, status int) bool {
	if method == http.MethodPost {
		return false
	}
	return status == 0 || status >= 500 || status == http.StatusTooManyRequests
}

// backoff is the pause before attempt n+1 (n from 1): 2 s, 4 s, or what Retry-After asks,
// up to a minute.
func backoff(n int, retryAfter string) time.Duration {
	if sec, err := strconv.Atoi(retryAfter); err == nil && sec >= 0 {
		return min(time.Duration(sec)*time.Second, maxRetryAfter)
	}
	return time.Duration(1<<n) * time.Second
}

// call sends method route (a path below base) with body, retrying when retryable allows, and
// decodes a 2xx JSON answer into out (when out is not nil).
func (g *github) call(ctx context.Context, base, method, route string, body []byte, contentType string, timeout time.Duration, out any) error {
	for n := 1; ; n++ {
		status, retryAfter, err := g.once(ctx, base, method, route, body, contentType, timeout, out)
		if err == nil {
			return nil
		}
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		if !retryable(method, status) {
			return err
		}
		if n == attempts {
			return exitcode.Wrap(exitcode.Of(err), fmt.Errorf("%w (giving up after %d attempts)", err, n))
		}
		if g.sleep(ctx, backoff(n, retryAfter)) != nil {
			return context.Cause(ctx)
		}
	}
}

// once sends one request. A transport failure is exit code 5: GitHub could not be reached.
func (g *github) once(ctx context.Context, base, method, route string, body []byte, contentType string, timeout time.Duration, out any) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+route, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "baton-release")
	req.Header.Set("Authorization", "Bearer "+g.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		// The URL is ours and holds no secret; *url.Error would repeat it with the method.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, "", exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("%s %s: %w", method, route, err))
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, "", exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("%s %s: reading the answer: %w", method, route, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, resp.Header.Get("Retry-After"), newAPIError(method, route, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, "", exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("%s %s: %d but the answer is not the JSON expected: %v", method, route, resp.StatusCode, err))
		}
	}
	return resp.StatusCode, "", nil
}

// newAPIError reads GitHub's error body: {"message": …, "errors": [{"field", "code"}]}. A body
// that is not that (a proxy's HTML page) is quoted, shortened, as the message.
func newAPIError(method, route string, status int, raw []byte) *apiError {
	e := &apiError{Method: method, Route: route, Status: status}
	var body struct {
		Message string `json:"message"`
		Errors  []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Message != "" {
		e.Message = safetext.Terminal(body.Message)
		for _, x := range body.Errors {
			e.Codes = append(e.Codes, safetext.Terminal(strings.TrimSpace(x.Field+" "+x.Code)))
		}
		return e
	}
	text := strings.TrimSpace(string(raw))
	if len(text) > 120 {
		text = text[:120] + "…"
	}
	if text == "" {
		text = http.StatusText(status)
	}
	e.Message = safetext.Terminal(text)
	return e
}

// ghRelease and ghAsset are the fields of GitHub's release and asset objects used here.
type ghRelease struct {
	ID      int64  `json:"id"`
	TagName string `json:"tag_name"`
	Draft   bool   `json:"draft"`
	HTMLURL string `json:"html_url"`
}

type ghAsset struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	State string `json:"state"`
}

// asset is a file to upload.
type asset struct {
	Name, ContentType string
	Data              []byte
}

// publication is a release to make: its tag, notes and files, all checked beforehand.
type publication struct {
	Tag, Notes string
	Assets     []asset
}

// maxReleasePages bounds the search for a draft of the tag (100 releases a page, newest first).
const maxReleasePages = 10

// releasesOf lists the releases, drafts included (the token can push), whose tag is tag.
// GET /releases/tags/{tag} finds only published ones, so the list is read too.
func (g *github) releasesOf(ctx context.Context, tag string) ([]ghRelease, error) {
	var found []ghRelease
	var published ghRelease
	err := g.call(ctx, g.api, http.MethodGet, "/repos/"+g.repo+"/releases/tags/"+tag, nil, "", apiTimeout, &published)
	switch {
	case err == nil:
		found = append(found, published)
	case !isStatus(err, http.StatusNotFound):
		return nil, err
	}
	for page := 1; page <= maxReleasePages; page++ {
		var list []ghRelease
		route := fmt.Sprintf("/repos/%s/releases?per_page=100&page=%d", g.repo, page)
		if err := g.call(ctx, g.api, http.MethodGet, route, nil, "", apiTimeout, &list); err != nil {
			return nil, err
		}
		for _, r := range list {
			if r.TagName == tag && r.ID != published.ID {
				found = append(found, r)
			}
		}
		if len(list) < 100 {
			break
		}
	}
	return found, nil
}

// publish makes p's GitHub release so that nobody ever sees it half made: it creates a draft,
// uploads every file, checks what GitHub holds, and only then publishes the draft. When a step
// fails it deletes the draft, or says exactly what is left and what to do.
func (g *github) publish(ctx context.Context, p publication, out io.Writer) error {
	var ref struct {
		Ref string `json:"ref"`
	}
	err := g.call(ctx, g.api, http.MethodGet, "/repos/"+g.repo+"/git/ref/tags/"+p.Tag, nil, "", apiTimeout, &ref)
	if isStatus(err, http.StatusNotFound) || (err == nil && ref.Ref != "refs/tags/"+p.Tag) {
		return exitcode.Wrap(exitcode.Refused, fmt.Errorf("tag %s is not in %s on GitHub: push it first (a release of a missing tag would create it at the default branch's head)", p.Tag, g.repo))
	}
	if err != nil {
		return fmt.Errorf("looking up tag %s: %w", p.Tag, err)
	}

	existing, err := g.releasesOf(ctx, p.Tag)
	if err != nil {
		return fmt.Errorf("looking for a release of %s: %w", p.Tag, err)
	}
	for _, r := range existing {
		if r.Draft {
			return exitcode.Wrap(exitcode.Refused, fmt.Errorf("a draft release of %s already exists (%s), left by an earlier attempt or made by hand: delete it, then run this again", p.Tag, r.HTMLURL))
		}
		return exitcode.Wrap(exitcode.Refused, fmt.Errorf("release %s already exists (%s): a published release is never changed; release a new version instead", p.Tag, r.HTMLURL))
	}

	body, err := json.Marshal(map[string]any{"tag_name": p.Tag, "name": p.Tag, "body": p.Notes, "draft": true, "prerelease": false})
	if err != nil {
		return err
	}
	var draft ghRelease
	err = g.call(ctx, g.api, http.MethodPost, "/repos/"+g.repo+"/releases", body, "application/json", apiTimeout, &draft)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity && ae.has("already_exists"):
		return exitcode.Wrap(exitcode.Refused, fmt.Errorf("release %s already exists: %w", p.Tag, err))
	case errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
		return fmt.Errorf("creating the draft release %s: %w; nothing was created", p.Tag, err)
	case err != nil:
		// The answer was lost or GitHub failed: a draft may exist anyway. Remove what is there.
		return g.removeUnknownDraft(ctx, p.Tag, fmt.Errorf("creating the draft release %s: %w", p.Tag, err))
	case draft.ID == 0:
		return g.removeUnknownDraft(ctx, p.Tag, exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("creating the draft release %s: GitHub answered without a release id", p.Tag)))
	}
	fmt.Fprintf(out, "created the draft release %s (id %d)\n", p.Tag, draft.ID)

	var done []string
	for _, a := range p.Assets {
		var got ghAsset
		route := fmt.Sprintf("/repos/%s/releases/%d/assets?name=%s", g.repo, draft.ID, url.QueryEscape(a.Name))
		err := g.call(ctx, g.uploads, http.MethodPost, route, a.Data, a.ContentType, uploadTimeout, &got)
		if err == nil && (got.Name != a.Name || got.Size != int64(len(a.Data)) || got.State != "uploaded") {
			err = exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("GitHub holds it as %q, %d bytes, state %q", safetext.Terminal(got.Name), got.Size, safetext.Terminal(got.State)))
		}
		if err != nil {
			return g.abort(ctx, p, draft, done, fmt.Errorf("uploading %s: %w", a.Name, err))
		}
		done = append(done, a.Name)
		fmt.Fprintf(out, "uploaded %s (%d bytes)\n", a.Name, len(a.Data))
	}

	var held []ghAsset
	err = g.call(ctx, g.api, http.MethodGet, fmt.Sprintf("/repos/%s/releases/%d/assets?per_page=100", g.repo, draft.ID), nil, "", apiTimeout, &held)
	if err == nil {
		err = sameAssets(p.Assets, held)
	}
	if err != nil {
		return g.abort(ctx, p, draft, done, fmt.Errorf("checking the draft's files: %w", err))
	}
	fmt.Fprintf(out, "the draft holds exactly the %d files, every one complete\n", len(p.Assets))

	var published ghRelease
	route := fmt.Sprintf("/repos/%s/releases/%d", g.repo, draft.ID)
	body, err = json.Marshal(map[string]any{"draft": false})
	if err != nil {
		return err
	}
	err = g.call(ctx, g.api, http.MethodPatch, route, body, "application/json", apiTimeout, &published)
	if err == nil && (published.Draft || published.TagName != p.Tag) {
		err = exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("GitHub answered with draft=%t, tag %q", published.Draft, safetext.Terminal(published.TagName)))
	}
	if err != nil {
		// The update may have happened although its answer was lost: ask once more.
		var now ghRelease
		check := g.call(context.WithoutCancel(ctx), g.api, http.MethodGet, route, nil, "", apiTimeout, &now)
		if check == nil && !now.Draft && now.TagName == p.Tag {
			fmt.Fprintf(out, "published %s: %s (the answer to publishing was lost: %v)\n", p.Tag, now.HTMLURL, err)
			return nil
		}
		return fmt.Errorf("publishing the draft release %s: %w; it remains a draft holding all %d files, checked (%s): delete it and run this again (publishing it by hand leaves the orb to publish by hand too: RELEASING.md)", p.Tag, err, len(p.Assets), draft.HTMLURL)
	}
	fmt.Fprintf(out, "published %s: %s\n", p.Tag, published.HTMLURL)
	return nil
}

// sameAssets checks that GitHub holds exactly want, each complete and of the right size.
func sameAssets(want []asset, held []ghAsset) error {
	byName := map[string]ghAsset{}
	for _, h := range held {
		byName[h.Name] = h
	}
	for _, a := range want {
		h, ok := byName[a.Name]
		switch {
		case !ok:
			return exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("%s is missing", a.Name))
		case h.Size != int64(len(a.Data)) || h.State != "uploaded":
			return exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("%s is %d bytes, state %q; want %d bytes, uploaded", a.Name, h.Size, safetext.Terminal(h.State), len(a.Data)))
		}
		delete(byName, a.Name)
	}
	if len(byName) > 0 {
		extra := slices.Sorted(maps.Keys(byName))[0]
		return exitcode.Wrap(exitcode.Unreachable, fmt.Errorf("it also holds %q, which was not uploaded from dist", safetext.Terminal(extra)))
	}
	return nil
}

// cleanupTimeout bounds deleting a draft after a failure, an interruption included.
const cleanupTimeout = time.Minute

// abort deletes the draft after cause and says what state is left. The exit code stays cause's.
func (g *github) abort(ctx context.Context, p publication, draft ghRelease, uploaded []string, cause error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := g.call(dctx, g.api, http.MethodDelete, fmt.Sprintf("/repos/%s/releases/%d", g.repo, draft.ID), nil, "", apiTimeout, nil)
	if err == nil || isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w; the draft release was deleted, nothing was published: run this again", cause)
	}
	return fmt.Errorf("%w; deleting the draft release failed too (%v): it remains unpublished with %d of %d files (%s): delete it, then run this again",
		cause, err, len(uploaded), len(p.Assets), draft.HTMLURL)
}

// removeUnknownDraft follows a create request whose outcome is unknown: any draft of tag now
// there is this run's (there was none before it), so it is deleted.
func (g *github) removeUnknownDraft(ctx context.Context, tag string, cause error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	found, err := g.releasesOf(dctx, tag)
	if err != nil {
		return fmt.Errorf("%w; a draft release of %s may have been created, and looking for it failed (%v): look at https://github.com/%s/releases, delete any draft of %s, then run this again", cause, tag, err, g.repo, tag)
	}
	if len(found) == 0 {
		return fmt.Errorf("%w; no draft was created, nothing was published: run this again", cause)
	}
	r := found[0]
	if !r.Draft {
		return fmt.Errorf("%w; a published release of %s now exists (%s), made by someone else meanwhile", cause, tag, r.HTMLURL)
	}
	err = g.call(dctx, g.api, http.MethodDelete, fmt.Sprintf("/repos/%s/releases/%d", g.repo, r.ID), nil, "", apiTimeout, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w; GitHub created a draft release of %s anyway and deleting it failed (%v): delete it (%s), then run this again", cause, tag, err, r.HTMLURL)
	}
	return fmt.Errorf("%w; GitHub created a draft anyway and it was deleted, nothing was published: run this again", cause)
}
