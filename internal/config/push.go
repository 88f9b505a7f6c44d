package config

// Push is the section of the partner intake API (POST /api/v1/items).
type Push struct {
	Enabled bool `yaml:"enabled"`
	// MaxBody caps one request body. A larger body is rejected with 413,
	// never truncated.
	MaxBody ByteSize `yaml:"max_body"`
	// MaxItems caps the items of one request.
	MaxItems int `yaml:"max_items"`
	// Rate is the number of items one partner may push per minute.
	Rate int `yaml:"rate"`
}
