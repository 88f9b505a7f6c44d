package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRemoteGetManyLargeDocument reads the seen keys of a document with
// 15,000 known items through the owner, as poll --once does with
// fetch.max_items raised to that many (the setting allows up to 100,000).
// The request fits in the server's 1 MiB max_payload, but one reply with
// every hash and time does not.
func TestRemoteGetManyLargeDocument(t *testing.T) {
	ctx := testContext(t)
	sv := serveLocal(t)
	local, remote := sv.local, sv.remote
	const items = 15000
	value := hashA + " 1764936000"
	keys := make([]string, items)
	for i := range keys {
		keys[i] = fmt.Sprintf("seen:%032x", i)
		id, ok := local.memoKey(keys[i])
		if !ok {
			t.Fatalf("key %q is not a memo key", keys[i])
		}
		local.memo.put(id, value)
	}

	// A single request for every key gets an error reply at once instead
	// of no reply.
	data, err := json.Marshal(cacheRequest{Op: "get_many", Keys: keys})
	if err != nil {
		t.Fatalf("encoding the request: %v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	m, err := remote.nc.RequestWithContext(rctx, remote.subject, data)
	cancel()
	if err != nil {
		t.Fatalf("request for %d keys at once: %v, want an error reply", items, err)
	}
	if !strings.Contains(string(m.Data), "max_payload") {
		t.Errorf("reply to a request for %d keys at once = %.200s, want a max_payload error", items, m.Data)
	}

	values, found, err := remote.GetMany(ctx, keys)
	if err != nil {
		t.Fatalf("GetMany of %d keys: %v", items, err)
	}
	for i := range keys {
		if !found[i] || values[i] != value {
			t.Fatalf("GetMany[%d] = %q, %t; want %q, true", i, values[i], found[i], value)
		}
	}
}
