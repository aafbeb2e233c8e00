package dispatch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/baton-ci/baton/helper/internal/circleci"
	"github.com/baton-ci/baton/helper/internal/request"
	"github.com/baton-ci/baton/helper/internal/slug"
)

var sendTime = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

// wantMain is a trigger on main by baton-bot with image=svc-b:77, sent at sendTime.
func wantMain() want {
	return want{
		login: "baton-bot", ref: request.Ref{Branch: "main"},
		since: sendTime.Add(-ClockSlack), clockKnown: true,
		params:  map[string]json.RawMessage{"image": json.RawMessage(`"svc-b:77"`)},
		claimed: func(id string) bool { return id == "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0" },
	}
}

const ours = `{"id": "5034460f-c7c4-4c43-9457-de07e2029e7b", "number": 2, "state": "created",
	"created_at": "2025-06-07T08:09:10.400Z",
	"trigger": {"type": "api", "received_at": "2025-06-07T08:09:10.300Z", "actor": {"login": "baton-bot"}},
	"vcs": {"branch": "main"}}`

func pipeline(t *testing.T, js string, edit func(p *circleci.Pipeline)) circleci.Pipeline {
	t.Helper()
	var p circleci.Pipeline
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&p)
	}
	return p
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *circleci.Pipeline)
		want verdict
		why  string
	}{
		{"everything matches", nil, proven, ""},
		{"the actor's login in another case", func(p *circleci.Pipeline) { p.Trigger.Actor.Login = "Baton-Bot" }, proven, ""},
		{"refs/heads/main is main", func(p *circleci.Pipeline) { p.VCS.Branch = "refs/heads/main" }, proven, ""},
		{"created within the slack before the send", func(p *circleci.Pipeline) { p.Trigger.ReceivedAt = sendTime.Add(-ClockSlack) }, proven, ""},
		{"the parameter shown with the value sent", func(p *circleci.Pipeline) { p.TriggerParameters = map[string]any{"image": "svc-b:77"} }, proven, ""},
		{"CircleCI's own namespaces are not parameters", func(p *circleci.Pipeline) {
			p.TriggerParameters = map[string]any{"git": map[string]any{"branch": "main"}, "circleci": map[string]any{"image": "x"}}
		}, proven, ""},
		{"another actor", func(p *circleci.Pipeline) { p.Trigger.Actor.Login = "someone" }, notOurs, ""},
		{"created before the send", func(p *circleci.Pipeline) { p.Trigger.ReceivedAt = sendTime.Add(-3 * time.Second) }, notOurs, ""},
		{"another branch", func(p *circleci.Pipeline) { p.VCS.Branch = "feature" }, notOurs, ""},
		{"a tag", func(p *circleci.Pipeline) { p.VCS.Branch, p.VCS.Tag = "", "v1" }, notOurs, ""},
		{"another parameter value shown", func(p *circleci.Pipeline) { p.TriggerParameters = map[string]any{"image": "svc-a:41"} }, notOurs, ""},
		{"another value under parameters", func(p *circleci.Pipeline) {
			p.TriggerParameters = map[string]any{"parameters": map[string]any{"image": "svc-a:41"}}
		}, notOurs, ""},
		{"claimed by another target", func(p *circleci.Pipeline) { p.ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0" }, notOurs, ""},
		{"no vcs", func(p *circleci.Pipeline) { p.VCS = nil }, possible, "it reports no branch or tag"},
		{"no actor", func(p *circleci.Pipeline) { p.Trigger.Actor.Login = "" }, possible, "it names no actor"},
		{"no time", func(p *circleci.Pipeline) { p.Trigger.ReceivedAt, p.CreatedAt = time.Time{}, time.Time{} }, possible, "it shows no creation time"},
		{"another trigger type", func(p *circleci.Pipeline) { p.Trigger.Type = "explicit" }, possible, `its trigger type is "explicit", not "api"`},
		{"an id that is none", func(p *circleci.Pipeline) { p.ID = ".." }, possible, "its id is not a pipeline id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, why := judge(pipeline(t, ours, tc.edit), wantMain())
			assert.Equal(t, tc.want, v)
			assert.Equal(t, tc.why, why)
		})
	}
	t.Run("an unknown server clock proves nothing", func(t *testing.T) {
		w := wantMain()
		w.clockKnown = false
		v, why := judge(pipeline(t, ours, nil), w)
		assert.Equal(t, possible, v)
		assert.Contains(t, why, "the server's clock is unknown")
	})
}

// FuzzJudge feeds pipeline-list answers as the API might send them, hostile included, through
// the decoder and judge: it must never panic, and never prove a pipeline that shows another
// actor, another ref, a time before the send, or another value of a parameter sent.
func FuzzJudge(f *testing.F) {
	f.Add(`{"items": [` + ours + `], "next_page_token": null}`)
	f.Add(`{"items": [{"id": null, "trigger": {"actor": null}, "vcs": {"branch": "refs/heads/main", "tag": "refs/tags/x"}, "trigger_parameters": {"image": 3, "parameters": "x"}}]}`)
	f.Add(`{"items": [{"trigger_parameters": {"parameters": {"image": ["svc-b:77"]}}, "vcs": null}]}`)
	f.Fuzz(func(t *testing.T, answer string) {
		var page circleci.PipelinePage
		if json.Unmarshal([]byte(answer), &page) != nil {
			return
		}
		w := wantMain()
		for _, p := range page.Items {
			v, why := judge(p, w)
			if v != possible && why != "" || v == possible && why == "" {
				t.Fatalf("verdict %d with reason %q", v, why)
			}
			if v != proven {
				continue
			}
			received := p.Trigger.ReceivedAt
			if received.IsZero() {
				received = p.CreatedAt
			}
			switch {
			case !strings.EqualFold(p.Trigger.Actor.Login, w.login),
				received.Before(w.since),
				p.VCS == nil || strings.TrimPrefix(p.VCS.Branch, "refs/heads/") != "main" || p.VCS.Tag != "",
				p.Trigger.Type != "api",
				!slug.IsUUID(p.ID):
				t.Fatalf("proved %+v", p)
			}
			if v, ok := p.TriggerParameters["image"]; ok {
				if _, isObject := v.(map[string]any); !isObject && v != "svc-b:77" {
					t.Fatalf("proved a pipeline with image=%v", v)
				}
			}
		}
	})
}
