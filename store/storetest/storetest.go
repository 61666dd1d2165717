// Package storetest builds stores of many people for tests and benchmarks
// of other packages, through the store's own methods, so the records,
// indexes and counters are the ones the bot would have written.
package storetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"mobilise/bot"
	"mobilise/messages"
	"mobilise/store"
)

// Campaigns is how many campaigns Build creates; person i pledges to
// campaign i%Campaigns + 1 and every third person signs up for its event.
const Campaigns = 5

// buildChunk is how many people one transaction of Build writes.
const buildChunk = 2_000

// Institution is the ID of the approved member institution Build creates,
// which its members (Person) represent.
const Institution = 1

// At is the time the people of Build arrived, consented and pledged.
var At = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Person is person i of Build as they are stored: a Telegram address for
// all; five in nine also on WhatsApp, which they prefer; one in twenty
// without consent and one in twenty stopped (so nine in ten can be
// reached); the sixteen governorates in turn; one in seven reading
// English; one in a thousand a member, the representative of Build's one
// member institution (Institution).
func Person(i int) store.Contact {
	c := store.Contact{
		Addresses:   []bot.Address{{Channel: bot.Telegram, ID: fmt.Sprintf("%d", 5_000_000_000+i)}},
		Name:        fmt.Sprintf("سمر خليل الأحمد %d", i),
		Lang:        "ar",
		Consent:     i%20 != 19,
		Stopped:     i%20 == 18,
		Governorate: messages.Governorates()[i%len(messages.Governorates())],
		OnboardedAt: when(i),
	}
	if c.Consent {
		c.ConsentAt = when(i)
	}
	if i%9 < 5 {
		c.Addresses = append(c.Addresses, bot.Address{Channel: bot.WhatsApp, ID: fmt.Sprintf("9705%08d", i)})
		c.PreferredChannel = bot.WhatsApp
	}
	if i%7 == 0 {
		c.Lang = "en"
	}
	if i%1000 == 0 {
		c.Role, c.InstitutionID = store.RoleMember, Institution
	}
	return c
}

// when is when person i arrived: a second or so after the one before, to
// the nanosecond, as the store's clock stamps records.
func when(i int) time.Time { return At.Add(time.Duration(i) * 1_000_123_457) }

// Build writes n people (Person) into the store at path, with Campaigns
// campaigns, their pledges and sign-ups, buildChunk people per
// transaction, and closes it. Each person arrives with EnsureContact,
// onboards with UpdateContact and pledges with AddPledge, as in a
// conversation; commits are not synced, as in a bulk load.
func Build(tb testing.TB, path string, n int) {
	tb.Helper()
	ctx := context.Background()
	var i int // the person being written, whose time the store's clock reads
	st, err := store.Open(path, store.WithNow(func() time.Time { return when(i) }))
	if err != nil {
		tb.Fatalf("opening %s: %v", path, err)
	}
	st.DB().NoSync = true
	inst := &store.Institution{NameAR: "جمعية السلام", Field: messages.Fields()[0], Governorates: []string{messages.Governorates()[0]},
		ContactPerson: "سمر", Status: store.InstitutionApproved}
	if err := st.CreateInstitution(ctx, inst); err != nil || inst.ID != Institution {
		tb.Fatalf("creating the member institution: %v (id %d)", err, inst.ID)
	}
	var campaigns []uint64
	for i := range Campaigns {
		c := &store.Campaign{Code: fmt.Sprintf("c%d", i+1), TitleAR: "عهد السلام", TitleEN: "The peace pledge",
			CallAR: "انضموا إلينا", CallEN: "Join us", Kind: store.KindBoth, StartAt: At.Add(-time.Hour)}
		if err := st.CreateCampaign(ctx, c); err != nil {
			tb.Fatalf("creating campaign: %v", err)
		}
		campaigns = append(campaigns, c.ID)
	}
	for start := 0; start < n; start += buildChunk {
		err := st.InTx(ctx, func(ctx context.Context) error {
			for i = start; i < min(start+buildChunk, n); i++ {
				p := Person(i)
				c, _, err := st.EnsureContact(ctx, p.Addresses[0], p.Name, p.Lang)
				if err != nil {
					return err
				}
				if _, err := st.UpdateContact(ctx, c.ID, func(c *store.Contact) error {
					c.Addresses, c.Consent, c.ConsentAt, c.Stopped = p.Addresses, p.Consent, p.ConsentAt, p.Stopped
					c.Governorate, c.OnboardedAt, c.Role, c.PreferredChannel = p.Governorate, p.OnboardedAt, p.Role, p.PreferredChannel
					c.InstitutionID = p.InstitutionID
					return nil
				}); err != nil {
					return err
				}
				cid := campaigns[i%Campaigns]
				pl := store.Pledge{CampaignID: cid, ContactID: c.ID, Channel: p.Addresses[0].Channel, Governorate: p.Governorate, Lang: p.Lang}
				if _, err := st.AddPledge(ctx, pl); err != nil {
					return err
				}
				if i%3 == 0 {
					if _, err := st.AddSignup(ctx, store.Signup{CampaignID: cid, ContactID: c.ID, Channel: pl.Channel}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("building %d people: %v", n, err)
		}
	}
	if err := st.DB().Sync(); err != nil {
		tb.Fatalf("syncing %s: %v", path, err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
}

// Copy copies the file at src to a new file in dir and returns its path,
// so a benchmark can change a store built once.
func Copy(tb testing.TB, src, dir string) string {
	tb.Helper()
	dst := filepath.Join(dir, filepath.Base(src))
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// PeakHeap runs fn and returns the most heap its objects took while it
// ran (live and not yet swept, sampled every millisecond with
// runtime/metrics, which does not stop the world), above the heap before it
// after a collection.
func PeakHeap(fn func()) (peak uint64) {
	runtime.GC()
	base := heapObjects()
	stop, sampled := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			top = max(top, heapObjects())
			select {
			case <-stop:
				sampled <- top
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	if top := <-sampled; top > base {
		return top - base
	}
	return 0
}

func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// Percentile returns the p-th percentile (0 to 100) of ds, which it sorts.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// Ms is d in milliseconds, for b.ReportMetric.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
