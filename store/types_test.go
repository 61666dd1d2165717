package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRoleOrder(t *testing.T) {
	order := []Role{RoleCitizen, RoleMember, RoleCoordinator, RoleAdmin}
	for i, r := range order {
		assert.Equal(t, i, r.Rank(), "%s", r)
		for j, min := range order {
			assert.Equal(t, i >= j, r.AtLeast(min), "%s at least %s", r, min)
		}
	}
	assert.Equal(t, 0, Role("").Rank())
	assert.Equal(t, 0, Role("owner").Rank())
	assert.False(t, Role("").AtLeast(RoleMember))
}

func TestCampaignKinds(t *testing.T) {
	for _, tc := range []struct {
		kind          CampaignKind
		pledge, event bool
	}{{KindPledge, true, false}, {KindEvent, false, true}, {KindBoth, true, true}, {"", false, false}} {
		assert.Equal(t, tc.pledge, tc.kind.HasPledge(), "%q", tc.kind)
		assert.Equal(t, tc.event, tc.kind.HasEvent(), "%q", tc.kind)
	}
}

func TestCampaignActive(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(72 * time.Hour)
	for _, tc := range []struct {
		label string
		c     Campaign
		at    time.Time
		want  bool
	}{
		{"before start", Campaign{StartAt: start}, start.Add(-time.Second), false},
		{"at start", Campaign{StartAt: start}, start, true},
		{"no end", Campaign{StartAt: start}, start.AddDate(5, 0, 0), true},
		{"before end", Campaign{StartAt: start, EndAt: end}, end.Add(-time.Second), true},
		{"at end", Campaign{StartAt: start, EndAt: end}, end, false},
		{"closed", Campaign{StartAt: start, Closed: true}, start.Add(time.Hour), false},
	} {
		assert.Equal(t, tc.want, tc.c.Active(tc.at), tc.label)
	}
}
