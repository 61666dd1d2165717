package messages

import "math"

// NearGovernorateKm is how far from the nearest governorate centre a point
// may lie and still be in the West Bank or Gaza: the emptiest corners (the
// wilderness east of Bethlehem, the south Hebron hills, the northern Jordan
// Valley) are within about 30 km of a centre. A shared location farther
// than this should not suggest a governorate.
const NearGovernorateKm = 30

// govCentre is the approximate centre of a governorate's main city, in
// decimal degrees (WGS 84).
type govCentre struct {
	key      string
	lat, lon float64
}

// governorateCentres gives each governorate the centre of its main city,
// from public knowledge of where those cities lie (the coordinates their
// encyclopedia and map entries give, rounded to about 100 m). North Gaza's
// is Jabalia's; Ramallah & al-Bireh's lies between the two towns. A city
// centre stands for a governorate well enough to suggest it, not to draw
// its borders: a point near a boundary, or in a governorate that stretches
// far from its city (Jericho and the Jordan Valley, Tubas), may land in the
// neighbour, so the suggestion is one the person confirms.
func governorateCentres() []govCentre {
	return []govCentre{
		{"jenin", 32.4607, 35.2960},
		{"tubas", 32.3209, 35.3697},
		{"tulkarm", 32.3104, 35.0286},
		{"nablus", 32.2211, 35.2544},
		{"qalqilya", 32.1894, 34.9706},
		{"salfit", 32.0848, 35.1806},
		{"ramallah", 31.9060, 35.2090},
		{"jericho", 31.8568, 35.4603},
		{"jerusalem", 31.7780, 35.2354},
		{"bethlehem", 31.7054, 35.2024},
		{"hebron", 31.5326, 35.0998},
		{"north_gaza", 31.5281, 34.4831},
		{"gaza", 31.5017, 34.4668},
		{"deir_al_balah", 31.4181, 34.3517},
		{"khan_yunis", 31.3462, 34.3063},
		{"rafah", 31.2969, 34.2455},
	}
}

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0

// NearestGovernorate returns the governorate whose centre is nearest to
// the point lat, lon (decimal degrees), and the great-circle distance to
// that centre in kilometres. It is for turning a shared location into a
// suggestion: compare km with NearGovernorateKm before making one. A point
// that is not a position on Earth (NaN, infinite, latitude beyond ±90 or
// longitude beyond ±180) has no nearest governorate: key is "" and km is
// +Inf.
func NearestGovernorate(lat, lon float64) (key string, km float64) {
	if math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return "", math.Inf(1)
	}
	km = math.Inf(1)
	for _, c := range governorateCentres() {
		if d := haversineKm(lat, lon, c.lat, c.lon); d < km {
			key, km = c.key, d
		}
	}
	return key, km
}

// haversineKm is the great-circle distance between two points.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, a)))
}
