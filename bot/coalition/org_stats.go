package coalition

import (
	"context"
	"slices"
	"time"

	"mobilise/store"
)

// Tally counts one slice of an institution's numbers.
type Tally struct {
	// Supporters joined its list (and are on it now); Referrals are those
	// of them its link first brought to the bot.
	Supporters, Referrals int
	// Pledges and Signups are those credited to it.
	Pledges, Signups int
	// Answers are the answers to the polls it asked credited to it, each
	// person's latest answer once.
	Answers int
}

func (t *Tally) add(o Tally) {
	t.Supporters += o.Supporters
	t.Referrals += o.Referrals
	t.Pledges += o.Pledges
	t.Signups += o.Signups
	t.Answers += o.Answers
}

// Month is a Tally of one calendar month in the coalition's time zone.
type Month struct {
	// Start is the first moment of the month.
	Start time.Time
	Tally
}

// Numbers are one organiser's figures: a member institution's, or with a
// nil Institution the coalition's own campaigns'.
type Numbers struct {
	Institution *store.Institution
	Tally
	// Left counts the people who left its list.
	Left int
	// Campaigns counts the campaigns it organises, joint ones included;
	// Polls the polls it asked (the questions after its events among them).
	Campaigns, Polls int
	// ByGovernorate breaks the Tally down by governorate key ("" unknown):
	// supporters where they said they live when they joined, pledges and
	// sign-ups and answers where the person lived when they made them.
	ByGovernorate map[string]Tally
	// ByMonth is the Tally over time, oldest month first, months with
	// nothing left out.
	ByMonth []Month
}

// Numbers returns an institution's figures: its supporters, and the
// pledges, sign-ups and poll answers credited to it (its share of joint
// campaigns), by governorate and by month. Its own people and the coalition's staff
// see them.
func (in *Institutions) Numbers(ctx context.Context, by Actor, id uint64) (Numbers, error) {
	ok, err := in.actsFor(ctx, by, id)
	if err != nil {
		return Numbers{}, err
	}
	if !ok && !by.staff() {
		return Numbers{}, ErrNotAllowed
	}
	inst, err := in.st.Institution(ctx, id)
	if err != nil {
		return Numbers{}, notFound(err)
	}
	return in.numbers(ctx, inst)
}

// Overview rolls the coalition's numbers up by organiser: the coalition's
// own campaigns first, then each member institution that was approved,
// in ID order. The coalition's staff see it.
func (in *Institutions) Overview(ctx context.Context, by Actor) ([]Numbers, error) {
	if !by.staff() {
		return nil, ErrNotAllowed
	}
	own, err := in.numbers(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := []Numbers{own}
	all, err := in.st.Institutions(ctx, "")
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Status == store.InstitutionPending || all[i].Status == store.InstitutionRejected {
			continue
		}
		n, err := in.numbers(ctx, &all[i])
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// numbers counts an organiser's figures: inst's, or the coalition's for nil.
func (in *Institutions) numbers(ctx context.Context, inst *store.Institution) (Numbers, error) {
	n := Numbers{Institution: inst, ByGovernorate: map[string]Tally{}}
	var id uint64
	if inst != nil {
		id = inst.ID
	}
	months := map[time.Time]*Tally{}
	count := func(at time.Time, gov string, t Tally) {
		n.Tally.add(t)
		g := n.ByGovernorate[gov]
		g.add(t)
		n.ByGovernorate[gov] = g
		local := at.In(in.loc)
		start := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, in.loc)
		if months[start] == nil {
			months[start] = &Tally{}
		}
		months[start].add(t)
	}
	if inst != nil {
		if err := in.st.Supporters(ctx, id, func(sp *store.Support) error {
			if !sp.Active() {
				n.Left++
				return nil
			}
			t := Tally{Supporters: 1}
			if sp.Newcomer && sp.Via == store.ViaLink {
				t.Referrals = 1
			}
			count(sp.At, sp.Governorate, t)
			return nil
		}); err != nil {
			return n, err
		}
	}
	camps, err := in.st.Campaigns(ctx)
	if err != nil {
		return n, err
	}
	for _, c := range camps {
		if (inst == nil) != c.Organiser.IsCoalition() || (inst != nil && !c.Organiser.Includes(id)) {
			continue
		}
		n.Campaigns++
		if err := in.st.Pledges(ctx, c.ID, func(p *store.Pledge) error {
			if p.Institution == id {
				count(p.At, p.Governorate, Tally{Pledges: 1})
			}
			return nil
		}); err != nil {
			return n, err
		}
		if err := in.st.Signups(ctx, c.ID, func(su *store.Signup) error {
			if su.Institution == id {
				count(su.At, su.Governorate, Tally{Signups: 1})
			}
			return nil
		}); err != nil {
			return n, err
		}
	}
	polls, err := in.st.Polls(ctx)
	if err != nil {
		return n, err
	}
	for _, p := range polls {
		if (inst == nil) != p.Organiser.IsCoalition() || (inst != nil && !p.Organiser.Includes(id)) {
			continue
		}
		n.Polls++
		if err := in.st.PollAnswers(ctx, p.ID, func(a *store.PollAnswer) error {
			if a.Institution == id {
				count(a.At, a.Governorate, Tally{Answers: 1})
			}
			return nil
		}); err != nil {
			return n, err
		}
	}
	for start, t := range months {
		n.ByMonth = append(n.ByMonth, Month{Start: start, Tally: *t})
	}
	slices.SortFunc(n.ByMonth, func(a, b Month) int { return a.Start.Compare(b.Start) })
	return n, nil
}
