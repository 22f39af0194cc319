package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/internal/codec"
)

// recordPoll saves one poll's feed state and entries, and ends the feed's
// lease. It returns the edits the clustering must follow (see
// saveEntries).
func recordPoll(ctx context.Context, tx pgx.Tx, r store.PollResult, st *store.SaveStats) ([]store.Edit, error) {
	// The row stays locked to the end of the transaction: another
	// instance's save of the same feed (a lease that ran out during a
	// slow poll) waits, then finds the state this one left.
	f, err := findFeed(ctx, tx, "f.id = $1 FOR UPDATE", r.FeedID)
	if errors.Is(err, store.ErrNotFound) {
		// Removed while it was being polled: nothing to save, and no
		// reason to fail the other feeds of the batch.
		st.FeedGone = true
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	url, secret := f.URL, f.Secret
	if newURL, newSecret := feeds.SplitSecrets(r.NewURL); newURL != "" && newURL != f.URL {
		if _, err := findFeed(ctx, tx, "f.url = $1", newURL); err == nil {
			st.URLConflict = true
		} else if errors.Is(err, store.ErrNotFound) {
			url, secret = newURL, codec.MovedSecret(f.URL, newURL, f.Secret, newSecret)
		} else {
			return nil, err
		}
	}
	var c conds
	for _, col := range codec.FeedColumns(f, r, url, secret, st) {
		c.add(col.Name+" = %s", col.Value)
	}
	c.list = append(c.list, "lease_owner = ''", "lease_until = 0")
	c.args = append(c.args, r.FeedID)
	if _, err := tx.Exec(ctx, fmt.Sprintf("UPDATE feeds SET %s WHERE id = $%d", strings.Join(c.list, ", "), len(c.args)), c.args...); err != nil {
		return nil, fmt.Errorf("update feed: %w", err)
	}
	if r.Err != "" || r.NotModified || len(r.Entries) == 0 {
		return nil, nil
	}
	lang := r.Language
	if lang == "" {
		lang = f.Language
	}
	return saveEntries(ctx, tx, r.FeedID, lang, r.PolledAt, r.Entries, st)
}

// existingEntry is what saveEntries needs of a stored entry.
type existingEntry struct {
	id        int64
	hash      []byte
	published int64
}

// newEntries are the columns of the entries a poll adds, as arrays: one
// INSERT ... SELECT FROM unnest adds them all in one round trip.
type newEntries struct {
	guid, link, title, summary, content, text, author, cats, lang, image []string
	published, updated                                                   []int64
	hash                                                                 [][]byte
}

// saveEntries upserts a poll's entries: one query looks up the stored ones,
// one statement inserts the new ones and lists them as pending for the
// clustering, and the changed ones are updated in one batch. It returns
// the edits of entries clustered already, with their earlier version.
func saveEntries(ctx context.Context, tx pgx.Tx, feedID int64, feedLang string, now time.Time, es []feeds.Entry, st *store.SaveStats) ([]store.Edit, error) {
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
	guids := make([]string, len(uniq))
	for i, e := range uniq {
		guids[i] = e.ID
	}
	existing := make(map[string]existingEntry, len(uniq))
	rows, err := tx.Query(ctx, "SELECT guid, id, content_hash, published_at FROM entries WHERE feed_id = $1 AND guid = ANY($2)", feedID, guids)
	if err != nil {
		return nil, fmt.Errorf("look up entries: %w", err)
	}
	var guid string
	var x existingEntry
	if _, err := pgx.ForEachRow(rows, []any{&guid, &x.id, &x.hash, &x.published}, func() error {
		existing[guid] = x
		return nil
	}); err != nil {
		return nil, fmt.Errorf("look up entries: %w", err)
	}

	nowMS := ms(now)
	var add newEntries
	type update struct {
		e    feeds.Entry
		id   int64
		lang string
		cats string
		pub  int64
		hash []byte
	}
	var updates []update
	for _, e := range uniq {
		lang := e.Language
		if lang == "" {
			lang = feedLang
		}
		catsJSON, _ := json.Marshal(nonNil(e.Categories))
		cats := string(catsJSON)
		h := codec.EntryHash(e, lang)
		pub := ms(e.Published)
		if e.Published.IsZero() {
			pub = nowMS
		}
		old, ok := existing[e.ID]
		switch {
		case !ok:
			add.guid = append(add.guid, e.ID)
			add.link = append(add.link, e.Link)
			add.title = append(add.title, e.Title)
			add.summary = append(add.summary, e.Summary)
			add.content = append(add.content, e.Content)
			add.text = append(add.text, e.Text)
			add.author = append(add.author, e.Author)
			add.cats = append(add.cats, cats)
			add.lang = append(add.lang, lang)
			add.image = append(add.image, e.Image)
			add.published = append(add.published, pub)
			add.updated = append(add.updated, ms(e.Updated))
			add.hash = append(add.hash, h)
			st.New++
		case string(old.hash) == string(h):
			st.Unchanged++
		default:
			if e.Published.IsZero() || e.Undated {
				// An undated entry keeps the time we first saw it.
				pub = old.published
			}
			// A story edited without a date of its own for the edit is
			// updated as of this poll, so that readers see it change.
			if e.Updated.IsZero() {
				e.Updated = now
			}
			updates = append(updates, update{e: e, id: old.id, lang: lang, cats: cats, pub: pub, hash: h})
			st.Updated++
		}
	}

	if len(add.guid) > 0 {
		// Pending in the same statement: the clustering takes them in
		// time order with everything else fetched.
		if _, err := tx.Exec(ctx, `WITH added AS (
			INSERT INTO entries (feed_id, guid, link, title, summary, content, text, author, categories,
				language, image, published_at, updated_at, first_seen_at, content_hash)
			SELECT $1, guid, link, title, summary, content, text, author, categories,
				language, image, published_at, updated_at, $2, content_hash
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bytea[])
				WITH ORDINALITY AS n (guid, link, title, summary, content, text, author, categories,
					language, image, published_at, updated_at, content_hash, i)
			ORDER BY i
			RETURNING id)
			INSERT INTO pending_entries (entry_id) SELECT id FROM added`,
			feedID, nowMS, add.guid, add.link, add.title, add.summary, add.content, add.text, add.author,
			add.cats, add.lang, add.image, add.published, add.updated, add.hash); err != nil {
			return nil, fmt.Errorf("insert entries: %w", err)
		}
	}
	if len(updates) == 0 {
		return nil, nil
	}

	// The clustered words of the edited entries before the edit.
	ids := make([]int64, len(updates))
	for i, u := range updates {
		ids[i] = u.id
	}
	type before struct {
		was     cluster.Document
		pending bool
	}
	befores := make(map[int64]before, len(updates))
	// Which of them are still pending, locking those marks: the instance
	// clustering holds the marks of the stories it is clustering, so this
	// waits for it, then finds the story clustered and reports the edit.
	rows, err = tx.Query(ctx, `SELECT entry_id FROM pending_entries WHERE entry_id = ANY($1) FOR SHARE`, ids)
	if err != nil {
		return nil, fmt.Errorf("update entries: %w", err)
	}
	pending, err := collect(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("update entries: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT id, title, text, link, language FROM entries WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("update entries: %w", err)
	}
	var id int64
	var b before
	if _, err := pgx.ForEachRow(rows, []any{&id, &b.was.Title, &b.was.Text, &b.was.Link, &b.was.Language}, func() error {
		befores[id] = b
		return nil
	}); err != nil {
		return nil, fmt.Errorf("update entries: %w", err)
	}
	for _, id := range pending {
		b := befores[id]
		b.pending = true
		befores[id] = b
	}
	var edits []store.Edit
	var batch pgx.Batch
	for _, u := range updates {
		e, b := u.e, befores[u.id]
		if !b.pending && (b.was.Title != e.Title || b.was.Text != e.Text || b.was.Link != e.Link || b.was.Language != u.lang) {
			// The words the clustering counted changed.
			was := b.was
			was.ID = fmt.Sprint(u.id)
			edits = append(edits, store.Edit{EntryID: u.id, Was: was, Now: cluster.Document{
				ID: was.ID, Title: e.Title, Text: e.Text, Link: e.Link, Language: u.lang, Time: fromMS(u.pub)}})
		}
		batch.Queue(`UPDATE entries SET link = $1, title = $2, summary = $3, content = $4, text = $5,
			author = $6, categories = $7, language = $8, published_at = $9, updated_at = $10, content_hash = $11, image = $12
			WHERE id = $13`, e.Link, e.Title, e.Summary, e.Content, e.Text,
			e.Author, u.cats, u.lang, u.pub, ms(e.Updated), u.hash, e.Image, u.id)
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, fmt.Errorf("update entries: %w", err)
	}
	return edits, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
