package telegram

import (
	"testing"
	"time"
)

// BenchmarkReplyLatency measures how long a person waits for an answer, on
// this side of the network: from getUpdates handing an update to the bot to
// the answer's sendMessage reaching the Bot API (the platform's round trip
// excluded), through the whole bot at Telegram's default limits, against
// the fake Bot API over real HTTP. People write at 10 updates a second,
// first with nothing else to send, then while a 10,000-person broadcast
// drains on the same token. Both phases run in one benchmark, so the
// ratios compare like with like. Each iteration is one update in each
// phase, a tenth of a second apart; for a p99 worth the name run at least
// 200:
//
//	go test -run '^$' -bench ReplyLatency -benchtime 200x ./bot/telegram
func BenchmarkReplyLatency(b *testing.B) {
	const recipients, every = 10_000, 100 * time.Millisecond
	r := newRig(b)
	e := r.e2e
	r.run()
	next := int64(7_300_000)
	phase := func(what string, n int) []time.Duration {
		b.Helper()
		chatOf := map[int64]string{}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for range n {
			u := tgUser{ID: next, Name: "P", Lang: "ar"}
			next++
			id := e.nextUpdateID()
			chatOf[id] = u.chat()
			e.f.push(startUpdate(b, id, u))
			<-tick.C
		}
		e.f.waitRates(b, time.Minute, what, func(rateReport) bool { return len(latencies(b, e.f, chatOf)) == n })
		return latencies(b, e.f, chatOf)
	}

	// the first answers pay for what a process does once (templates, pages of the file)
	phase("the first answers", 5)
	b.ResetTimer()
	idle := phase("the answers with nothing else to send", b.N)
	b.StopTimer()
	_, bulk := queueBroadcast(b, e.st, recipients, 9_000_000)
	e.stack.Queue.Wake()
	e.f.waitRates(b, 10*time.Second, "the broadcast to start", func(rr rateReport) bool {
		n := 0
		for _, m := range rr.messages {
			if bulk[m.Chat] {
				n++
			}
		}
		return n >= 30
	})
	b.StartTimer()
	busy := phase("the answers during the broadcast", b.N)
	b.StopTimer()
	sent := 0
	for _, m := range e.f.rateReport().messages {
		if bulk[m.Chat] {
			sent++
		}
	}
	require := func(ok bool, format string, args ...any) {
		if !ok {
			b.Fatalf(format, args...)
		}
	}
	require(sent < recipients, "the broadcast was still draining at the end (%d of %d sent)", sent, recipients)
	rr := e.f.rateReport()
	require(len(rr.inWindow) == 0 && rr.tooMany == 0, "%d 429s, %d requests inside a retry_after", rr.tooMany, len(rr.inWindow))
	r.halt()

	msec := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p50i, p99i, p50b, p99b := quantile(idle, .5), quantile(idle, .99), quantile(busy, .5), quantile(busy, .99)
	b.ReportMetric(msec(p50i), "idle-p50-ms")
	b.ReportMetric(msec(p99i), "idle-p99-ms")
	b.ReportMetric(msec(p50b), "bulk-p50-ms")
	b.ReportMetric(msec(p99b), "bulk-p99-ms")
	b.ReportMetric(float64(p99b)/float64(p99i), "p99-bulk/idle")
	b.ReportMetric(float64(p99b)/float64(50*time.Millisecond), "bulk-p99/50ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d updates at %v apart in each phase; idle p50 %v p99 %v max %v; with a %d-person broadcast draining (%d sent meanwhile) p50 %v p99 %v max %v",
		b.N, every, p50i.Round(time.Microsecond), p99i.Round(time.Microsecond), idle[len(idle)-1].Round(time.Microsecond),
		recipients, sent, p50b.Round(time.Microsecond), p99b.Round(time.Microsecond), busy[len(busy)-1].Round(time.Microsecond))
}
