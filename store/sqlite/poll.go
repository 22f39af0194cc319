package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// recordPoll saves one poll's feed state and entries and returns the
// edits the clustering must follow and the first new entry's ID (see
// saveEntries).
func recordPoll(ctx context.Context, tx *sql.Tx, r store.PollResult, st *store.SaveStats) ([]store.Edit, int64, error) {
	f, err := findFeed(ctx, tx, "f.id = ?", r.FeedID)
	if errors.Is(err, store.ErrNotFound) {
		// Removed while it was being polled: nothing to save, and no
		// reason to fail the other feeds of the batch.
		st.FeedGone = true
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	url, secret := f.URL, f.Secret
	if newURL, newSecret := feeds.SplitSecrets(r.NewURL); newURL != "" && newURL != f.URL {
		if _, err := findFeed(ctx, tx, "f.url = ?", newURL); err == nil {
			st.URLConflict = true
		} else if errors.Is(err, store.ErrNotFound) {
			url, secret = newURL, codec.MovedSecret(f.URL, newURL, f.Secret, newSecret)
		} else {
			return nil, 0, err
		}
	}
	var set []string
	var args []any
	for _, c := range codec.FeedColumns(f, r, url, secret, st) {
		set, args = append(set, c.Name+" = ?"), append(args, c.Value)
	}
	args = append(args, r.FeedID)
	if _, err := tx.ExecContext(ctx, "UPDATE feeds SET "+strings.Join(set, ", ")+" WHERE id = ?", args...); err != nil {
		return nil, 0, fmt.Errorf("update feed: %w", err)
	}
	if r.Err != "" || r.NotModified || len(r.Entries) == 0 {
		return nil, 0, nil
	}
	lang := r.Language
	if lang == "" {
		lang = f.Language
	}
	return saveEntries(ctx, tx, r.FeedID, lang, r.PolledAt, r.Entries, st)
}

type existingEntry struct {
	id        int64
	hash      []byte
	published int64
}

// saveEntries upserts a poll's entries with one lookup query for the whole
// batch, then one prepared statement execution per new or changed entry.
// The new ones are listed as pending, for the clustering (Tx.PendingDocs).
// It returns the edited ones that were clustered already, with their
// earlier version, and the first new entry's ID, from which the
// transaction indexes them for search (writeTx.indexNew).
func saveEntries(ctx context.Context, tx *sql.Tx, feedID int64, feedLang string, now time.Time, es []feeds.Entry, st *store.SaveStats) ([]store.Edit, int64, error) {
	// A feed may repeat an id; the last occurrence wins, as a reader would show it.
	seen := make(map[string]int, len(es))
	uniq := es[:0:0]
	for _, e := range es {
		if i, ok := seen[e.ID]; ok {
			uniq[i] = e
			continue
		}
		seen[e.ID] = len(uniq)
		uniq = append(uniq, e)
	}
	existing, err := lookupEntries(ctx, tx, feedID, uniq)
	if err != nil {
		return nil, 0, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO entries (feed_id, guid, link, title, summary, content, text,
		author, categories, language, published_at, updated_at, first_seen_at, content_hash, image)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, 0, err
	}
	defer ins.Close()
	upd, err := tx.PrepareContext(ctx, `UPDATE entries SET link = ?, title = ?, summary = ?, content = ?, text = ?,
		author = ?, categories = ?, language = ?, published_at = ?, updated_at = ?, content_hash = ?, image = ?
		WHERE id = ?`)
	if err != nil {
		return nil, 0, err
	}
	defer upd.Close()
	before, err := tx.PrepareContext(ctx, `SELECT title, text, link, language,
		EXISTS (SELECT 1 FROM pending_entries p WHERE p.entry_id = entries.id) FROM entries WHERE id = ?`)
	if err != nil {
		return nil, 0, err
	}
	defer before.Close()
	nowMS := ms(now)
	var edits []store.Edit
	var firstNew int64 // the ID of the first entry inserted; later ones are larger
	for _, e := range uniq {
		lang := e.Language
		if lang == "" {
			lang = feedLang
		}
		cats, _ := json.Marshal(nonNil(e.Categories))
		h := codec.EntryHash(e, lang)
		pub := ms(e.Published)
		if e.Published.IsZero() {
			pub = nowMS
		}
		old, ok := existing[e.ID]
		switch {
		case !ok:
			res, err := ins.ExecContext(ctx, feedID, e.ID, e.Link, e.Title, e.Summary, e.Content, e.Text,
				e.Author, string(cats), lang, pub, ms(e.Updated), nowMS, h, e.Image)
			if err != nil {
				return nil, 0, fmt.Errorf("insert entry %q: %w", e.ID, err)
			}
			if firstNew == 0 {
				if firstNew, err = res.LastInsertId(); err != nil {
					return nil, 0, fmt.Errorf("insert entry %q: %w", e.ID, err)
				}
			}
			st.New++
		case string(old.hash) == string(h):
			st.Unchanged++
		default:
			if e.Published.IsZero() || e.Undated {
				// An undated entry keeps the time we first saw it.
				pub = old.published
			}
			var was cluster.Document
			var pending bool
			if err := before.QueryRowContext(ctx, old.id).Scan(&was.Title, &was.Text, &was.Link, &was.Language, &pending); err != nil {
				return nil, 0, fmt.Errorf("update entry %q: %w", e.ID, err)
			}
			if !pending && (was.Title != e.Title || was.Text != e.Text || was.Link != e.Link || was.Language != lang) {
				// The words the clustering counted changed.
				was.ID = fmt.Sprint(old.id)
				edits = append(edits, store.Edit{EntryID: old.id, Was: was, Now: cluster.Document{
					ID: was.ID, Title: e.Title, Text: e.Text, Link: e.Link, Language: lang, Time: fromMS(pub)}})
			}
			// A story edited without a date of its own for the edit is
			// updated as of this poll, so that readers see it change.
			if _, err := upd.ExecContext(ctx, e.Link, e.Title, e.Summary, e.Content, e.Text,
				e.Author, string(cats), lang, pub, cmp.Or(ms(e.Updated), nowMS), h, e.Image, old.id); err != nil {
				return nil, 0, fmt.Errorf("update entry %q: %w", e.ID, err)
			}
			st.Updated++
		}
	}
	if firstNew != 0 {
		// The new entries enter the pending list in one statement rather
		// than one per row; the full-text index takes them later
		// (writeTx.indexNew).
		if _, err := tx.ExecContext(ctx, "INSERT INTO pending_entries (entry_id) SELECT id FROM entries WHERE id >= ?", firstNew); err != nil {
			return nil, 0, fmt.Errorf("queue new entries for clustering: %w", err)
		}
	}
	return edits, firstNew, nil
}

func lookupEntries(ctx context.Context, tx *sql.Tx, feedID int64, es []feeds.Entry) (map[string]existingEntry, error) {
	out := make(map[string]existingEntry, len(es))
	// SQLite allows 32766 parameters; stay far below in chunks.
	const chunk = 500
	for start := 0; start < len(es); start += chunk {
		end := min(start+chunk, len(es))
		args := make([]any, 0, end-start+1)
		args = append(args, feedID)
		for _, e := range es[start:end] {
			args = append(args, e.ID)
		}
		q := "SELECT guid, id, content_hash, published_at FROM entries WHERE feed_id = ? AND guid IN (?" +
			strings.Repeat(", ?", end-start-1) + ")"
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("look up entries: %w", err)
		}
		for rows.Next() {
			var guid string
			var x existingEntry
			if err := rows.Scan(&guid, &x.id, &x.hash, &x.published); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up entries: %w", err)
			}
			out[guid] = x
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("look up entries: %w", err)
		}
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
