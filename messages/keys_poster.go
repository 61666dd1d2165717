package messages

// Printed posters (mobilise poster CODE): the captions around the QR codes
// and the campaign code, and the words of an event's date. Their texts are
// in locales/poster.ar.json and locales/poster.en.json.
const (
	// PosterScan heads the QR codes: "Scan with your phone's camera".
	PosterScan Key = "poster.scan"
	// PosterTelegram and PosterWhatsApp caption the QR code of each channel.
	PosterTelegram Key = "poster.telegram"
	PosterWhatsApp Key = "poster.whatsapp"
	// PosterCode labels the campaign code printed large.
	PosterCode Key = "poster.code"
	// PosterSendCode tells people without a camera what to type; {{.Command}}
	// is "start <code>", isolated.
	PosterSendCode Key = "poster.send_code"
	// PosterOrganisedBy is the organisers' line; {{.Name}} is an institution's name.
	PosterOrganisedBy Key = "poster.organised_by"
	// PosterWhen is an event's date and time: {{.Weekday}} {{.Day}} {{.Month}}
	// {{.Year}} and {{.Time}} (24-hour, "16:30").
	PosterWhen Key = "poster.when"
)

// The days of the week, for PosterWhen.
const (
	PosterSunday    Key = "poster.weekday.sunday"
	PosterMonday    Key = "poster.weekday.monday"
	PosterTuesday   Key = "poster.weekday.tuesday"
	PosterWednesday Key = "poster.weekday.wednesday"
	PosterThursday  Key = "poster.weekday.thursday"
	PosterFriday    Key = "poster.weekday.friday"
	PosterSaturday  Key = "poster.weekday.saturday"
)

// The months, for PosterWhen. Arabic uses the names of the Levant (كانون
// الثاني, شباط, آذار…), as people in Palestine write them.
const (
	PosterJanuary   Key = "poster.month.january"
	PosterFebruary  Key = "poster.month.february"
	PosterMarch     Key = "poster.month.march"
	PosterApril     Key = "poster.month.april"
	PosterMay       Key = "poster.month.may"
	PosterJune      Key = "poster.month.june"
	PosterJuly      Key = "poster.month.july"
	PosterAugust    Key = "poster.month.august"
	PosterSeptember Key = "poster.month.september"
	PosterOctober   Key = "poster.month.october"
	PosterNovember  Key = "poster.month.november"
	PosterDecember  Key = "poster.month.december"
)
