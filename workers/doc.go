// Package workers runs the long-lived jobs of Syndic that talk to the
// outside world: polling partner feeds over HTTP (and file URLs in
// development), taking in WebSub push deliveries, and sending digests.
//
// The feed fetcher (Fetcher) turns every poll into exactly one Outcome that
// the scheduler branches on: not modified, new content, retry later,
// permanent failure or gone. It bounds everything it reads from a partner
// (time, redirects, body size after decompression) and guards every dial
// against private, loopback and cloud metadata addresses, so a feed URL
// cannot be used to reach the internal network.
package workers
