package digests

import (
	"strings"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

func TestRenderRemovesHiddenControls(t *testing.T) {
	// An event stored before the pipeline removed these controls.
	item := pipeline.Item{
		ID: "ctl", Partner: "cci", Title: "Export \u202efair\u2066 opens\x7f",
		URL: "https://cci.example.org/ctl?q=\u202e", Summary: "Dates \u2067soon\u0080",
		Categories: []string{"trade\u202d"}, Language: "en", Published: fixedNow,
	}
	withContent := item
	withContent.ID = "ctl-content"
	withContent.Content = "<p>Dates \u202esoon\u009b</p>"
	for _, groupBy := range []string{"partner", "category"} {
		t.Run(groupBy, func(t *testing.T) {
			issue := sampleIssue("en", "UTC")
			issue.GroupBy = groupBy
			issue.Items = []pipeline.Item{item, withContent}
			r, err := Render(issue)
			if err != nil {
				t.Fatalf("Render returned error: %v", err)
			}
			isControl := func(r rune) bool {
				return r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
			}
			for name, part := range map[string]string{"subject": r.Subject, "html": r.HTML, "text": r.Text} {
				if strings.ContainsFunc(part, isControl) {
					t.Errorf("%s part contains a control:\n%s", name, part)
				}
			}
			if !strings.Contains(r.Text, "Export fair opens") {
				t.Errorf("text part lacks the title without controls:\n%s", r.Text)
			}
			if !strings.Contains(r.HTML, "ctl?q=%E2%80%AE") {
				t.Errorf("html part lacks the link with the override escaped:\n%s", r.HTML)
			}
		})
	}
}
