package circleci

import "context"

// Project is GET /project/{project-slug}, reduced to what baton reads from it.
type Project struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	ID      string `json:"id"`
	VCSInfo struct {
		VCSURL        string `json:"vcs_url"`
		Provider      string `json:"provider"`
		DefaultBranch string `json:"default_branch"`
	} `json:"vcs_info"`
}

// GetProject returns the project: GET /api/v2/project/{project-slug}. Its
// VCSInfo.DefaultBranch is the branch a trigger that names no ref runs on.
func (c *Client) GetProject(ctx context.Context, slug string) (*Project, error) {
	if err := checkSegment("project slug", slug); err != nil {
		return nil, err
	}
	var p Project
	if err := c.get(ctx, c.endpoint("project", slug), &p); err != nil {
		return nil, err
	}
	return &p, nil
}
