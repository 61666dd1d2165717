package messages

import (
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatDateTime(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Hebron")
	require.NoError(t, err)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, loc)
	for _, tc := range []struct {
		at     time.Time
		ar, en string
	}{
		{time.Date(2026, 12, 18, 18, 0, 0, 0, loc), "الجمعة ١٨ كانون الأول، ٦:٠٠ مساءً", "Friday 18 December, 6:00 pm"},
		{time.Date(2026, 12, 20, 0, 0, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١٢:٠٠ منتصف الليل", "Sunday 20 December, 12:00 midnight"},
		{time.Date(2026, 12, 20, 0, 5, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١٢:٠٥ صباحًا", "Sunday 20 December, 12:05 am"},
		{time.Date(2026, 12, 20, 12, 0, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١٢:٠٠ ظهرًا", "Sunday 20 December, 12:00 noon"},
		{time.Date(2026, 12, 20, 12, 30, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١٢:٣٠ ظهرًا", "Sunday 20 December, 12:30 pm"},
		{time.Date(2026, 12, 20, 13, 0, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١:٠٠ مساءً", "Sunday 20 December, 1:00 pm"},
		{time.Date(2026, 12, 20, 11, 59, 59, 0, loc), "الأحد ٢٠ كانون الأول، ١١:٥٩ صباحًا", "Sunday 20 December, 11:59 am"},
		{time.Date(2026, 12, 20, 23, 59, 0, 0, loc), "الأحد ٢٠ كانون الأول، ١١:٥٩ مساءً", "Sunday 20 December, 11:59 pm"},
		// next January, a month away: no year needed
		{time.Date(2027, 1, 5, 9, 7, 0, 0, loc), "الثلاثاء ٥ كانون الثاني، ٩:٠٧ صباحًا", "Tuesday 5 January, 9:07 am"},
		// half a year away or more, either way: with the year
		{time.Date(2027, 6, 1, 9, 0, 0, 0, loc), "الثلاثاء ١ حزيران ٢٠٢٧، ٩:٠٠ صباحًا", "Tuesday 1 June 2027, 9:00 am"},
		{time.Date(2026, 5, 31, 9, 0, 0, 0, loc), "الأحد ٣١ أيار ٢٠٢٦، ٩:٠٠ صباحًا", "Sunday 31 May 2026, 9:00 am"},
		{time.Date(2026, 6, 2, 9, 0, 0, 0, loc), "الثلاثاء ٢ حزيران ٢٠٢٦، ٩:٠٠ صباحًا", "Tuesday 2 June 2026, 9:00 am"},
		{time.Date(2026, 6, 3, 9, 0, 0, 0, loc), "الأربعاء ٣ حزيران، ٩:٠٠ صباحًا", "Wednesday 3 June, 9:00 am"},
		{time.Date(2027, 5, 31, 9, 0, 0, 0, loc), "الاثنين ٣١ أيار، ٩:٠٠ صباحًا", "Monday 31 May, 9:00 am"},
	} {
		assert.Equal(t, tc.ar, FormatDateTime("ar", tc.at, Around(now)), "%s", tc.at)
		assert.Equal(t, tc.en, FormatDateTime("en", tc.at, Around(now)), "%s", tc.at)
	}
	// without a reference the year is always there
	fri := time.Date(2026, 12, 18, 18, 0, 0, 0, loc)
	assert.Equal(t, "الجمعة ١٨ كانون الأول ٢٠٢٦، ٦:٠٠ مساءً", FormatDateTime("ar-PS", fri))
	assert.Equal(t, "Friday 18 December 2026, 6:00 pm", FormatDateTime("en-GB", fri))
	assert.Equal(t, "الجمعة ١٨ كانون الأول ٢٠٢٦", FormatDate("", fri), "Arabic by default, year without a thousands separator")
	assert.Equal(t, "Friday 18 December", FormatDate("en", fri, Around(now)))
}

func TestCalendarNames(t *testing.T) {
	levantine := []string{"كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"}
	for i, want := range levantine {
		assert.Equal(t, want, MonthName("ar", time.Month(i+1)))
	}
	assert.Equal(t, "December", MonthName("en", time.December))
	assert.Equal(t, "الجمعة", WeekdayName("ar", time.Friday))
	assert.Equal(t, "السبت", WeekdayName("ar", time.Saturday))
	assert.Equal(t, "Friday", WeekdayName("en", time.Friday))
}

func TestFormatClock(t *testing.T) {
	for _, tc := range []struct {
		h, m   int
		ar, en string
	}{
		{0, 0, "١٢:٠٠ منتصف الليل", "12:00 midnight"},
		{0, 30, "١٢:٣٠ صباحًا", "12:30 am"},
		{6, 5, "٦:٠٥ صباحًا", "6:05 am"},
		{12, 0, "١٢:٠٠ ظهرًا", "12:00 noon"},
		{12, 59, "١٢:٥٩ ظهرًا", "12:59 pm"},
		{18, 0, "٦:٠٠ مساءً", "6:00 pm"},
		{23, 10, "١١:١٠ مساءً", "11:10 pm"},
	} {
		at := time.Date(2026, 12, 20, tc.h, tc.m, 0, 0, time.UTC)
		assert.Equal(t, tc.ar, FormatClock("ar", at))
		assert.Equal(t, tc.en, FormatClock("en", at))
	}
}
