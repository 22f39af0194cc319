package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/storyline/storyline/store"
)

// TopicOutlets returns, for each of the given topics, its outlets (see
// store.OutletCount) with their number of stories, most stories first
// (then by title). It is one
// query for all of them: a page of storylines shows every topic's
// outlets.
func (d *DB) TopicOutlets(ctx context.Context, topicIDs []int64) (map[int64][]store.OutletCount, error) {
	out := make(map[int64][]store.OutletCount, len(topicIDs))
	if len(topicIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(topicIDs))
	for i, id := range topicIDs {
		args[i] = id
	}
	rows, err := d.db.QueryContext(ctx, `SELECT te.topic_id, MIN(f.id), `+feedTitle+` AS name,
		COUNT(DISTINCT NULLIF(e.link, '')) + SUM(CASE WHEN e.link = '' THEN 1 ELSE 0 END) AS n
		FROM topic_entries te JOIN entries e ON e.id = te.entry_id JOIN feeds f ON f.id = e.feed_id
		WHERE te.topic_id IN (?`+strings.Repeat(", ?", len(topicIDs)-1)+`)
		GROUP BY te.topic_id, name ORDER BY te.topic_id, n DESC, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: topic outlets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic int64
		var oc store.OutletCount
		if err := rows.Scan(&topic, &oc.FeedID, &oc.Title, &oc.Stories); err != nil {
			return nil, fmt.Errorf("store: topic outlets: %w", err)
		}
		out[topic] = append(out[topic], oc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: topic outlets: %w", err)
	}
	return out, nil
}
