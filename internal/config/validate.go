package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate runs the validator of every key, on each element of the lists,
// and the cross-checks between keys. It returns nil or an error wrapping
// ErrInvalidConfig that joins one *FieldError per problem. Unlike Load, it
// fills no defaults and resolves no relative file: URL, so it suits a
// Config built in Go.
func (c *Config) Validate() error {
	return joinProblems(validate(c, nil))
}

func validate(c *Config, sources map[string]string) []error {
	var errs []error
	walkValue(reflect.ValueOf(c).Elem(), keyPath{}, func(f fieldRef) {
		if f.key == nil || f.key.Validate == nil {
			return
		}
		if err := f.key.Validate(f.value.Interface()); err != nil {
			errs = append(errs, validationError(f, err, sources))
		}
	})
	return append(errs, crossCheck(c, sources)...)
}

func validationError(f fieldRef, err error, sources map[string]string) *FieldError {
	problem := &FieldError{Source: sources[f.path.index], Key: f.path.display}
	var element *elementError
	switch {
	case errors.As(err, &element):
		problem.Key += "[" + strconv.Itoa(element.index) + "]"
		problem.Message = fmt.Sprintf("invalid value %q: %s", element.value, element.fix)
	case isList(f.value.Type()):
		problem.Message = err.Error()
	default:
		problem.Message = fmt.Sprintf("invalid value %s: %s", formatValue(f.path.pattern, f.value), err)
	}
	return problem
}

// formatValue formats a leaf value the way the config file spells it, with
// secrets masked.
func formatValue(pattern string, v reflect.Value) string {
	switch value := v.Interface().(type) {
	case string:
		return displayValue(pattern, value)
	case time.Duration:
		return formatDuration(value)
	case []string:
		return "[" + strings.Join(value, ", ") + "]"
	default:
		return fmt.Sprint(value)
	}
}

// displayValue quotes a string value for an error message. Secrets appear
// with their user information and query values masked.
func displayValue(pattern, value string) string {
	if key := keyFor(pattern); key != nil && key.Secret {
		return strconv.Quote(maskURLs(value))
	}
	return strconv.Quote(value)
}

// crossCheck runs the checks that involve more than one key.
func crossCheck(c *Config, sources map[string]string) []error {
	check := &crossChecker{sources: sources}
	check.intervals(c)
	check.partners(c)
	check.channels(c)
	check.digests(c)
	check.retention(c)
	return check.errs
}

type crossChecker struct {
	sources map[string]string
	errs    []error
}

func (cc *crossChecker) add(index, display, format string, args ...any) {
	cc.errs = append(cc.errs, &FieldError{
		Source:  cc.sources[index],
		Key:     display,
		Message: fmt.Sprintf(format, args...),
	})
}

func (cc *crossChecker) intervals(c *Config) {
	if c.Fetch.MinInterval > c.Fetch.MaxInterval {
		cc.add("fetch.max_interval", "fetch.max_interval",
			"invalid value %s: use a duration of at least fetch.min_interval (%s)",
			formatDuration(c.Fetch.MaxInterval), formatDuration(c.Fetch.MinInterval))
	}
	if c.NATS.DuplicateWindow > c.NATS.MaxAge {
		cc.add("nats.duplicate_window", "nats.duplicate_window",
			"invalid value %s: use a duration no longer than nats.max_age (%s)",
			formatDuration(c.NATS.DuplicateWindow), formatDuration(c.NATS.MaxAge))
	}
}

func (cc *crossChecker) partners(c *Config) {
	seen := map[string]int{}
	labels := elementLabels("partners", partnerIDs(c))
	for i, p := range c.Partners {
		if first, ok := seen[p.ID]; ok && p.ID != "" {
			cc.add(fmt.Sprintf("partners[%d].id", i), fmt.Sprintf("partners[%d].id", i),
				"duplicate id %q, also used by partners[%d]: give each partner a unique id", p.ID, first)
		} else {
			seen[p.ID] = i
		}
		cc.feeds(c, i, labels[i], p)
	}
}

func partnerIDs(c *Config) []string {
	ids := make([]string, len(c.Partners))
	for i, p := range c.Partners {
		ids[i] = p.ID
	}
	return ids
}

func (cc *crossChecker) feeds(c *Config, i int, label string, p Partner) {
	prefix := fmt.Sprintf("partners[%s].feeds", label)
	indexPrefix := fmt.Sprintf("partners[%d].feeds", i)
	seen := map[string]int{}
	for j, f := range p.Feeds {
		index := fmt.Sprintf("%s[%d]", indexPrefix, j)
		display := fmt.Sprintf("%s[%d]", prefix, j)
		if first, ok := seen[f.ID]; ok && f.ID != "" {
			cc.add(index+".id", display+".id",
				"duplicate id %q, also used by feeds[%d]: give each feed of the partner a unique id", f.ID, first)
		} else {
			seen[f.ID] = j
		}
		if u, err := url.Parse(f.URL); err == nil && u.Scheme == "file" && !c.Fetch.AllowFileURLs {
			cc.add(index+".url", display+".url",
				"invalid value %q: file: URLs are disabled, so set fetch.allow_file_urls to true or use an http(s) URL", f.URL)
		}
		if f.Interval > 0 && (f.Interval < c.Fetch.MinInterval || f.Interval > c.Fetch.MaxInterval) {
			cc.add(index+".interval", display+".interval",
				"invalid value %s: use a duration from fetch.min_interval (%s) to fetch.max_interval (%s)",
				formatDuration(f.Interval), formatDuration(c.Fetch.MinInterval), formatDuration(c.Fetch.MaxInterval))
		}
	}
}

func (cc *crossChecker) channels(c *Config) {
	ids := partnerIDs(c)
	seen := map[string]int{}
	channelIDs := make([]string, len(c.Channels))
	for i, ch := range c.Channels {
		channelIDs[i] = ch.ID
	}
	labels := elementLabels("channels", channelIDs)
	for i, ch := range c.Channels {
		index := fmt.Sprintf("channels[%d]", i)
		if first, ok := seen[ch.ID]; ok && ch.ID != "" {
			cc.add(index+".id", index+".id",
				"duplicate id %q, also used by channels[%d]: give each channel a unique id", ch.ID, first)
		} else {
			seen[ch.ID] = i
		}
		cc.perPartnerCap(index, "channels["+labels[i]+"]", "channels[]", ch.MaxItemsPerPartner, ch.MaxItems)
		for j, id := range ch.Filter.Partners {
			// Malformed ids already failed the key's own validator.
			if slices.Contains(ids, id) || identifier(id) != nil {
				continue
			}
			cc.add(index+".filter.partners", fmt.Sprintf("channels[%s].filter.partners[%d]", labels[i], j),
				"unknown partner %q: %s", id, knownPartnersHint(ids))
		}
	}
}

// perPartnerCap checks that the max_items_per_partner of the channel or
// digest at index is not above its max_items. A value that fails the
// validator of either key is left to that validator, so one mistake gets
// one message.
func (cc *crossChecker) perPartnerCap(index, display, pattern string, perPartner, maxItems int) {
	if perPartner <= maxItems || !passes(pattern+".max_items", maxItems) || !passes(pattern+".max_items_per_partner", perPartner) {
		return
	}
	cc.add(index+".max_items_per_partner", display+".max_items_per_partner",
		"invalid value %d: use a whole number from 0 to max_items (%d)", perPartner, maxItems)
}

// passes reports whether value passes the validator of the key with the
// given pattern path.
func passes(pattern string, value any) bool {
	k := keyFor(pattern)
	return k == nil || k.Validate == nil || k.Validate(value) == nil
}

func knownPartnersHint(ids []string) string {
	if len(ids) == 0 {
		return "no partners are configured, so add the partner under partners or remove it from the filter"
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return "use the id of a configured partner (" + strings.Join(slices.Compact(ids), ", ") + ")"
}
