package circleci

import "context"

// Me returns the user the token belongs to: GET /api/v2/me. It is the cheapest way to check a
// token.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if err := c.get(ctx, c.endpoint("me"), &u); err != nil {
		return nil, err
	}
	return &u, nil
}
