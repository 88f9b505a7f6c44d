// Package digests sends email digests of a channel's items to subscribers
// who asked for them, once per scheduled period.
//
// Subscribers sign up through an HTTP form or JSON API and confirm by a
// signed, expiring link (double opt-in). Their records live in the JetStream
// KV bucket <kv_prefix>_SUBSCRIBERS, keyed by a hash of digest id and
// address. Unsubscribing or deleting an address purges its record and keeps
// only a suppression entry under the same hash, so an import cannot bring
// the address back. Messages carry no open or click tracking.
//
// # Delivery guarantee
//
// Delivery is at least once, and every repeat is deduplicable. For each
// subscriber and period the Runner writes a send-log entry in
// <kv_prefix>_SENDLOG:
//
//  1. claim: create the entry as "claimed" with a lease. Only one worker
//     can create it, so two workers running at once send once.
//  2. send: render and hand the message to the SMTP relay.
//  3. mark sent: replace the entry with "sent" (compare-and-set on the
//     claim's revision), then move the subscriber's covered-until time to
//     the period.
//
// A crash after step 1 leaves a claim that expires after the lease; the
// next run takes it over and sends again. A crash after the relay accepted
// DATA but before step 3 sends the message a second time. Both sends carry
// the same Message-ID, derived from subscriber, digest and period, so a
// receiving system that drops repeated Message-IDs shows it once. After
// downtime the Runner sends one catch-up message for the latest due period
// that covers everything since the subscriber's last digest, never one per
// missed period.
package digests
