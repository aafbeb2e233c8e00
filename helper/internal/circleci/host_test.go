package circleci

import (
	"net"
	"testing"

	"github.com/baton-ci/baton/helper/internal/exitcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the URL returned; "" when an error is expected
		err      string // a part of the error text
	}{
		{name: "CircleCI cloud is accepted", in: "https://circleci.com", want: "https://circleci.com"},
		{name: "a trailing slash is dropped", in: "https://circleci.com/", want: "https://circleci.com"},
		{name: "a server install with a port is accepted", in: "https://CircleCI.Example.com:8443", want: "https://circleci.example.com:8443"},
		{name: "an upper-case scheme is accepted", in: "HTTPS://circleci.com", want: "https://circleci.com"},
		{name: "plain http to 127.0.0.1 is accepted", in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{name: "plain http to anywhere in 127/8 is accepted", in: "http://127.9.8.7:1", want: "http://127.9.8.7:1"},
		{name: "plain http to ::1 is accepted", in: "http://[::1]:8080/", want: "http://[::1]:8080"},
		{name: "plain http to localhost is accepted", in: "http://LocalHost:3000", want: "http://localhost:3000"},
		{name: "https to a loopback address is accepted", in: "https://127.0.0.1:8443", want: "https://127.0.0.1:8443"},

		{name: "an empty value is refused", in: "", err: "empty; want a URL such as https://circleci.com"},
		{name: "surrounding spaces are refused", in: " https://circleci.com", err: "leading or trailing spaces"},
		{name: "a bare host name is refused with the fix", in: "circleci.com", err: "has no scheme; write https://circleci.com"},
		{name: "host:port without a scheme is refused with the fix", in: "localhost:8080", err: "has no scheme; write https://localhost:8080"},
		{name: "plain http to a remote host is refused", in: "http://circleci.com", err: "http:// is allowed only for a loopback address (127.0.0.0/8, ::1, localhost); use https://circleci.com"},
		{name: "plain http to a private address is refused", in: "http://10.0.0.5:8080", err: "only for a loopback address"},
		{name: "plain http to a name that merely starts with localhost is refused", in: "http://localhost.evil.example", err: "only for a loopback address"},
		{name: "another scheme is refused", in: "ftp://circleci.com", err: `scheme "ftp" is not supported; use https://`},
		{name: "user information is refused without echoing it", in: "https://me:hunter2@circleci.com", err: "must not contain a user name or password"},
		{name: "the API prefix is refused as the client adds it", in: "https://circleci.com/api/v2", err: "must not include /api/v2; the client adds it"},
		{name: "another path is refused", in: "https://circleci.example.com/ci", err: `must not have a path ("/ci")`},
		{name: "a query is refused", in: "https://circleci.com?x=1", err: "must not have a query"},
		{name: "an empty query is refused", in: "https://circleci.com/?", err: "must not have a query"},
		{name: "a fragment is refused", in: "https://circleci.com#top", err: "must not have a fragment"},
		{name: "a URL without a host is refused", in: "https://", err: "has no host name"},
		{name: "a port without a host is refused", in: "https://:443", err: "has no host name"},
		{name: "a malformed port is refused", in: "https://circleci.com:port", err: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseHost(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), "--host", "the CLI names the flag")
				assert.NotContains(t, err.Error(), "hunter2")
				assert.Equal(t, exitcode.Usage, exitcode.Of(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.String())
		})
	}
}

func TestNew(t *testing.T) {
	t.Run("an empty host means CircleCI cloud", func(t *testing.T) {
		c, err := New(Config{Token: testToken})
		require.NoError(t, err)
		assert.Equal(t, "https://circleci.com", c.base.String())
	})
	t.Run("a bad host gives ParseHost's error unchanged", func(t *testing.T) {
		_, err := New(Config{Host: "http://circleci.com"})
		_, want := ParseHost("http://circleci.com")
		assert.EqualError(t, err, want.Error())
	})
	t.Run("spaces around the token are dropped", func(t *testing.T) {
		c, err := New(Config{Token: " " + testToken + "\n"})
		require.NoError(t, err)
		assert.Equal(t, testToken, c.token)
	})
	t.Run("a token with a line break inside is refused without echoing it", func(t *testing.T) {
		_, err := New(Config{Token: "CCIPAT_abc\ndef"})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "CCIPAT_abc")
		assert.Equal(t, exitcode.Usage, exitcode.Of(err))
	})
	t.Run("zero fields get the defaults", func(t *testing.T) {
		c, err := New(Config{})
		require.NoError(t, err)
		assert.Equal(t, DefaultRequestTimeout, c.timeout)
		assert.Equal(t, DefaultUserAgent, c.ua)
		assert.Equal(t, DefaultMaxAttempts, c.retry.MaxAttempts)
		assert.Equal(t, DefaultBaseDelay, c.retry.BaseDelay)
		assert.Equal(t, DefaultMaxDelay, c.retry.MaxDelay)
		assert.NotNil(t, c.retry.Jitter)
		assert.NotNil(t, c.sleep)
		assert.Nil(t, c.trace)
	})
	t.Run("one attempt means no retries", func(t *testing.T) {
		c, err := New(Config{Retry: RetryPolicy{MaxAttempts: 1}})
		require.NoError(t, err)
		assert.Equal(t, 1, c.retry.MaxAttempts)
	})
}

// FuzzParseHost checks that whatever ParseHost accepts is a bare https URL, or http to loopback.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"https://circleci.com", "http://127.0.0.1:8080", "http://[::1]", "localhost:1",
		"https://u:p@h", "https://h/api/v2", "http://10.1.1.1", "https://h?#", "https://%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseHost(s)
		if err != nil {
			return
		}
		require.Contains(t, []string{"http", "https"}, u.Scheme)
		require.Nil(t, u.User)
		require.Empty(t, u.Path)
		require.Empty(t, u.RawQuery)
		require.Empty(t, u.Fragment)
		require.NotEmpty(t, u.Hostname())
		if u.Scheme == "http" {
			ip := net.ParseIP(u.Hostname())
			require.True(t, u.Hostname() == "localhost" || ip != nil && ip.IsLoopback(), u.Hostname())
		}
		again, err := ParseHost(u.String())
		require.NoError(t, err)
		require.Equal(t, u.String(), again.String())
	})
}
