// Package pipeline contains the item model of Syndic and the steps every
// item passes through: parsing and normalisation of fetched feeds, stable
// identity and content hashing, deduplication against the seen cache and
// the durable index, and publishing of item events on JetStream.
//
// # Delivery guarantee
//
// Every accepted item reaches the stream at least once, and readers see it
// once. JetStream is the source of truth; the cache (Redis or the embedded
// KV bucket) only speeds up the dedup check and can be flushed at any time.
// Ingester.Ingest takes these steps for each item:
//
//  1. Look up the seen cache. The same content hash means duplicate.
//  2. On a miss, reserve the item with a short-lived create-only key
//     (SET NX). A reservation held by another writer means "retry later",
//     never "duplicate". With the embedded server and no Redis, the
//     process that started the server holds reservations in memory, and
//     other processes on that server ask it for them over NATS
//     (store.Local and store.Remote). Writers meet the same reservations
//     only when their caches agree: a process with Redis next to an
//     owner without it reserves elsewhere.
//  3. Under the reservation, look up the durable item index (JetStream
//     KV). The same content hash means duplicate, so a flushed cache
//     never lets an old item through again. The seen key of such an item
//     is written under the reservation. With the embedded server and no
//     Redis, it is kept in memory instead while the entry is younger than
//     half of nats.max_age and the lookup found no value (below).
//  4. Publish the event with a Nats-Msg-Id derived from id, revision and
//     content hash (eventMsgID), and wait for the PubAck. A duplicate
//     acknowledgement counts as success.
//  5. Write the index entry, then write the seen cache and release the
//     reservation, in one round trip where the cache can (SetDeleter,
//     a Redis pipeline). For a new item whose seen lookup found no value, the
//     process that started the embedded server keeps that seen value in
//     memory only (SeenRememberer), since the index entry contains the
//     same content hash. Its seen key is written at the first sighting
//     after half of nats.max_age, so an item that its feed keeps listing
//     stays known after its entry expires. Until then, only the index
//     entry keeps the item known once that memory is lost (a restart, or
//     more items than the memory holds), which costs one index read per
//     item. So an item that its feed drops before half of nats.max_age,
//     and offers again after nats.max_age, is published again if the
//     memory lost its value in between.
//
// The poller stores a feed's HTTP validators only after every item of the
// fetch went through these steps or was rejected, so any failure makes the
// next poll fetch the full document again.
//
// What a crash does at each step:
//
//   - Before step 4: nothing was published. The reservation expires after
//     ReserveTTL, or ends with the process that held it in memory, and the
//     next poll, sent without validators, ingests the item.
//   - Between step 4 and step 5: the event is in the stream but not in the
//     index. The next poll publishes it again with the same Nats-Msg-Id;
//     inside the stream's duplicate window JetStream drops the copy. After
//     the window the stream holds the same revision twice, and consumers,
//     which keep the highest revision per id, show it once. When the
//     process that crashed had started the embedded server, the next
//     start first writes the missing entry from the stream (Index.Repair),
//     so no copy is sent. A `syndic poll --once` that crashes while
//     connected to a running `syndic run` gets no such start.
//   - After step 5: the item is recorded; the next sighting is a
//     duplicate.
//
// On the embedded server the index bucket is written without an fsync per
// write, so a crash of the process or the host can also lose the last
// index writes made in step 5. The start after an unclean stop reads the
// events stored from the duplicate window and reserve_ttl before the
// index's last surviving write, and restores every entry that lags behind
// its event (Index.Repair). Other processes connect only after that. A
// stop is clean when no index write failed and no other process was
// connected.
package pipeline
