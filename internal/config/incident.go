package config

// optionalEmailAddress accepts an empty value or a valid address.
func optionalEmailAddress(v any) error {
	if v.(string) == "" {
		return nil
	}
	return emailAddress(v)
}
