package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baton-ci/baton/helper/internal/report"
)

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Table(&buf, downstreams(t)))
	golden(t, "table.golden.txt", buf.Bytes())
}

func TestTableColumnsAlign(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Table(&buf, downstreams(t)))
	lines := strings.Split(buf.String(), "\n")
	header := lines[0]
	col := strings.Index(header, "LINK")
	for _, l := range lines[1 : len(downstreams(t))+1] {
		assert.Regexp(t, `^(https?://|-$)`, l[col:], "the link column starts at the same place: %q", l)
		assert.Equal(t, strings.TrimRight(l, " "), l, "no trailing spaces")
	}
}

func TestTableOfNothingIsTheHeader(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Table(&buf, nil))
	assert.Equal(t, "PROJECT  PIPELINE  STATUS  DURATION  LINK\n", buf.String())
}

func TestALabelNamesThePipelineInText(t *testing.T) {
	d := downstreams(t)[1]
	d.Label = "deploy (prod) #7"
	var buf bytes.Buffer
	require.NoError(t, report.Table(&buf, []report.Downstream{d}))
	assert.Contains(t, buf.String(), "\ndeploy (prod) #7: workflow deploy failed (job rollout failed)\n")
	assert.Contains(t, buf.String(), "gh/acme/deploy  #7", "the columns keep project and number")
}
