package pipeline

import (
	"regexp"
	"strings"
	"time"
)

// zonedLayouts are tried after normalizeDate has dropped the weekday,
// shortened month names to three letters, upper-cased AM/PM and turned
// zone names into numeric offsets.
var zonedLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 2006 3:04:05 PM -0700",
	"2 Jan 2006 3:04 PM -0700",
	"Jan 2 2006 15:04:05 -0700",
	"Jan 2, 2006 15:04:05 -0700",
	"Jan 2 15:04:05 -0700 2006",
	"Jan 2 2006 3:04:05 PM -0700",
	"Jan 2, 2006 3:04 PM -0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 Z07:00",
}

// localLayouts carry no zone, so the partner's time zone applies.
var localLayouts = []string{
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 2006 3:04:05 PM",
	"2 Jan 2006 3:04 PM",
	"2 Jan 2006",
	"Jan 2 2006 15:04:05",
	"Jan 2 2006 3:04:05 PM",
	"Jan 2 2006 3:04 PM",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006",
	"Jan 2 2006",
	"Jan 2 15:04:05 2006",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2.1.2006",
	"2006 Jan 2 15:04",
	"2006 Jan 2",
}

// zoneOffsets maps the zone abbreviations seen in feeds to their offsets.
// Ambiguous names such as IST are left out, so dates using them fail to
// parse rather than land hours off.
var zoneOffsets = map[string]string{
	"Z": "+0000", "UT": "+0000", "UTC": "+0000", "GMT": "+0000",
	"WET": "+0000", "WEST": "+0100", "BST": "+0100",
	"CET": "+0100", "CEST": "+0200", "MET": "+0100", "MEST": "+0200",
	"EET": "+0200", "EEST": "+0300", "MSK": "+0300",
	"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
	"MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
	"AKST": "-0900", "AKDT": "-0800", "HST": "-1000",
	"JST": "+0900", "KST": "+0900", "AEST": "+1000", "AEDT": "+1100",
	"NZST": "+1200", "NZDT": "+1300",
}

// monthNames maps English, French, German, Dutch, Polish, Lithuanian,
// Spanish, Italian and Portuguese month names and abbreviations, lower
// case, to the English abbreviation Go's layouts expect. Polish and
// Lithuanian names appear in the nominative and the genitive, which dates
// use ("12 czerwca", "birželio 12").
var monthNames = buildMonthNames([12]string{
	"jan january janv janvier januar jänner januari ene enero gen gennaio janeiro " +
		"sty styczeń stycznia sausis sausio",
	"feb february févr fevr février fevrier februar februari febrero febbraio fev fevereiro " +
		"lut luty lutego vasaris vasario",
	"mar march mars märz maerz mär maart mrt marzo março marco marzec marca kovas kovo",
	"apr april avr avril abr abril aprile kwi kwiecień kwietnia balandis balandžio",
	"may mai mei mayo mag maggio maio maj maja gegužė gegužės",
	"jun june juin juni junio giu giugno junho cze czerwiec czerwca birželis birželio",
	"jul july juil juillet juli julio lug luglio julho lip lipiec lipca liepa liepos",
	"aug august août aout augustus ago agosto sie sierpień sierpnia rugpjūtis rugpjūčio",
	"sep sept september septembre set settembre septiembre setembro " +
		"wrz wrzesień września rugsėjis rugsėjo",
	"oct october octobre okt oktober octubre ott ottobre out outubro " +
		"paź październik października spalis spalio",
	"nov november novembre noviembre novembro lis listopad listopada lapkritis lapkričio",
	"dec december déc dec décembre decembre dez dezember dic diciembre dicembre dezembro " +
		"gru grudzień grudnia gruodis gruodžio",
})

func buildMonthNames(rows [12]string) map[string]string {
	abbr := [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	names := make(map[string]string)
	for m, row := range rows {
		for _, name := range strings.Fields(row) {
			names[name] = abbr[m]
		}
	}
	return names
}

// weekdayNames lists weekday names and abbreviations in the same
// languages. A leading weekday is dropped because it repeats the date and
// is often wrong.
var weekdayNames = strings.Fields("mon monday tue tues tuesday wed wednesday thu thur thurs thursday " +
	"fri friday sat saturday sun sunday lun lundi mardi mer mercredi jeu jeudi ven vendredi " +
	"sam samedi dim dimanche mo montag di dienstag mi mittwoch do donnerstag fr freitag " +
	"sa samstag so sonntag mar mié jue vie sáb dom seg ter qua qui sex sab gio " +
	"ma maandag dinsdag wo woensdag donderdag vr vrijdag za zaterdag zo zondag " +
	"pon poniedziałek wt wtorek śr środa czw czwartek pt piątek sob sobota nd niedz niedziela " +
	"pirmadienis antradienis trečiadienis ketvirtadienis penktadienis šeštadienis sekmadienis")

var (
	zoneComment   = regexp.MustCompile(`\s*\([^)]*\)\s*$`)
	gluedMeridiem = regexp.MustCompile(`(?i)(\d)\s*([ap])\.?m\.?(\s|$)`)
	gmtOffset     = regexp.MustCompile(`(?i)\b(?:GMT|UTC)([+-]\d{2}:?\d{2})\b`)
	shortOffset   = regexp.MustCompile(`(\s[+-])(\d{3})$`)
)

// zoneState is the way a parsed date got its zone.
type zoneState int

const (
	zoneGiven   zoneState = iota // the date named a known zone or offset
	zoneAssumed                  // the date had no zone
	zoneUnknown                  // the date named a zone we cannot resolve
)

// trailingZoneName matches a final zone abbreviation such as "XYZ".
var trailingZoneName = regexp.MustCompile(`\s([A-Z]{2,5})$`)

// parseDate reads a feed date. A date without a zone is read in loc. It
// reports whether the zone was assumed and whether parsing succeeded.
func parseDate(raw string, loc *time.Location) (time.Time, bool, bool) {
	t, zone, ok := parseDateZone(raw, loc)
	return t, zone != zoneGiven, ok
}

// parseDateZone reads a feed date and reports how its zone was found. A
// date that names an unknown or ambiguous zone abbreviation is read
// without it, in loc, and reported as zoneUnknown rather than as UTC.
func parseDateZone(raw string, loc *time.Location) (time.Time, zoneState, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s := strings.Join(strings.Fields(raw), " ")
	if s == "" {
		return time.Time{}, zoneGiven, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), zoneGiven, true
	}
	// Most RSS dates follow RFC 1123 with a numeric zone, which needs
	// none of the rewriting below.
	if t, err := time.Parse(time.RFC1123Z, s); err == nil {
		return t.UTC(), zoneGiven, true
	}
	return parseSpelledDate(s, loc)
}

// parseSpelledDate is parseDateZone for a date in any other spelling,
// with its blanks already collapsed.
func parseSpelledDate(s string, loc *time.Location) (time.Time, zoneState, bool) {
	s = normalizeDate(s)
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), zoneGiven, true
		}
	}
	if t, ok := parseLocal(s, loc); ok {
		return t, zoneAssumed, true
	}
	if m := trailingZoneName.FindStringSubmatch(s); m != nil {
		if t, ok := parseLocal(strings.TrimSuffix(s, m[0]), loc); ok {
			return t, zoneUnknown, true
		}
	}
	return time.Time{}, zoneGiven, false
}

func parseLocal(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Local spellings of dates, rewritten before the layouts are tried.
var (
	// lithuanianDate is "2026 m. birželio 12 d." (year, month, day).
	lithuanianDate = regexp.MustCompile(`(?i)\b(\d{4})\s*m\.\s*(\pL+)\s+(\d{1,2})\s*d\.,?`)
	// dayWithDot is the German and Polish "12." before a month name.
	dayWithDot = regexp.MustCompile(`(^|\s)(\d{1,2})\.\s+(\pL)`)
	// timeWords are words between the date and the time or after the
	// time: "à", "um", "Uhr", "godz.", "val.", a comma after the year.
	timeWords = regexp.MustCompile(`(?i)(\d{4}),?\s+(?:à|a|um|om|o|godz\.|g\.|val\.)\s+|\s+(?:uhr|h)$`)
	// frenchHour is "10h00" or "10 h 00".
	frenchHour = regexp.MustCompile(`(\d{1,2})\s*h\s*(\d{2})\b`)
	// yearComma is the comma in "12 Juni 2026, 10:00".
	yearComma = regexp.MustCompile(`\b(\d{4}),(\s)`)
)

// normalizeDate rewrites the parts of a date that vary between feeds into
// the one spelling the layouts use.
func normalizeDate(s string) string {
	s = lithuanianDate.ReplaceAllString(s, "$1 $2 $3")
	s = dayWithDot.ReplaceAllString(s, "$1$2 $3")
	s = timeWords.ReplaceAllString(s, "$1 ")
	s = frenchHour.ReplaceAllString(s, "$1:$2")
	s = yearComma.ReplaceAllString(s, "$1$2")
	s = zoneComment.ReplaceAllString(s, "")
	s = gmtOffset.ReplaceAllString(s, "$1")
	s = gluedMeridiem.ReplaceAllStringFunc(s, func(m string) string {
		sub := gluedMeridiem.FindStringSubmatch(m)
		return sub[1] + " " + strings.ToUpper(sub[2]) + "M" + sub[3]
	})
	fields := strings.Fields(s)
	if len(fields) > 1 && isLeadingWeekday(fields) {
		fields = fields[1:]
	}
	for k, f := range fields {
		fields[k] = normalizeDateField(f)
	}
	s = strings.Join(fields, " ")
	s = strings.ReplaceAll(s, " ,", ",")
	return shortOffset.ReplaceAllString(s, "${1}0$2")
}

func normalizeDateField(f string) string {
	word := strings.TrimRight(f, ",.")
	suffix := f[len(word):]
	if m, ok := monthNames[strings.ToLower(word)]; ok {
		return m + strings.TrimSuffix(suffix, ".")
	}
	if off, ok := zoneOffsets[strings.ToUpper(word)]; ok && word == strings.ToUpper(word) {
		return off
	}
	return f
}

// isLeadingWeekday reports whether the first field is a weekday. "mar"
// is both a weekday (French, Spanish) and a month, so it counts as a
// weekday only when punctuated ("mar,") or followed by another month.
func isLeadingWeekday(fields []string) bool {
	if !isWeekday(fields[0]) {
		return false
	}
	if _, month := monthNames[strings.ToLower(fields[0])]; !month {
		return true
	}
	for _, f := range fields[1:] {
		if _, ok := monthNames[strings.ToLower(strings.TrimRight(f, ",."))]; ok {
			return true
		}
	}
	return false
}

func isWeekday(f string) bool {
	word := strings.ToLower(strings.TrimRight(f, ",."))
	for _, w := range weekdayNames {
		if w == word {
			return true
		}
	}
	return false
}
