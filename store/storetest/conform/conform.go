// Package conform is the conformance suite of the bot's stores: one set of
// tests that every implementation of the store's operations passes, the
// bbolt store (package store) and the PostgreSQL store (store/postgres)
// alike. It checks behaviour through the operations only: uniqueness,
// counters exact inside the transaction that moves them, rollback of a
// unit of work, the outbox's crash semantics, and concurrency.
package conform

import (
	"context"
	"time"

	"mobilise/bot"
	"mobilise/store"
)

// Backend is the part of a store the suite runs: the operations both
// stores have, with the signatures, types and errors of *store.Store.
type Backend interface {
	// InTx and AfterCommit are the unit of work (store.Store.InTx and
	// store.AfterCommit).
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AfterCommit(ctx context.Context, fn func())

	EnsureContact(ctx context.Context, addr bot.Address, name, lang string) (*store.Contact, bool, error)
	Contact(ctx context.Context, id uint64) (*store.Contact, error)
	ContactByAddress(ctx context.Context, addr bot.Address) (*store.Contact, error)
	ContactByRefCode(ctx context.Context, code string) (*store.Contact, error)
	UpdateContact(ctx context.Context, id uint64, fn func(*store.Contact) error) (*store.Contact, error)

	CountAudience(ctx context.Context, aud store.Audience, channelOK func(channel bot.ChannelName) bool) (store.AudienceCount, error)

	CreateCampaign(ctx context.Context, c *store.Campaign) error
	Campaign(ctx context.Context, id uint64) (*store.Campaign, error)
	CampaignByCode(ctx context.Context, code string) (*store.Campaign, error)
	AddPledge(ctx context.Context, p store.Pledge) (store.PledgeResult, error)
	Pledge(ctx context.Context, campaignID, contactID uint64) (*store.Pledge, error)
	Counts(ctx context.Context, campaignID uint64) (store.Counts, error)

	CreateBroadcast(ctx context.Context, b *store.Broadcast) error
	Broadcast(ctx context.Context, id uint64) (*store.Broadcast, error)
	QueueBroadcast(ctx context.Context, id uint64, entries []store.OutboxEntry) error
	Enqueue(ctx context.Context, entries ...store.OutboxEntry) error
	PendingOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, after uint64, limit int) ([]store.OutboxEntry, error)
	OutboxDone(ctx context.Context, ids ...uint64) error
	OutboxFailed(ctx context.Context, id uint64, reason string, blocked bool) error
	OutboxRetry(ctx context.Context, id uint64, notBefore time.Time, reason string) error
	OutboxStarted(ctx context.Context, ids ...uint64) error
	OutboxNotStarted(ctx context.Context, ids ...uint64) error
	OutboxQueued(ctx context.Context, id uint64) (bool, error)
	OutboxDepth(ctx context.Context) (map[bot.ChannelName]int, error)
	OutboxSentSince(ctx context.Context, channel bot.ChannelName, since time.Time) (int, error)
}

// Reopener is a Backend that can stop as a crash would stop it, with no
// chance to finish anything, and start again on the same data. The suite
// checks the outbox's crash semantics through it.
type Reopener interface {
	// Reopen closes the backend and returns a new one on the same data;
	// the old one is not used again.
	Reopen() (Backend, error)
}

// Claimer is a Backend whose outbox several dispatchers share by claiming
// entries for a lease (the PostgreSQL store), with a clock the suite moves.
type Claimer interface {
	ClaimOutbox(ctx context.Context, channel bot.ChannelName, bulk bool, limit int, lease time.Duration) ([]store.OutboxEntry, error)
	// Now is the backend's clock, which leases and NotBefore are read by;
	// Advance moves it on by d.
	Now() time.Time
	Advance(d time.Duration)
}
