// Package pipeline contains the item model of Syndic and the steps every
// item passes through: parsing and normalisation of fetched feeds, stable
// identity and content hashing, deduplication against the seen cache and
// the durable index, and publishing of item events on JetStream.
package pipeline
