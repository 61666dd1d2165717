package dashboard_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"mobilise/bot"
	"mobilise/bot/dashboard"
	"mobilise/store"
)

// BenchmarkOverview200k measures rendering the overview and a campaign's page
// with 200,000 contacts, half of whom pledged to the open campaign:
//
//	go test ./bot/dashboard -run '^$' -bench Overview200k -benchtime 10x
func BenchmarkOverview200k(b *testing.B) {
	w := newWorld(b, 0)
	w.person(b, adminA, "Amal", "ar", "ramallah")
	ctx := context.Background()
	camp := &store.Campaign{Code: "olive", TitleAR: "زيتون", CallAR: "انضموا", Kind: store.KindPledge, Target: 150000, StartAt: time.Now().Add(-30 * 24 * time.Hour)}
	require.NoError(b, w.st.CreateCampaign(ctx, camp))
	fill(b, w.st, camp.ID, 200_000)
	client := signedIn(b, w, adminA)
	for _, page := range []string{"/", "/campaigns/" + strconv.FormatUint(camp.ID, 10)} {
		b.Run(strings.Trim(page, "/"), func(b *testing.B) {
			for b.Loop() {
				resp, err := client.Get(w.srv.URL + dashboard.Prefix + page)
				require.NoError(b, err)
				resp.Body.Close()
				require.Equal(b, http.StatusOK, resp.StatusCode)
			}
		})
	}
}

// fill writes n consenting contacts in bulk, every other one pledged, spread over 30 days and the governorates.
func fill(b *testing.B, st *store.Store, campaignID uint64, n int) {
	govs := []string{"jenin", "nablus", "ramallah", "hebron", "gaza", "rafah"}
	start := time.Now().Add(-30 * 24 * time.Hour)
	pledges := 0
	for lo := 0; lo < n; lo += 20000 {
		require.NoError(b, st.DB().Update(func(tx *bbolt.Tx) error {
			cb, pb := tx.Bucket([]byte("contacts")), tx.Bucket([]byte("pledges"))
			for i := lo; i < min(lo+20000, n); i++ {
				id := uint64(1_000_000 + i)
				c := store.Contact{ID: id, Addresses: []bot.Address{{Channel: bot.Telegram, ID: strconv.Itoa(900000 + i)}}, Consent: true, Governorate: govs[i%len(govs)], CreatedAt: start}
				if err := put(cb, id, 0, c); err != nil {
					return err
				}
				if i%2 == 0 {
					pledges++
					p := store.Pledge{CampaignID: campaignID, ContactID: id, At: start.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n)), Channel: bot.Telegram, Governorate: c.Governorate, Lang: "ar"}
					if err := put(pb, campaignID, id, p); err != nil {
						return err
					}
				}
			}
			return put(tx.Bucket([]byte("counters")), campaignID, 0, store.Counts{Pledges: pledges})
		}))
	}
}

func signedIn(b *testing.B, w *world, chat string) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(b, err)
	client := &http.Client{Jar: jar}
	u, err := url.Parse(w.loginLink(b, chat))
	require.NoError(b, err)
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+dashboard.LoginPath, strings.NewReader(url.Values{"t": {u.Query().Get("t")}}.Encode()))
	require.NoError(b, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	require.NoError(b, err)
	resp.Body.Close()
	return client
}
