package sqlite

import (
	"database/sql/driver"
	"fmt"

	"github.com/storyline/storyline/store/internal/searchtext"
	"modernc.org/sqlite"
)

// The full-text index holds searchtext.Index of an entry's title and text
// (migration 0012); SQL reaches it as storyline_search_text, registered
// with the driver for every connection this program opens, before any.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("storyline_search_text", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return searchtext.Index(v), nil
			case nil:
				return "", nil
			default:
				return nil, fmt.Errorf("storyline_search_text: want text, got %T", v)
			}
		})
}
