package pipeline

import (
	"net/url"
	"strings"
	"testing"
)

// TestSanitizeHTMLHostilePayloads feeds sanitizeHTML the
// script, event handler, CSS and URL-scheme payloads that a hostile
// partner can put into item content, and checks that none survives.
func TestSanitizeHTMLHostilePayloads(t *testing.T) {
	base, err := url.Parse("https://partner.example/news/")
	if err != nil {
		t.Fatal(err)
	}
	payloads := []string{
		`<p onclick=alert(3)>hi</p><script>alert(4)</script>`,
		`<iframe src=javascript:alert(5)></iframe>`,
		`<a href="javascript:alert(6)">j</a><a href="JaVaScRiPt&#58;alert(6)">j2</a>`,
		`<a href="  javascript:alert(13)">sp</a><a href="vbscript:msgbox(1)">v</a>`,
		`<div style="background:url(javascript:alert(8));width:expression(alert(9))">css</div>`,
		`<svg onload=alert(10)><script>alert(11)</script></svg>`,
		`<math><mi xlink:href="javascript:alert(12)">m</mi></math>`,
		`<img src="https://evil.example/i.png" srcset="javascript:alert(1) 1x, https://evil.example/i2.png 2x">`,
		`<img src="https://evil.example/x.png" onerror="alert(14)">`,
		`<base href="https://attacker.example/"><meta http-equiv=refresh content="0;url=javascript:alert(1)">`,
		`<link rel=stylesheet href=//evil/x.css><form action=https://evil/><input name=p></form>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(17)>"></noscript>`,
		`<svg><style><img src=x onerror=alert(18)></style></svg>`,
		`<object data="x.swf"></object><embed src="x.swf">`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>`,
	}
	forbidden := []string{
		"<script", "<iframe", "<svg", "<math", "<style", "<base", "<meta", "<link",
		"<form", "<input", "<object", "<embed", "javascript:", "vbscript:", "data:",
		"onclick", "onerror", "onload", "style=", "expression(",
	}
	for _, payload := range payloads {
		got := strings.ToLower(sanitizeHTML(payload, base))
		for _, marker := range forbidden {
			if strings.Contains(got, marker) {
				t.Errorf("sanitizeHTML(%q) = %q, which still contains %q", payload, got, marker)
			}
		}
	}
}
