package workers

import (
	"bytes"
	"encoding/json"
)

// jsonFrame is one open object or array while duplicateKey walks a body.
type jsonFrame struct {
	object  bool
	wantKey bool
	keys    map[string]bool
}

// duplicateKey returns the first key that appears twice in one JSON object
// of body, or "" when there is none or body is not valid JSON (the decoder
// reports that later). Go's decoder keeps the last of repeated keys while
// other parsers keep the first, so a request that repeats a key could mean
// different items to different readers; the intake rejects it instead.
func duplicateKey(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.object {
					top.wantKey = true // the nested value is the member's value
				}
				stack = append(stack, &jsonFrame{object: d == '{', wantKey: d == '{', keys: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if key, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			if top.keys[key] {
				return key
			}
			top.keys[key] = true
			top.wantKey = false
			continue
		}
		if top != nil && top.object {
			top.wantKey = true
		}
	}
}
