// Command gendoc writes the configuration reference to standard output:
//
//	go run ./internal/config/gendoc > docs/configuration.md
package main

import (
	"fmt"

	"github.com/syndic-network/syndic/internal/config"
)

func main() {
	fmt.Print(config.Markdown())
}
